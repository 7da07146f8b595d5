# The three losses of the paper (sec. 3.1), one definition each: stage 1
# (Charbonnier), EnhanceNet1 (LPIPS-VGG) and EnhanceNet2 (trade-off).
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
