# The refiners' recipe of the corpus-trained sample models, with the
# paper's EnhanceNet1 loss (LPIPS-VGG only; lr 5e-4, EMA, SPyNet frozen):
# the stage-1 corpus network, on the corpus, starting from the shipped
# stage 1 and reading its outputs. The shipped EnhanceNet1 is trained with
# its child `...enhancenet1-lpips-lowpass-...` (LPIPS alone darkened clean
# unseen footage); EnhanceNet2 inherits from here too. Stage 1's outputs:
#   python tools/export_stage1.py \
#     configs/astf/sample/stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37.py \
#     checkpoints/sample/stage1_enhancenet-ps4_c32b6_corpus-qp37.pth \
#     --chroma-420  # -> data/corpus/stage1, as the sample ASTF config runs it
# The refiner keeps stage 1's weights but starts as the identity on its
# input (zero_last_after_load): started as stage 1 itself, it applied
# stage 1 a second time, and the refiners trained from there were 0.15 dB
# below stage 1 on unseen footage with a worse LPIPS-alex (issue 15).
# Crops stay at 64 pixels: the LPIPS network is most of a step's time.
_base_ = [
    './stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37.py',
    '../../_base_/models/enhancenet-ps4_c32b6.py',
]

experiment_name = 'stage2_enhancenet1-lpips-ps4_c32b6_1xb4-500_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = 'data/corpus'
stage1_checkpoint = (
    'checkpoints/sample/stage1_enhancenet-ps4_c32b6_corpus-qp37.pth')

model = dict(
    generator=dict(
        _base_.enhancenet_ps4_c32b6,
        zero_last_after_load=True,
        init_cfg=dict(checkpoint=stage1_checkpoint)))

# every checkpoint kept: the refiners' checkpoints are chosen together with
# the fusion and the sharpening on the validation split
# (tools/analysis_tools/sharpen_sweep.py --enhancenet1/--enhancenet2)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=-1))

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
