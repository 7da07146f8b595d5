# EDVR-M (PCD alignment, TSA fusion; mmagic's edvrm_8xb4-600k_reds network:
# 64 channels, 8 deform groups, 5 extraction and 10 reconstruction blocks)
# restoring LDV frames at their own size, trained with ASTF's stage-1 recipe
# (same data, crops, Charbonnier loss, optimiser and schedule: only the
# network differs, so the comparison with stage 1 is like for like).
# mmagic's EDVRNet is x4 only: EDVRSameSizeNet adds EDVR's stride-2 input
# convolutions (BasicSR's hr_in) and restores every frame of a clip with the
# 5-frame window centred on it. Not trained here (GPUs and the LDV data):
#   bash tools/dist_train.sh configs/peers/<this file> 8
#   python tools/test.py configs/peers/<this file> work_dirs/<name>/iter_N.pth
# As in the sample EDVR config, every frame of a training clip is supervised,
# so border frames come from windows that repeat an end frame (EDVR's own
# recipe supervises the centre of real windows only).
_base_ = [
    '../astf/stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py',
    '../_base_/row_metrics.py',
]

experiment_name = 'edvr-same-size_c64_8xb4-300k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(
    generator=dict(
        _delete_=True,
        type='EDVRSameSizeNet',
        mid_channels=64,
        num_frames=5,
        deform_groups=8,
        num_blocks_extraction=5,
        num_blocks_reconstruction=10,
        with_tsa=True),
    # no SPyNet to hold still
    train_cfg=dict(fix_iter=0))

test_evaluator = dict(
    _delete_=True, type='Evaluator', metrics=_base_.row_metrics)
