# EnhanceNet2 at sample scale with its propagation restarted (issue 15,
# session 24): as the EnhanceNet1 config of the same name, from the
# shipped EnhanceNet2 (ec6215b5...):
#   python tools/restart_propagation.py \
#     configs/astf/sample/stage2_enhancenet2-tradeoff-blockmean-ps4_c32b6_1xb4-500_corpus-qp37.py \
#     checkpoints/sample/stage2_enhancenet2-tradeoff-blockmean-ps4_c32b6_corpus-qp37.pth \
#     checkpoints/sample/spynet_synthetic-motion_sample.pth \
#     work_dirs/stage2_enhancenet2-tradeoff-blockmean-propagation-ps4_c32b6_1xb4-500_corpus-qp37/enhancenet2_restarted.pth
# then 500 iterations as the shipped one (same loss, data, lr, SPyNet
# frozen), both refiners at once, one thread each.
# Rule for the pair, written before the run: one sharpen_sweep.py run on
# the corpus validation split (32 clips) at amount 0.3 (the shipped one)
# behind the pinned stage 1, scoring the pair of both iteration-500
# checkpoints (EMA weights, as published) and the shipped pair. The new
# pair replaces the shipped one only if its fuse+sharp LPIPS-alex is lower
# than the shipped pair's, its PSNR gain over the input is at least the
# shipped pair's minus 0.02 dB, and it leaves no more validation videos
# below their input. If adopted, the sharpening amount is chosen again on
# the training split and the held-out set is run once, after the decision.
_base_ = ('./stage2_enhancenet2-tradeoff-blockmean-ps4_c32b6_1xb4-500_'
          'corpus-qp37.py')

experiment_name = ('stage2_enhancenet2-tradeoff-blockmean-propagation-ps4_'
                   'c32b6_1xb4-500_corpus-qp37')
work_dir = f'./work_dirs/{experiment_name}'

restarted_checkpoint = f'{work_dir}/enhancenet2_restarted.pth'

model = dict(
    generator=dict(
        zero_last_after_load=False,
        init_cfg=dict(checkpoint=restarted_checkpoint)))
train_cfg = dict(val_interval=500)
