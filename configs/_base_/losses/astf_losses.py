# The three losses of the paper (sec. 3.1), one definition each: stage 1
# (Charbonnier), EnhanceNet1 (LPIPS-VGG) and EnhanceNet2 (trade-off); and
# the sample models' block-mean variants, beyond the paper (last).
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
# Beyond the paper, for the sample models: a third term, a Charbonnier
# distance between the means of 8x8 blocks (averaged), which holds
# brightness and colour and leaves finer texture to the other terms.
# The sample EnhanceNet1's: LPIPS-VGG plus that term, both averaged (LPIPS
# alone let it darken unseen clean footage by 3-6 levels). A uniform shift
# of d (0-1 scale) costs d (5 levels: 0.02), against a total loss of
# 0.18-0.19 at the end of training.
lpips_block_mean_loss = dict(
    type='CharbonnierLPIPSLoss',
    alpha=0.0,
    beta=1.0,
    lpips_reduction='mean',
    block_mean_weight=1.0,
    block_size=8,
    net='vgg')
# The sample EnhanceNet2's: the paper's trade-off loss plus that
# term in the same proportion to LPIPS as EnhanceNet1's (1e4 = beta). The
# summed pixel Charbonnier is L1-like: a shift of a level under errors of
# several levels hardly moves it.
tradeoff_block_mean_loss = dict(
    tradeoff_loss, block_mean_weight=1e4, block_size=8)
