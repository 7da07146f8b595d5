# EnhanceNet2 at sample scale: the trade-off loss of the LDV config with the
# model, data and schedule of the sample EnhanceNet1 config, for half its
# iterations (the Charbonnier term steadies it). How the paper's alpha and
# beta balance at this batch size: README, "The trade-off loss".
_base_ = './stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37.py'

experiment_name = 'stage2_enhancenet2-tradeoff_c16b2_1xb4-250_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(pixel_loss=dict(_base_.tradeoff_loss, _delete_=True))

max_iters = 250
train_cfg = dict(max_iters=max_iters)
param_scheduler = dict(periods=[max_iters])
