# Stage 2, EnhanceNet1 (paper sec. 3.1): refines the stage-1 output with the
# LPIPS (VGG) loss only, for textures. Reads the stage-1 outputs written by
#   python tools/export_stage1.py STAGE1_CONFIG STAGE1_CHECKPOINT
# into {data_root}/stage1, and starts from the stage-1 weights.
_base_ = './stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py'

experiment_name = 'stage2_enhancenet1-lpips_c64b30_8xb4-100k_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

# The stage-1 checkpoint to start from (a Runner checkpoint); override with
# --cfg-options model.generator.init_cfg.checkpoint=PATH
stage1_checkpoint = 'checkpoints/stage1_enhancenet_c64b30_ldv-qp37.pth'
stage1_folder = 'stage1'
max_iters = 100_000

model = dict(
    generator=dict(
        spynet_pretrained=None,
        init_cfg=dict(
            type='Pretrained',
            checkpoint=stage1_checkpoint,
            prefix='generator.')),
    pixel_loss=dict(_base_.lpips_loss, _delete_=True),
    # SPyNet comes trained from stage 1 and stays frozen in stage 2 (mmagic's
    # fix_iter): both refiners then keep the same flow network, and the ASTF
    # pipeline computes their flows once (ASTF.refiners_share_flows).
    train_cfg=dict(fix_iter=max_iters))

train_dataloader = dict(
    dataset=dict(data_prefix=dict(img=stage1_folder, gt='gt')))
val_dataloader = dict(
    dataset=dict(data_prefix=dict(img=stage1_folder, gt='gt')))
test_dataloader = val_dataloader

# The paper validates with LPIPS-Alex beside PSNR/SSIM.
val_evaluator = dict(metrics=[
    dict(type='PSNR'),
    dict(type='SSIM'),
    dict(type='VideoLPIPS', net='alex'),
])
test_evaluator = val_evaluator

train_cfg = dict(max_iters=max_iters)
param_scheduler = dict(
    periods=[max_iters // 2, max_iters - max_iters // 2])
default_hooks = dict(checkpoint=dict(save_best='LPIPS', rule='less'))
