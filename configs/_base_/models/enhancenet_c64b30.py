# EnhanceNet at the paper's width: BasicVSR without its upsampler, 64
# channels, 30 residual blocks per propagation branch. Stage configs and the
# end-to-end ASTF config take their generators from here.
enhancenet_c64b30 = dict(type='EnhanceNet', mid_channels=64, num_blocks=30)
