#!/usr/bin/env bash
# Lint and tests, in the environment made by tools/quickstart.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY -m flake8 astf_mm tools tests configs benchmarks
$PY -m isort --check-only --diff astf_mm tools tests benchmarks
# layers point one way (contract in setup.cfg); --no-cache writes nothing
.venv/bin/lint-imports --no-cache --no-logo
# the slowest tests, to keep the CI run short
$PY -m pytest -q -p no:cacheprovider --durations=15 tests "$@"
