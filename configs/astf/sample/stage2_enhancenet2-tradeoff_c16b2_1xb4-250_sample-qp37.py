# EnhanceNet2 at sample scale: the trade-off loss of the LDV config, with the
# sample-scale model, data and schedule of the sample EnhanceNet1 config.
_base_ = './stage2_enhancenet1-lpips_c16b2_1xb4-250_sample-qp37.py'

experiment_name = 'stage2_enhancenet2-tradeoff_c16b2_1xb4-250_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(
    pixel_loss=dict(
        _delete_=True,
        type='CharbonnierLPIPSLoss',
        alpha=0.15,
        beta=1e4,
        charbonnier_reduction='sum',
        lpips_reduction='mean',
        net='vgg'))
