# What every sample-scale config shares: the sample data built by
# `python tools/data/make_sample_data.py`, loaders for 2 CPU cores, 5-frame
# clips, the learning rate, EMA weights and a seed. Tiny batches make single
# iterations noisy, so the validated and saved weights are an exponential
# moving average (about the last 100 iterations). Variables, because the
# sample configs also inherit their stage's LDV config (keys may not clash).
sample_data_root = 'data/sample'
sample_train_dataloader = dict(
    num_workers=1,
    batch_size=4,
    dataset=dict(
        data_root=sample_data_root,
        ann_file='meta_info_train.txt',
        num_input_frames=5))
sample_val_dataloader = dict(
    dataset=dict(data_root=sample_data_root, ann_file='meta_info_val.txt'))
# 2e-4 (the LDV lr) left the sample refiners at their start in 250 iterations
sample_optim_wrapper = dict(optimizer=dict(lr=5e-4))
sample_custom_hooks = [
    dict(type='EMAHook', momentum=0.01, priority='ABOVE_NORMAL')
]
sample_randomness = dict(seed=0)
sample_log_interval = 20
