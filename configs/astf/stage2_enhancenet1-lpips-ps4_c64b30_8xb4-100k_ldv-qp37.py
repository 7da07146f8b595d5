# Stage 2, EnhanceNet1 propagating at 1/4 resolution: starts from the ps4
# stage 1 and reads its exported outputs (--out-folder stage1-ps4).
_base_ = './stage2_enhancenet1-lpips_c64b30_8xb4-100k_ldv-qp37.py'

experiment_name = 'stage2_enhancenet1-lpips-ps4_c64b30_8xb4-100k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

stage1_checkpoint = 'checkpoints/stage1_enhancenet-ps4_c64b30_ldv-qp37.pth'
stage1_folder = 'stage1-ps4'

model = dict(
    generator=dict(
        propagation_scale=4, init_cfg=dict(checkpoint=stage1_checkpoint)))
train_dataloader = dict(dataset=dict(data_prefix=dict(img=stage1_folder)))
val_dataloader = dict(dataset=dict(data_prefix=dict(img=stage1_folder)))
test_dataloader = val_dataloader
