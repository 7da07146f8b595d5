#!/usr/bin/env bash
# Stage-1 export on many GPUs with torchrun, the videos split across processes:
#   bash tools/dist_export_stage1.sh CONFIG CHECKPOINT NPROC [ARGS...]
# NCCL on GPUs (one process per GPU); gloo on CPU-only machines (add --device cpu).
# Resumable: rerun the same command (any NPROC) after a crash.
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 bash tools/dist_export_stage1.sh ...
set -euo pipefail
TOOLS=$(dirname "$0")
exec bash "$TOOLS/dist_launch.sh" "$TOOLS/export_stage1.py" "$3" "$1" "$2" \
    "${@:4}"
