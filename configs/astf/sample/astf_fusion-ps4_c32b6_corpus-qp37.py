# ASTF end to end with the sample models shipped in checkpoints/sample/:
# three corpus-trained networks (`_base_/models/enhancenet-ps4_c32b6.py`;
# how they were trained and what they gain on held-out footage: README,
# model zoo), scored on the sample validation videos
# (python tools/data/make_sample_data.py). On the held-out set:
#   python tools/test.py CONFIG \
#     --cfg-options test_dataloader.dataset.data_root=data/heldout
_base_ = [
    '../astf_fusion_c64b30_ldv-qp37.py',
    '../../_base_/models/enhancenet-ps4_c32b6.py',
    '../../_base_/sample_scale.py',
]

experiment_name = 'astf_fusion-ps4_c32b6_corpus-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = _base_.sample_data_root

model = dict(
    stage1=dict(
        _base_.enhancenet_ps4_c32b6,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage1_enhancenet-ps4_c32b6_corpus-qp37.pth',
            sha256='e0e8218b56923484fd03b539cfbd3f7afb2bc21e58d5df81f69823176d02db3e')),
    enhancenet1=dict(
        _base_.enhancenet_ps4_c32b6,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_corpus-qp37.pth',
            sha256='b00a4928180b7bf9695e9b7505ca20ca7372dc2679ad714eaf7b72392f0f3a23')),
    enhancenet2=dict(
        _base_.enhancenet_ps4_c32b6,
        init_cfg=dict(
            checkpoint='checkpoints/sample/'
            'stage2_enhancenet2-tradeoff-blockmean-ps4_c32b6_corpus-qp37.pth',
            sha256='ec6215b5a28ef17b0a65cec6a1a75fe604401d7b234f9edad2edafe4e982daba')),
    # Every output gets the 4:2:0 chroma of its input and original (the
    # networks invent full-resolution chroma detail): +0.013-0.021 dB on
    # every row on the corpus validation split (configs/astf/README.md).
    chroma_420=True,
    # Stage 1 on the 8 flips and transposes of each clip, averaged (mmagic's
    # SpatialTemporalEnsemble; 8x stage 1's time): +0.015 dB on the corpus
    # validation split, every video up, and +0.015 dB for fuse+sharp
    # (benchmarks/results/stage1_self_ensemble_corpus_val.md). For speed:
    # --cfg-options model.stage1_ensemble=None
    stage1_ensemble=dict(
        type='SpatialTemporalEnsemble', is_temporal_ensemble=False),
    # The largest sharpening that keeps PSNR at the input's on the training
    # split (tools/analysis_tools/sharpen_sweep.py; table in the README).
    fusion=dict(sharpen_amount=0.3))

test_dataloader = _base_.sample_val_dataloader
