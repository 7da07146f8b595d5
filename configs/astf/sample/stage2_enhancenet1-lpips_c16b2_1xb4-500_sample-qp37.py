# EnhanceNet1 at sample scale: the LDV recipe on the sample data, starting
# from the c16b2 sample stage 1 (no longer shipped: publish it there with
# tools/publish_checkpoint.py, README model zoo), on its exported outputs:
#   python tools/export_stage1.py \
#     configs/astf/sample/stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py \
#     checkpoints/stage1_enhancenet_c16b2_sample-qp37.pth
_base_ = [
    '../stage2_enhancenet1-lpips_c64b30_8xb4-100k_ldv-qp37.py',
    '../../_base_/models/enhancenet_c16b2.py',
    '../../_base_/sample_scale.py',
]

experiment_name = 'stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = _base_.sample_data_root
stage1_checkpoint = 'checkpoints/stage1_enhancenet_c16b2_sample-qp37.pth'
max_iters = 500
val_interval = 125

model = dict(
    generator=dict(
        _base_.enhancenet_c16b2, init_cfg=dict(checkpoint=stage1_checkpoint)))

train_dataloader = _base_.sample_train_dataloader
val_dataloader = _base_.sample_val_dataloader
test_dataloader = val_dataloader

optim_wrapper = _base_.sample_optim_wrapper
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    logger=dict(interval=_base_.sample_log_interval),
    checkpoint=dict(interval=val_interval))
custom_hooks = _base_.sample_custom_hooks
randomness = _base_.sample_randomness
