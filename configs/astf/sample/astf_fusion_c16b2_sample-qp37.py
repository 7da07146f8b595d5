# ASTF end to end with the sample models shipped in checkpoints/sample/, on
# the sample validation videos (python tools/data/make_sample_data.py).
_base_ = [
    '../astf_fusion_c64b30_ldv-qp37.py',
    '../../_base_/models/enhancenet_c16b2.py',
    '../../_base_/sample_scale.py',
]

experiment_name = 'astf_fusion_c16b2_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = _base_.sample_data_root

model = dict(
    stage1=dict(
        _base_.enhancenet_c16b2,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage1_enhancenet_c16b2_sample-qp37.pth',
            sha256='a8f2b377d50c49b6d112fd7d3583f40552f43f26a56632281832302f34ee9b59')),
    enhancenet1=dict(
        _base_.enhancenet_c16b2,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage2_enhancenet1-lpips_c16b2_sample-qp37.pth',
            sha256='2d7154ce01aa25c47801ac835a281ec6af15b233214e0932d7329da24be716b5')),
    enhancenet2=dict(
        _base_.enhancenet_c16b2,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage2_enhancenet2-tradeoff_c16b2_sample-qp37.pth',
            sha256='08e5ad3041bc0e1e0d2cd991f2fb84311e9733ebac2200c2ef5383a8be401b99')),
    # The largest sharpening that keeps PSNR at the input's on the training
    # split (tools/analysis_tools/sharpen_sweep.py; table in the README).
    fusion=dict(sharpen_amount=0.0))

test_dataloader = _base_.sample_val_dataloader
