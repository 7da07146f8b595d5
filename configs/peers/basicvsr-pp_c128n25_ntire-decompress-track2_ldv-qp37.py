# BasicVSR++ (Chan et al., CVPR 2022) in its NTIRE 2021 decompression
# setting, as mmagic ships it (c128n25, full-resolution input and output
# through strided convolutions, 8-way flip ensemble at test time), on the LDV
# layout with our per-video metrics:
#   python tools/test.py configs/peers/<this file> --cfg-options \
#     load_from=checkpoints/peers/<track-2 checkpoint>
# The checkpoint is OpenMMLab's (URL below; download it yourself: nothing is
# fetched when the model is built).
# mmengine refuses a key defined by two bases, and mmagic's config and our
# dataset base both define test_dataloader / test_evaluator, so the LDV
# loader is re-pointed here instead of inherited; its pipeline is our
# validation pipeline (mmagic's reads NTIRE's 1-based '{:03d}.png' frames).
# BasicVSR++ in this mode needs frames of at least 256 x 256 (its SPyNet runs
# on 1/4-size frames, >= 64 pixels).
_base_ = [
    'mmagic::basicvsr_pp/basicvsr-pp_c128n25_600k_ntire-decompress-track2.py',
    '../_base_/row_metrics.py',
]

custom_imports = dict(imports=['astf_mm'], allow_failed_imports=False)

experiment_name = 'basicvsr-pp_c128n25_ntire-decompress-track2_ldv-qp37'
work_dir = f'./work_dirs/{experiment_name}'

checkpoint_url = ('https://download.openmmlab.com/mmediting/restorers/'
                  'basicvsr_plusplus/basicvsr_plusplus_c128n25_ntire_'
                  'decompress_track2_20210314-eeae05e6.pth')
data_root = 'data/ldv'
lq_folder = 'lq'
ann_file = 'meta_info_ldv_val.txt'

# the checkpoint holds SPyNet's weights: nothing to download when building
model = dict(generator=dict(spynet_pretrained=None))

test_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFileChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFileChecked', key='gt', channel_order='rgb'),
    dict(type='PackInputs')
]
test_dataloader = dict(
    dataset=dict(
        type='PairedFramesDataset',
        metainfo=dict(dataset_type='ldv_fixed_qp37', task_name='vqe'),
        data_root=data_root,
        data_prefix=dict(img=lq_folder, gt='gt'),
        ann_file=ann_file,
        depth=1,
        pipeline=test_pipeline))
# the metrics of the ASTF configs' rows, one row here
test_evaluator = dict(metrics=_base_.row_metrics)
custom_hooks = [
    dict(
        type='PerVideoTableHook',
        filename='peer_table',
        row_titles=dict())
]
