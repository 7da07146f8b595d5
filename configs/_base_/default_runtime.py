# Runtime shared by every astf_mm config: mmagic's runtime, plus the plugin
# import so that mmagic's own tools/train.py can run our configs too.
_base_ = 'mmagic::_base_/default_runtime.py'

custom_imports = dict(imports=['astf_mm'], allow_failed_imports=False)
default_scope = 'mmagic'
save_dir = './work_dirs'

# AtomicCheckpointHook: mmengine's CheckpointHook (same options) writing
# each checkpoint under a temporary name and removing old ones only after
# the new one is complete, so a kill mid-save never loses the run.
# SampleImagesHook: every validation and test run gives its first
# max_samples samples to the visualizer below (0 turns it off). A default
# hook, so configs that set custom_hooks keep it.
# FlowMonitorHook: logs the mean length of the generator's SPyNet flows in
# training (train/flow_px) and warns when it drifts past half the frame,
# where the network stops using its neighbours (issue 15's sample stage 1
# did, unnoticed); a default hook for the same reason. It reads the flows
# the forward computes anyway and changes nothing in training.
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
    visualization=dict(type='SampleImagesHook', interval=1, max_samples=2),
    flow_monitor=dict(type='FlowMonitorHook', interval=50, warn_fraction=0.5),
)
# NCCL on GPUs; tools/train.py switches to gloo when no GPU is present.
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
# One titled image strip per sample: the middle frame of the input, every
# stage, the mask and the ground truth, side by side, written to each
# backend (LocalVisBackend: <log dir>/vis_data/vis_image/<video>_<iter>.png).
# TensorBoard (pip install "astf_mm[tensorboard]") instead of the PNG files:
#   --cfg-options visualizer.vis_backends.0.type=TensorboardVisBackend
# or both, in a config: visualizer = dict(vis_backends=[
#   dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    _delete_=True, type='FrameStripVisualizer', vis_backends=vis_backends)
# mmagic's runtime shows samples through a custom hook, which any config
# setting custom_hooks would drop; SampleImagesHook above replaces it.
custom_hooks = []
