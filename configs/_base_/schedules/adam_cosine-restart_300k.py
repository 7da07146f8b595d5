# The paper's optimiser (sec. 4.2): Adam, beta (0.9, 0.99), eps 1e-8, lr 2e-4,
# cosine annealing with restarts. SPyNet learns 8x slower, as in BasicVSR.
max_iters = 300_000
val_interval = 5000
restart_period = 150_000

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=2e-4, betas=(0.9, 0.99), eps=1e-8),
    paramwise_cfg=dict(custom_keys={'spynet': dict(lr_mult=0.125)}))

param_scheduler = dict(
    type='CosineRestartLR',
    by_epoch=False,
    periods=[restart_period, max_iters - restart_period],
    restart_weights=[1, 0.5],
    eta_min=1e-7)
