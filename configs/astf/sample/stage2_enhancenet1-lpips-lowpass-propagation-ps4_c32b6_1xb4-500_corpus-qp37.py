# EnhanceNet1 at sample scale with its propagation restarted (issue 15,
# session 24).
# Why: the shipped EnhanceNet1 (b00a4928...) carries the SPyNet of stage
# 1's first phase, which drifted to flows of about 1200 pixels at 1/4
# resolution (the pretrained SPyNet: 0.75), so its propagated features
# are zero and it refines frame by frame (configs/astf/README.md, step 23).
# What: the shipped weights with the pretrained SPyNet put back and the
# weights that read the propagated features zeroed (the same output on
# real clips), written by
#   python tools/restart_propagation.py \
#     configs/astf/sample/stage2_enhancenet1-lpips-lowpass-ps4_c32b6_1xb4-500_corpus-qp37.py \
#     checkpoints/sample/stage2_enhancenet1-lpips-lowpass-ps4_c32b6_corpus-qp37.pth \
#     checkpoints/sample/spynet_synthetic-motion_sample.pth \
#     work_dirs/stage2_enhancenet1-lpips-lowpass-propagation-ps4_c32b6_1xb4-500_corpus-qp37/enhancenet1_restarted.pth
# then trained 500 iterations as the shipped one was (same loss, lr 5e-4
# cosine, SPyNet frozen throughout), on data/corpus/stage1 as the pinned
# stage 1 exports it (export_stage1.py --chroma-420; since session 24 the
# propagation-restarted stage 1, e0e8218b...), starting where it stands:
# no zeroed last layer. Validation only at the end (the time goes to
# training). Trained together with the EnhanceNet2 config of the same
# name, so that both keep the one SPyNet and share flows at test time.
# The pair's rule (configs/astf/README.md, step 24) is in the EnhanceNet2
# config.
_base_ = './stage2_enhancenet1-lpips-lowpass-ps4_c32b6_1xb4-500_corpus-qp37.py'

experiment_name = ('stage2_enhancenet1-lpips-lowpass-propagation-ps4_c32b6_'
                   '1xb4-500_corpus-qp37')
work_dir = f'./work_dirs/{experiment_name}'

restarted_checkpoint = f'{work_dir}/enhancenet1_restarted.pth'

model = dict(
    generator=dict(
        zero_last_after_load=False,
        init_cfg=dict(checkpoint=restarted_checkpoint)))
train_cfg = dict(val_interval=500)
