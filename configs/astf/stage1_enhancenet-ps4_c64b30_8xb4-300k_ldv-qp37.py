# Stage 1 at paper width propagating at 1/4 resolution (EnhanceNet's
# propagation_scale=4), for configs/astf/astf_fusion_c64b30-ps4_ldv-qp37.py.
# Everything else is the full-resolution stage 1. Its outputs for stage 2:
#   python tools/export_stage1.py <this config> \
#     checkpoints/stage1_enhancenet-ps4_c64b30_ldv-qp37.pth \
#     --out-folder stage1-ps4
_base_ = './stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py'

experiment_name = 'stage1_enhancenet-ps4_c64b30_8xb4-300k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(generator=dict(propagation_scale=4))
