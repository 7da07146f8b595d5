"""Tests of PairedFramesDataset and LoadImageFromFileChecked on tiny
generated folders."""
import os

import cv2
import numpy as np
import pytest
from mmagic.datasets.transforms import LoadImageFromFile
from mmagic.registry import DATASETS, TRANSFORMS
from mmengine.registry import init_default_scope

import astf_mm.datasets  # noqa: F401  (registers)


def make_video(folder, count, size=(16, 12), value=100):
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    for i in range(count):
        img = np.full((h, w, 3), value + i, np.uint8)
        cv2.imwrite(str(folder / f'{i:08d}.png'), img)


@pytest.fixture
def root(tmp_path):
    for name, count in (('v1', 3), ('v2', 2)):
        make_video(tmp_path / 'lq' / name, count, value=50)
        make_video(tmp_path / 'gt' / name, count, value=100)
    (tmp_path / 'meta.txt').write_text('v1 3\nv2 2\n')
    return tmp_path


def build(root, **kwargs):
    init_default_scope('mmagic')
    cfg = dict(
        type='PairedFramesDataset',
        ann_file='meta.txt',
        data_root=str(root),
        data_prefix=dict(img='lq', gt='gt'),
        depth=1,
        num_input_frames=2)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_registered_names():
    assert DATASETS.get('PairedFramesDataset') is not None
    assert TRANSFORMS.get('LoadImageFromFileChecked') is not None


def test_valid_dataset_loads_like_basic_frames_dataset(root):
    pipeline = [
        dict(type='GenerateSegmentIndices', interval_list=[1]),
        dict(type='LoadImageFromFileChecked', key='img', channel_order='rgb'),
        dict(type='LoadImageFromFileChecked', key='gt', channel_order='rgb'),
    ]
    ds = build(root, pipeline=pipeline)
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['key'] == 'v1' and info['sequence_length'] == 3
    sample = ds[1]
    assert len(sample['img']) == 2
    assert sample['img'][0].shape == (12, 16, 3)
    # every sample of v2 is a 2-frame window: values 50/51 and 100/101
    assert {int(sample['img'][0][0, 0, 0]), int(sample['img'][1][0, 0, 0])
            } == {50, 51}
    # without an annotation file, videos come from the folder
    assert len(build(root, ann_file='')) == 2


def test_missing_root_folders_and_ann(root, tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        build(root, ann_file='missing.txt')
    with pytest.raises(FileNotFoundError, match='data_prefix.img'):
        build(root, data_prefix=dict(img='lq_s1', gt='gt'))


def test_video_missing_in_one_prefix(root):
    (root / 'meta.txt').write_text('v1 3\nv3 2\n')
    make_video(root / 'gt' / 'v3', 2)
    with pytest.raises(FileNotFoundError, match='v3.*"img".*lq/v3'):
        build(root)


def test_frame_count_mismatch_names_folders(root):
    os.remove(root / 'lq' / 'v1' / '00000002.png')
    with pytest.raises(ValueError,
                       match='lq/v1: 2 frames, .*gt/v1: 3 frames'):
        build(root)


def test_ann_count_mismatch(root):
    (root / 'meta.txt').write_text('v1 4\nv2 2\n')
    with pytest.raises(ValueError, match='meta.txt.*"v1 4".*3 frames'):
        build(root)


def test_size_mismatch_names_files(root):
    make_video(root / 'lq' / 'v2', 2, size=(8, 6))
    with pytest.raises(ValueError,
                       match='lq/v2/00000000.png: 8x6.*gt/v2/00000000.png: '
                       '16x12'):
        build(root)
    # allowed for super-resolution style data
    assert len(build(root, check_same_size=False)) == 2


def test_empty_video_folder(root):
    for f in os.listdir(root / 'lq' / 'v2'):
        os.remove(root / 'lq' / 'v2' / f)
    for f in os.listdir(root / 'gt' / 'v2'):
        os.remove(root / 'gt' / 'v2' / f)
    with pytest.raises(ValueError, match='lq/v2 has no frames'):
        build(root)


def test_corrupt_first_frame_named(root):
    (root / 'lq' / 'v1' / '00000000.png').write_bytes(b'garbage')
    with pytest.raises(OSError, match='lq/v1/00000000.png.*corrupt'):
        build(root)


def test_checked_loader_names_corrupt_file(root):
    bad = root / 'lq' / 'v1' / '00000001.png'
    bad.write_bytes(b'garbage')
    paths = [str(root / 'lq' / 'v1' / '00000000.png'), str(bad)]
    # the stock transform's error names no file
    with pytest.raises(cv2.error):
        LoadImageFromFile(key='img', channel_order='rgb').transform(
            dict(img_path=paths))
    checked = TRANSFORMS.build(
        dict(type='LoadImageFromFileChecked', key='img', channel_order='rgb'))
    with pytest.raises(OSError, match='00000001.png: unreadable or corrupt'):
        checked.transform(dict(img_path=paths))
    with pytest.raises(FileNotFoundError):
        checked.transform(dict(img_path=[str(root / 'nope.png')]))
    good = checked.transform(dict(img_path=paths[:1]))
    assert good['img'][0].shape == (12, 16, 3)
