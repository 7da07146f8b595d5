#!/usr/bin/env bash
# The torchrun launch shared by dist_train.sh, dist_test.sh and
# dist_export_stage1.sh: bash tools/dist_launch.sh SCRIPT NPROC [ARGS...]
# NCCL on GPUs (one process per GPU); gloo on CPU-only machines.
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host0 (PORT, PYTHON too).
set -euo pipefail
SCRIPT=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    "$SCRIPT" "${@:3}"
