# Stage 1 at sample scale: the paper's recipe on 2 CPU cores, on the sample
# data built by `python tools/data/make_sample_data.py`. Same model and loss
# as the LDV config; narrow (16 channels, 2 blocks per branch), 5-frame clips,
# 1000 iterations (about 30 minutes on 2 cores).
# SPyNet's pretrained weights are not reachable offline. SPyNet starts from
# weights pretrained by this project's own command, on synthetic motion of
# the training frames (EPE on the validation pans in the README):
#   python tools/pretrain_spynet.py data/sample \
#     --out checkpoints/sample/spynet_synthetic-motion_sample.pth
# and stays fixed for the first 100 iterations, as BasicVSR does. Tiny
# batches make single iterations noisy: the validated and saved weights are
# an exponential moving average (mmengine's EMAHook, about the last 100
# iterations).
_base_ = [
    '../stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py',
    '../../_base_/models/enhancenet_c16b2.py',
]

experiment_name = 'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = 'data/sample'
spynet_pretrained = 'checkpoints/sample/spynet_synthetic-motion_sample.pth'
max_iters = 1000
val_interval = 100

model = dict(
    generator=dict(
        _base_.enhancenet_c16b2, spynet_pretrained=spynet_pretrained),
    train_cfg=dict(fix_iter=100))

train_dataloader = dict(
    num_workers=1,
    batch_size=4,
    dataset=dict(
        data_root=data_root,
        ann_file='meta_info_train.txt',
        num_input_frames=5))
val_dataloader = dict(
    dataset=dict(data_root=data_root, ann_file='meta_info_val.txt'))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=val_interval, max_keep_ckpts=2))
custom_hooks = [dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL')]
randomness = dict(seed=0)
