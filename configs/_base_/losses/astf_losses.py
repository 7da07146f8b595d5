# The three losses of the paper (sec. 3.1), one definition each: stage 1
# (Charbonnier), EnhanceNet1 (LPIPS-VGG) and EnhanceNet2 (trade-off); and
# the sample EnhanceNet1's, beyond the paper (last).
# The paper's rho(x) = sqrt(x^2 + eps^2), eps = 1e-6; mmagic adds its eps
# un-squared: sqrt(x^2 + eps), hence 1e-12.
charbonnier_loss = dict(
    type='CharbonnierLoss', loss_weight=1.0, reduction='mean', eps=1e-12)
lpips_loss = dict(
    type='LPIPSLoss', net='vgg', loss_weight=1.0, reduction='mean')
# alpha = 0.15, beta = 1e4 as in the paper, which chose them "to make the
# Charbonnier loss almost three times larger than the LPIPS loss": that
# holds with the Charbonnier summed over pixels and LPIPS averaged over
# frames (README, "The trade-off loss").
tradeoff_loss = dict(
    type='CharbonnierLPIPSLoss',
    alpha=0.15,
    beta=1e4,
    charbonnier_reduction='sum',
    lpips_reduction='mean',
    net='vgg')
# The sample EnhanceNet1's: LPIPS-VGG plus a Charbonnier term on the means of
# 8x8 blocks, which holds brightness and colour (LPIPS alone let it darken
# unseen clean footage by 3-6 levels) and leaves finer texture to LPIPS.
# Both terms averaged: a uniform shift of d (0-1 scale) costs d (5 levels:
# 0.02), against a total loss of 0.18-0.19 at the end of training.
lpips_block_mean_loss = dict(
    type='CharbonnierLPIPSLoss',
    alpha=1.0,
    beta=1.0,
    charbonnier_reduction='mean',
    lpips_reduction='mean',
    charbonnier_downsample=8,
    net='vgg')
