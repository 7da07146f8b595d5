#!/usr/bin/env bash
# Stage-1 export on many GPUs with torchrun, the videos split across processes:
#   bash tools/dist_export_stage1.sh CONFIG CHECKPOINT NPROC [ARGS...]
# NCCL on GPUs (one process per GPU); gloo on CPU-only machines (add --device cpu).
# Resumable: rerun the same command (any NPROC) after a crash.
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 bash tools/dist_export_stage1.sh ...
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$(dirname "$0")/export_stage1.py" \
    "$CONFIG" "$CHECKPOINT" "${@:4}"
