# EnhanceNet2 of the corpus-trained sample models: the trade-off loss
# (0.15 x Charbonnier + 1e4 x LPIPS-VGG, as the paper) with the data, start
# and schedule of the corpus EnhanceNet1 config.
_base_ = './stage2_enhancenet1-lpips-ps4_c32b6_1xb4-500_corpus-qp37.py'

experiment_name = 'stage2_enhancenet2-tradeoff-ps4_c32b6_1xb4-500_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(pixel_loss=dict(_base_.tradeoff_loss, _delete_=True))
