# NTIRE 2021 LDV, track 2 (fixed QP 37), as written by tools/data/prepare_ldv.py:
#   {data_root}/gt/{video}/{frame:08d}.png, {data_root}/{lq_folder}/{video}/...
# The paper's split: 190 training videos, validation 001, 021, ..., 181.
# PairedFramesDataset checks, when the dataset is built, that every video
# has the same number of LQ and GT frames (and the annotation's count) and
# names the folders otherwise; LoadImageFromFileChecked names a corrupt
# frame. Both take the arguments of mmagic's BasicFramesDataset and
# LoadImageFromFile.
data_root = 'data/ldv'
lq_folder = 'lq'
train_ann_file = 'meta_info_ldv_train.txt'
val_ann_file = 'meta_info_ldv_val.txt'
crop_size = 64
num_input_frames = 15

train_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFileChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFileChecked', key='gt', channel_order='rgb'),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=crop_size),
    dict(
        type='Flip',
        keys=['img', 'gt'],
        flip_ratio=0.5,
        direction='horizontal'),
    dict(
        type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs')
]
val_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFileChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFileChecked', key='gt', channel_order='rgb'),
    dict(type='PackInputs')
]

train_dataloader = dict(
    num_workers=4,
    batch_size=4,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PairedFramesDataset',
        metainfo=dict(dataset_type='ldv_fixed_qp37', task_name='vqe'),
        data_root=data_root,
        data_prefix=dict(img=lq_folder, gt='gt'),
        ann_file=train_ann_file,
        depth=1,
        num_input_frames=num_input_frames,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    batch_size=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PairedFramesDataset',
        metainfo=dict(dataset_type='ldv_fixed_qp37', task_name='vqe'),
        data_root=data_root,
        data_prefix=dict(img=lq_folder, gt='gt'),
        ann_file=val_ann_file,
        depth=1,
        pipeline=val_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='Evaluator', metrics=[dict(type='PSNR'), dict(type='SSIM')])
test_evaluator = val_evaluator
