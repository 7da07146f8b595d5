# EnhanceNet at sample width (16 channels, 2 blocks per branch): trains on
# 2 CPU cores. The sample stage configs and the sample ASTF config use it.
enhancenet_c16b2 = dict(type='EnhanceNet', mid_channels=16, num_blocks=2)
