#!/usr/bin/env bash
# Distributed training with torchrun: bash tools/dist_train.sh CONFIG NPROC [ARGS...]
# NCCL on GPUs (one process per GPU); gloo on CPU-only machines.
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 bash tools/dist_train.sh ...
set -euo pipefail
TOOLS=$(dirname "$0")
exec bash "$TOOLS/dist_launch.sh" "$TOOLS/train.py" "$2" "$1" \
    --launcher pytorch "${@:3}"
