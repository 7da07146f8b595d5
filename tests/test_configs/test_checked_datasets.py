"""Every shipped config reads its frames through the checked dataset and
loader: mismatched folders fail when the dataset is built, naming the
video; a corrupt frame fails naming the file."""
import glob
import os
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tests.utils import (ROOT, SAMPLE_ASTF, SAMPLE_STAGE1, make_frames_dataset,
                         tiny_overrides, train_datasets)

CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', 'astf', '**', '*.py'),
                       recursive=True))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.mark.parametrize('config', CONFIGS)
def test_every_dataset_is_checked(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    checked = 0
    for loader in LOADERS:
        if not cfg.get(loader):
            continue
        # every part of a ConcatDataset
        datasets = (train_datasets(cfg) if loader == 'train_dataloader' else
                    [cfg[loader].dataset])
        for dataset in datasets:
            assert dataset.type == 'PairedFramesDataset', (loader,
                                                           dataset.type)
            loads = [t.type for t in dataset.pipeline if 'Load' in t.type]
            assert loads == ['LoadImageFromFileChecked'] * 2, (loader, loads)
        checked += 1
    assert checked == (1 if 'astf_fusion' in config else 3)


def stage1_cfg(tmp_path, num_frames=4):
    data_root = make_frames_dataset(tmp_path / 'data', num_frames=num_frames)
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    cfg.merge_from_dict(tiny_overrides(data_root, tmp_path / 'work'))
    cfg.train_dataloader.dataset.ann_file = 'meta_info_train.txt'
    return cfg, data_root


@pytest.mark.parametrize('loader', LOADERS)
def test_frame_count_mismatch_fails_at_build(tmp_path, loader):
    cfg, root = stage1_cfg(tmp_path)
    video = 'a' if loader == 'train_dataloader' else 'c'
    os.remove(root / 'lq' / video / '00000003.png')
    init_default_scope('mmagic')
    with pytest.raises(ValueError,
                       match=f'Video "{video}" has different frame counts: '
                       f'.*lq/{video}: 3 frames, .*gt/{video}: 4 frames'):
        Runner.build_dataloader(cfg[loader])


def test_fusion_config_count_mismatch_fails_at_build(tmp_path):
    root = make_frames_dataset(tmp_path / 'data', {'val': ['c', 'd']})
    (root / 'meta_info_val.txt').write_text('c 4\nd 5\n')
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF))
    cfg.test_dataloader.dataset.data_root = str(root)
    init_default_scope('mmagic')
    with pytest.raises(ValueError, match='meta_info_val.txt: "d 5" but its '
                       'folders hold 4 frames'):
        Runner.build_dataloader(cfg.test_dataloader)


def test_corrupt_frame_named_when_loaded(tmp_path):
    cfg, root = stage1_cfg(tmp_path)
    cfg.train_dataloader.batch_size = 1
    bad = root / 'lq' / 'a' / '00000002.png'  # in every 3-frame window
    bad.write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 40)
    init_default_scope('mmagic')
    dataset = Runner.build_dataloader(cfg.train_dataloader).dataset
    assert [dataset.get_data_info(i)['key'] for i in range(2)] == ['a', 'b']
    with pytest.raises(OSError, match=f'{bad}: unreadable or corrupt image'):
        dataset[0]
    assert dataset[1]['inputs'].shape == (3, 3, 64, 64)
