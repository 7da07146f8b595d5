# Stage 1 (paper sec. 3.1): the coarse EnhanceNet, BasicVSR without its
# upsampler, trained for fidelity with the Charbonnier loss.
# 8 GPUs x 4 clips of 15 frames (64x64 crops), 300k iterations:
#   bash tools/dist_train.sh configs/astf/stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py 8
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/ldv_fixed_qp37.py',
    '../_base_/schedules/adam_cosine-restart_300k.py',
    '../_base_/models/enhancenet_c64b30.py',
    '../_base_/losses/astf_losses.py',
]

experiment_name = 'stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

spynet_pretrained = ('https://download.openmmlab.com/mmediting/restorers/'
                     'basicvsr/spynet_20210409-c6c1bd09.pth')

model = dict(
    type='BasicVSR',
    generator=dict(
        _base_.enhancenet_c64b30, spynet_pretrained=spynet_pretrained),
    pixel_loss=_base_.charbonnier_loss,
    # SPyNet is pretrained: keep it fixed while the rest warms up.
    train_cfg=dict(fix_iter=5000),
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))

# SPyNet is frozen for the first fix_iter iterations.
find_unused_parameters = True
