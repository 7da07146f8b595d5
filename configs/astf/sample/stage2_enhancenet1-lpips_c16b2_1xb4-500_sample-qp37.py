# EnhanceNet1 at sample scale: the LDV recipe on the sample data, starting
# from the sample stage-1 checkpoint, on its exported outputs:
#   python tools/export_stage1.py \
#     configs/astf/sample/stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py \
#     checkpoints/sample/stage1_enhancenet_c16b2_sample-qp37.pth
_base_ = [
    '../stage2_enhancenet1-lpips_c64b30_8xb4-100k_ldv-qp37.py',
    '../../_base_/models/enhancenet_c16b2.py',
]

experiment_name = 'stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = 'data/sample'
stage1_checkpoint = 'checkpoints/sample/stage1_enhancenet_c16b2_sample-qp37.pth'
max_iters = 500
val_interval = 125

model = dict(
    generator=dict(
        _base_.enhancenet_c16b2, init_cfg=dict(checkpoint=stage1_checkpoint)))

train_dataloader = dict(
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='meta_info_train.txt',
        num_input_frames=5))
val_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='meta_info_val.txt'))
test_dataloader = val_dataloader

# 250 iterations at the LDV lr of 2e-4 left the network at its start:
# the sample stage-1 lr
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=val_interval))
# validate and save an exponential moving average of the weights, as stage 1
custom_hooks = [dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL')]
randomness = dict(seed=0)
