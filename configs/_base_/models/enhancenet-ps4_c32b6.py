# EnhanceNet of the corpus-trained sample models: 32 channels, 6 blocks per
# branch, propagation at 1/4 resolution (about as fast on 2 CPU cores as
# c16b2 at full resolution, issue 15's sweep), and a full-resolution head
# that also sees the input frame (lq_to_head: without it the 1/4-resolution
# networks stayed at the identity on the corpus).
enhancenet_ps4_c32b6 = dict(
    type='EnhanceNet',
    mid_channels=32,
    num_blocks=6,
    propagation_scale=4,
    lq_to_head=True)
