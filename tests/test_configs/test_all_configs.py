"""Every config builds; every training config takes a real train step."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from astf_mm.utils.checksum import sha256_of
from tests.utils import (ROOT, for_each_train_dataset, make_frames_dataset,
                         save_tiny_checkpoint, tiny_overrides, train_datasets)

TRAIN_CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', 'astf', '**', 'stage*.py'),
                       recursive=True))
FUSION_CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', 'astf', '**', 'astf_*.py'),
                       recursive=True))


def test_configs_found():
    # the LDV and sample stage configs (3 + 3), their variants, 4 fusion
    # (LDV, LDV at 1/4-resolution propagation, sample, over BasicVSR++'s
    # NTIRE 2021 tracks)
    assert len(TRAIN_CONFIGS) >= 7 and len(FUSION_CONFIGS) == 4


@pytest.mark.parametrize('config', TRAIN_CONFIGS)
def test_config_takes_a_train_step(config, tmp_path, request):
    from mmagic.registry import MODELS
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    stage2 = osp.basename(config).startswith('stage2')
    if stage2:
        request.getfixturevalue('real_weights')  # LPIPS-VGG in the loss
    folder = 'stage1' if stage2 else 'lq'
    data_root = make_frames_dataset(
        tmp_path / 'data', num_frames=4, lq_folder=folder)
    options = tiny_overrides(data_root, tmp_path / 'work', lq_folder=folder)
    options['model.generator.spynet_pretrained'] = None
    options['train_dataloader.dataset.ann_file'] = 'meta_info_train.txt'
    cfg = Config.fromfile(osp.join(ROOT, config))
    start = None
    if stage2:
        start = save_tiny_checkpoint(
            tmp_path / 'stage1.pth',
            seed=3,
            propagation_scale=cfg.model.generator.get('propagation_scale', 1),
            lq_to_head=cfg.model.generator.get('lq_to_head', False))
        options['model.generator.init_cfg.checkpoint'] = start
    # a ConcatDataset's parts all read the tiny frames
    cfg.merge_from_dict(for_each_train_dataset(cfg, options),
                        allow_list_keys=True)
    for dataset in train_datasets(cfg):
        for step in dataset.pipeline:
            if step.type == 'PairedRandomCrop':  # the tiny frames are 64x72
                step.gt_patch_size = min(step.gt_patch_size, 64)

    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    model.init_weights()
    if stage2:  # starts from the stage-1 weights
        saved = torch.load(start)['state_dict']
        # the corpus refiners zero the last layer: the identity on stage 1
        reset = cfg.model.generator.get('zero_last_after_load', False)
        for name, value in model.generator.state_dict().items():
            if reset and name.startswith('conv_last.'):
                assert not value.any(), name
                assert saved[f'generator.{name}'].any(), name
            else:
                torch.testing.assert_close(value, saved[f'generator.{name}'])
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    loader = Runner.build_dataloader(cfg.train_dataloader)
    before = {
        k: v.detach().clone()
        for k, v in model.generator.named_parameters()
    }
    log = model.train_step(next(iter(loader)), optim_wrapper)
    # nonzero, not positive: FramePSNRLoss is minus a PSNR
    assert math.isfinite(float(log['loss'])) and float(log['loss']) != 0
    moved = {
        k
        for k, v in model.generator.named_parameters()
        if not torch.equal(v, before[k])
    }
    # SPyNet is frozen at the start (fix_iter); the rest trains
    assert moved and not any('spynet' in k for k in moved)
    assert any(k.startswith('conv_last') for k in moved)


@pytest.mark.parametrize('config', FUSION_CONFIGS)
def test_fusion_config_names_its_networks(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.model.type == 'ASTF'
    for name in ('stage1', 'enhancenet1', 'enhancenet2'):
        if name == 'stage1' and cfg.model[name] is None:
            continue  # refiners that take the compressed input
        weights = cfg.model[name].init_cfg
        assert weights.type == 'CheckedPretrained'
        if 'sha256' in weights:  # shipped: the file is the one pinned
            assert sha256_of(osp.join(ROOT,
                                      weights.checkpoint)) == weights.sha256
