# EnhanceNet2 at sample scale: the trade-off loss of the LDV config, with the
# sample-scale model, data and schedule of the sample EnhanceNet1 config.
_base_ = './stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37.py'

experiment_name = 'stage2_enhancenet2-tradeoff_c16b2_1xb4-250_sample-qp37'
work_dir = f'./work_dirs/{experiment_name}'

# The paper's alpha and beta. Its "Charbonnier loss almost three times
# larger than lpips loss" does not hold at this batch (4 clips x 5 frames of
# 64x64: the Charbonnier sum grows with the pixels per batch). Measured on
# the sample training data with the stage-1 weights this run starts from
# (python tools/analysis_tools/loss_balance.py THIS_CONFIG --batches 20):
# 0.35 (0.21-0.44 over batches), 1.10 with the LDV config's 15-frame clips.
# alpha = 1.25 restores about 3:1 (2.9 measured) but, trained so,
# EnhanceNet2 ended 0.004 dB *above* the sample stage 1 on PSNR (29.548 vs
# 29.544 dB): a stage 1 this far from convergence still gains from more
# fidelity training, so the network no longer traded PSNR for LPIPS as the
# paper's does.
# (The loss is repeated whole: the base is the sample EnhanceNet1 config.)
model = dict(
    pixel_loss=dict(
        _delete_=True,
        type='CharbonnierLPIPSLoss',
        alpha=0.15,
        beta=1e4,
        charbonnier_reduction='sum',
        lpips_reduction='mean',
        net='vgg'))

# half of EnhanceNet1's iterations: the Charbonnier term steadies it
max_iters = 250
train_cfg = dict(max_iters=max_iters)
param_scheduler = dict(periods=[max_iters])
