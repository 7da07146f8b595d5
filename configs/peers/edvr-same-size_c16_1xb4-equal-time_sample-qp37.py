# EDVR (PCD alignment, TSA fusion) restoring frames at their own size, at
# sample width, trained on the sample data for the same CPU time as the
# sample stage 1 (equal-budget comparison, stated as such: same data, loss,
# optimiser, EMA, identity start and 2-core CPU time; only the network
# differs). mmagic's EDVRNet is x4 only: EDVRSameSizeNet adds EDVR's
# stride-2 input convolutions (BasicSR's hr_in) and restores every frame of
# a clip with a 5-frame window.
#   python tools/train.py configs/peers/<this file>
#   python tools/test.py configs/peers/<this file> work_dirs/<name>/iter_N.pth
# max_iters: the iterations that take the sample stage 1's 1000 iterations'
# CPU time, measured by benchmarks/bench_peer_budget.py
# (benchmarks/results/peer_budget_cpu.md).
# A handicap of this recipe for EDVR: every frame of the 5-frame training
# clips is supervised, so 4 of 5 outputs come from windows that repeat a
# border frame (EDVR's own recipe supervises the centre of a real window;
# EnhanceNet's border frames likewise see context from one side only).
_base_ = [
    '../astf/sample/stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py',
    '../_base_/row_metrics.py',
]

experiment_name = 'edvr-same-size_c16_1xb4-equal-time_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

max_iters = 988
# validated once, at the end: the comparison scores the last weights
val_interval = max_iters
checkpoint_interval = 100

model = dict(
    generator=dict(
        _delete_=True,
        type='EDVRSameSizeNet',
        mid_channels=16,
        num_frames=5,
        deform_groups=4,
        num_blocks_extraction=2,
        num_blocks_reconstruction=2,
        zero_init_residual=True),
    # no SPyNet to hold still
    train_cfg=dict(fix_iter=0))

train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(checkpoint=dict(interval=checkpoint_interval))
test_evaluator = dict(
    _delete_=True, type='Evaluator', metrics=_base_.row_metrics)
