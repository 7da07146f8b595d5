# Stage 2, EnhanceNet2 (trade-off loss) propagating at 1/4 resolution: the
# ps4 EnhanceNet1 config with EnhanceNet2's loss.
_base_ = './stage2_enhancenet1-lpips-ps4_c64b30_8xb4-100k_ldv-qp37.py'

experiment_name = 'stage2_enhancenet2-tradeoff-ps4_c64b30_8xb4-100k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(pixel_loss=dict(_base_.tradeoff_loss, _delete_=True))
