"""The LDV ASTF config with 1/4-resolution propagation (issue 12, sec. 4):
it builds, and its three networks and their stage configs propagate at 1/4
resolution."""
import os.path as osp

import torch
from mmengine.config import Config

from astf_mm.apis import init_astf_model
from tests.utils import ROOT, save_tiny_checkpoint

CONFIGS = osp.join(ROOT, 'configs', 'astf')
PS4 = osp.join(CONFIGS, 'astf_fusion_c64b30-ps4_ldv-qp37.py')
NETWORKS = ('stage1', 'enhancenet1', 'enhancenet2')


def test_ps4_astf_builds_with_three_ps4_networks(tmp_path):
    ckpts = [
        save_tiny_checkpoint(tmp_path / f'{name}.pth', i, propagation_scale=4)
        for i, name in enumerate(NETWORKS)
    ]
    tiny = {}
    for name in NETWORKS:
        tiny[f'model.{name}.mid_channels'] = 8
        tiny[f'model.{name}.num_blocks'] = 1
    model = init_astf_model(PS4, checkpoints=ckpts, cfg_options=tiny)
    assert [getattr(model, n).propagation_scale for n in NETWORKS] == [4] * 3
    # the fusion and everything else is the full-resolution config's
    full = Config.fromfile(osp.join(CONFIGS, 'astf_fusion_c64b30_ldv-qp37.py'))
    cfg = Config.fromfile(PS4)
    assert cfg.model.fusion == full.model.fusion
    assert cfg.test_evaluator == full.test_evaluator
    for name in NETWORKS:
        assert (cfg.model[name].mid_channels,
                cfg.model[name].num_blocks) == (64, 30)
    torch.manual_seed(0)
    lqs = torch.rand(1, 3, 3, 64, 72)
    out = model.enhance(lqs)
    assert out['fused_sharp'].shape == lqs.shape


def test_ps4_stage_configs_feed_the_ps4_astf_config():
    astf = Config.fromfile(PS4).model
    stage1 = Config.fromfile(
        osp.join(CONFIGS,
                 'stage1_enhancenet-ps4_c64b30_8xb4-300k_ldv-qp37.py'))
    assert stage1.model.generator.propagation_scale == 4
    for name, loss in (('enhancenet1-lpips', 'LPIPSLoss'),
                       ('enhancenet2-tradeoff', 'CharbonnierLPIPSLoss')):
        cfg = Config.fromfile(
            osp.join(CONFIGS,
                     f'stage2_{name}-ps4_c64b30_8xb4-100k_ldv-qp37.py'))
        generator = cfg.model.generator
        assert generator.propagation_scale == 4
        assert cfg.model.pixel_loss.type == loss
        # starts from the ps4 stage 1 and reads its exported outputs
        assert generator.init_cfg.checkpoint == astf.stage1.init_cfg.checkpoint
        for loader in ('train', 'val', 'test'):
            assert cfg[f'{loader}_dataloader'].dataset.data_prefix.img == (
                'stage1-ps4')
