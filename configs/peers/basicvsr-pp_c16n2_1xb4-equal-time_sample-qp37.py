# BasicVSR++ in its NTIRE 2021 decompression mode (full-size input and
# output through strided convolutions) at sample width (16 channels, 2
# blocks per propagation branch), trained on the sample data for the same
# CPU time as the sample stage 1 (equal-budget comparison, stated as such:
# same data, loss, optimiser, EMA, SPyNet start, identity start and 2-core
# CPU time; only the network and the crop differ).
# This mode refuses frames under 256 x 256 (its SPyNet runs at 1/4 size),
# and the sample frames are 136-270 pixels high: PadToMinSize pads them by
# reflection (and to a multiple of 4, which this mode also needs) and crops
# the output back. Crops of 128 pixels (the sample
# stage 1 uses 64): four times the content per padded 256 x 256 step.
#   python tools/train.py configs/peers/<this file>
#   python tools/test.py configs/peers/<this file> work_dirs/<name>/iter_N.pth
# max_iters: the iterations that take the sample stage 1's 1000 iterations'
# CPU time, measured by benchmarks/bench_peer_budget.py
# (benchmarks/results/peer_budget_cpu.md); SPyNet is held still for the
# first 10% of them, as in stage 1 (100 of 1000).
_base_ = [
    '../astf/sample/stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py',
    '../_base_/row_metrics.py',
]

experiment_name = 'basicvsr-pp_c16n2_1xb4-equal-time_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

max_iters = 53
# validated once, at the end: the comparison scores the last weights
val_interval = max_iters
checkpoint_interval = 10
crop_size = 128

model = dict(
    generator=dict(
        _delete_=True,
        type='PadToMinSize',
        min_size=256,
        zero_init_layers=['conv_last'],
        generator=dict(
            type='BasicVSRPlusPlusNet',
            mid_channels=16,
            num_blocks=2,
            is_low_res_input=False,
            spynet_pretrained=_base_.spynet_pretrained,
            cpu_cache_length=100)),
    train_cfg=dict(fix_iter=5))

# the base pipeline with larger crops (a list is replaced, not merged)
train_pipeline = [
    dict(step, gt_patch_size=crop_size)
    if step['type'] == 'PairedRandomCrop' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(checkpoint=dict(interval=checkpoint_interval))
test_evaluator = dict(
    _delete_=True, type='Evaluator', metrics=_base_.row_metrics)
