# Stage 1 at sample scale, propagating at 1/4 resolution (EnhanceNet's
# propagation_scale=4: strided convolutions in, pixel shuffle out, SPyNet on
# 1/4-size frames; the residual is still added at full resolution), as
# BasicVSR++ did for the NTIRE 2021 decompression tracks. Everything else is
# the full-resolution sample stage 1; speed and quality of both are compared
# in the README (model zoo).
_base_ = './stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py'

experiment_name = 'stage1_enhancenet-ps4_c16b2_1xb4-1000_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(generator=dict(propagation_scale=4))
