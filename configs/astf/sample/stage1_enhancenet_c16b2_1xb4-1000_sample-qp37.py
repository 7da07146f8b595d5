# Stage 1 at sample scale: the paper's recipe on 2 CPU cores, on the sample
# data built by `python tools/data/make_sample_data.py`. Same model and loss
# as the LDV config; narrow (16 channels, 2 blocks per branch), 5-frame clips,
# 1000 iterations (about 30 minutes on 2 cores).
# SPyNet's pretrained weights are not reachable offline. SPyNet starts from
# weights pretrained by this project's own command, on synthetic motion of
# the training frames (EPE on the validation pans in the README):
#   python tools/pretrain_spynet.py data/sample \
#     --out checkpoints/sample/spynet_synthetic-motion_sample.pth
# and stays fixed for the first 100 iterations, as BasicVSR does.
_base_ = [
    '../stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py',
    '../../_base_/models/enhancenet_c16b2.py',
    '../../_base_/sample_scale.py',
]

experiment_name = 'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = _base_.sample_data_root
spynet_pretrained = 'checkpoints/sample/spynet_synthetic-motion_sample.pth'
max_iters = 1000
val_interval = 100

model = dict(
    generator=dict(
        _base_.enhancenet_c16b2, spynet_pretrained=spynet_pretrained),
    train_cfg=dict(fix_iter=100))

train_dataloader = _base_.sample_train_dataloader
val_dataloader = _base_.sample_val_dataloader
test_dataloader = val_dataloader

optim_wrapper = _base_.sample_optim_wrapper
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    logger=dict(interval=_base_.sample_log_interval),
    checkpoint=dict(interval=val_interval, max_keep_ckpts=2))
custom_hooks = _base_.sample_custom_hooks
randomness = _base_.sample_randomness
