# The third phase of the sample stage 1 (issue 15): 1000 iterations from
# the second phase's stage 1 (the hue-2000 config's iteration 2000, the
# session-17 stage 1 fb516162...; EMA weights, as published by the
# README's steps), lr 2.5e-4 (half the second phase's: it starts from a
# trained network) cosine to 0. Configs that inherit it set their data.
_base_ = '../../astf/sample/stage1_enhancenet-ps4_c32b6_1xb4-hue-2000_corpus-qp37.py'

load_from = ('./work_dirs/stage1_enhancenet-ps4_c32b6_1xb4-hue-2000_corpus-qp37/'
             'stage1_iter_2000_published.pth')

max_iters = 1000
val_interval = 250

optim_wrapper = dict(optimizer=dict(lr=2.5e-4))
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(periods=[max_iters], restart_weights=[1])
default_hooks = dict(
    checkpoint=dict(interval=val_interval, max_keep_ckpts=4))
