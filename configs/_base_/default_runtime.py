# Runtime shared by every astf_mm config: mmagic's runtime, plus the plugin
# import so that mmagic's own tools/train.py can run our configs too.
_base_ = 'mmagic::_base_/default_runtime.py'

custom_imports = dict(imports=['astf_mm'], allow_failed_imports=False)
default_scope = 'mmagic'
save_dir = './work_dirs'

# AtomicCheckpointHook: mmengine's CheckpointHook (same options) writing
# each checkpoint under a temporary name and removing old ones only after
# the new one is complete, so a kill mid-save never loses the run.
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=3,
        save_best='PSNR',
        rule='greater',
        out_dir=None),
)
# NCCL on GPUs; tools/train.py switches to gloo when no GPU is present.
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# mmagic's default visualisation writes a PNG per validation sample.
custom_hooks = []
