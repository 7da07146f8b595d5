# ASTF end to end (paper sec. 3.2): stage 1 -> EnhanceNet1 and EnhanceNet2 ->
# spatial-temporal fusion -> 3x3 Gaussian unsharp mask, evaluated by
#   python tools/test.py configs/astf/astf_fusion_c64b30_ldv-qp37.py
# One run reports every row of the paper's Tables 1 and 2 (lq, stage-1,
# cb+lpips, lpips, fuse, fuse+sharp) per video and on average, with PSNR,
# SSIM, LPIPS-Alex, FID and the temporal metrics tOF and tLP; the tables are
# written to the run's log folder as astf_table.md / astf_table.json.
# The three networks are the stage configs' generator (the same base model
# file) loaded from their checkpoints; any mmagic generator with a same-size
# output can take a network's place.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/ldv_fixed_qp37.py',
    '../_base_/models/enhancenet_c64b30.py',
    '../_base_/row_metrics.py',
]

experiment_name = 'astf_fusion_c64b30_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

stage1_checkpoint = 'checkpoints/stage1_enhancenet_c64b30_ldv-qp37.pth'
enhancenet1_checkpoint = (
    'checkpoints/stage2_enhancenet1-lpips_c64b30_ldv-qp37.pth')
enhancenet2_checkpoint = (
    'checkpoints/stage2_enhancenet2-tradeoff_c64b30_ldv-qp37.pth')

model = dict(
    type='ASTF',
    stage1=dict(
        _base_.enhancenet_c64b30,
        init_cfg=dict(type='CheckedPretrained', checkpoint=stage1_checkpoint)),
    enhancenet1=dict(
        _base_.enhancenet_c64b30,
        init_cfg=dict(
            type='CheckedPretrained', checkpoint=enhancenet1_checkpoint)),
    enhancenet2=dict(
        _base_.enhancenet_c64b30,
        init_cfg=dict(
            type='CheckedPretrained', checkpoint=enhancenet2_checkpoint)),
    # radius 11: the paper's k in [-11, 11]; the sharpening amount is not
    # given by the paper (see ASTFFusion)
    fusion=dict(type='ASTFFusion', radius=11, temporal_radius=1),
    # frames per chunk: bounds memory on long videos
    max_seq_len=None,
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))

# row -> the key of the data sample that holds it (see ASTF)
rows = dict(
    lq='lq_img',
    stage1='stage1_img',
    enhancenet2='enhancenet2_img',
    enhancenet1='enhancenet1_img',
    fused='fused_img',
    fused_sharp='pred_img')
test_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(metric, pred_key=key, prefix=row) for row, key in rows.items()
        for metric in _base_.row_metrics
    ])
test_cfg = dict(type='MultiTestLoop')
# Every network is frozen: with a launcher (tools/dist_test.sh), each
# process tests its share of the videos without DistributedDataParallel,
# which refuses a model with nothing to train.
model_wrapper_cfg = dict(type='FrozenModelWrapper')
custom_hooks = [dict(type='PerVideoTableHook')]

# test-only: no training or validation loops
train_dataloader = None
train_cfg = None
val_dataloader = None
val_cfg = None
val_evaluator = None
optim_wrapper = None
param_scheduler = None
