# BasicVSR++ in the NTIRE 2021 decompression mode at sample width (16
# channels, 2 blocks per propagation branch, no test-time ensemble), the
# size of network a 2-core CPU can train, on the held-out set of
# `python tools/data/build_corpus.py` (data/heldout, 256 x 384 frames).
# Not on data/sample: its frames (under 256 pixels high) are below this
# mode's 256-pixel minimum. No weights of this width are published: train
# them with basicvsr-pp_c16n2_1xb4-equal-time_sample-qp37.py (the same
# network in the same PadToMinSize wrapper, which these 256 x 384 frames
# pass unchanged, so its checkpoints load here key for key) and pass them
# as load_from.
_base_ = './basicvsr-pp_c128n25_ntire-decompress-track2_ldv-qp37.py'

experiment_name = 'basicvsr-pp_c16n2_ntire-decompress_heldout-qp37'
work_dir = f'./work_dirs/{experiment_name}'

data_root = 'data/heldout'
ann_file = 'meta_info_val.txt'

model = dict(
    generator=dict(
        _delete_=True,
        type='PadToMinSize',
        min_size=256,
        generator=dict(
            _base_.model.generator,
            mid_channels=16,
            num_blocks=2,
            cpu_cache_length=100)),
    ensemble=None)

test_dataloader = dict(dataset=dict(data_root=data_root, ann_file=ann_file))
