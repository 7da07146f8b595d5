#!/usr/bin/env bash
# Distributed testing with torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT NPROC [ARGS...]
# NCCL on GPUs (one process per GPU); gloo on CPU-only machines.
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 bash tools/dist_test.sh ...
set -euo pipefail
TOOLS=$(dirname "$0")
exec bash "$TOOLS/dist_launch.sh" "$TOOLS/test.py" "$3" "$1" "$2" \
    --launcher pytorch "${@:4}"
