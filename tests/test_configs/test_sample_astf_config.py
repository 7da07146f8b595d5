"""The shipped sample ASTF config: what it changes from the paper's."""
import glob
import os.path as osp

import torch
from mmagic.registry import MODELS
from mmengine.config import Config

from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from tests.utils import ROOT


def test_only_the_sample_config_projects_chroma_and_ensembles():
    sample = Config.fromfile(osp.join(ROOT, 'configs', SAMPLE_ASTF_CONFIG))
    assert sample.model.chroma_420 is True
    assert sample.model.stage1_ensemble == dict(
        type='SpatialTemporalEnsemble', is_temporal_ensemble=False)
    assert sample.model.fusion.sharpen_amount == 0.3
    # the paper's configs keep its pipeline (no projection, one pass)
    paper = glob.glob(osp.join(ROOT, 'configs', 'astf', '*fusion*.py'))
    assert paper
    for path in paper:
        model = Config.fromfile(path).model
        assert not model.get('chroma_420', False), path
        assert model.get('stage1_ensemble') is None, path


def sample_refiner_config(name: str) -> Config:
    """The corpus-trained sample refiner config ``stage2_{name}-...``."""
    return Config.fromfile(
        osp.join(ROOT, 'configs', 'astf', 'sample',
                 f'stage2_{name}-ps4_c32b6_1xb4-500_corpus-qp37.py'))


def test_corpus_refiners_start_as_the_identity_on_stage_1(monkeypatch):
    """They load the shipped stage 1's weights but output their input."""
    monkeypatch.chdir(ROOT)  # the configs name the checkpoint from there
    lqs = torch.rand(
        1, 3, 3, 32, 36, generator=torch.Generator().manual_seed(0))
    for name in ('enhancenet1-lpips', 'enhancenet1-lpips-lowpass',
                 'enhancenet2-tradeoff', 'enhancenet2-tradeoff-blockmean'):
        cfg = sample_refiner_config(name)
        generator = cfg.model.generator
        assert generator.zero_last_after_load is True
        # every checkpoint stays for the end-to-end choice among them
        assert cfg.default_hooks.checkpoint.max_keep_ckpts == -1
        outputs = {}
        for reset in (True, False):
            net = MODELS.build(dict(generator, zero_last_after_load=reset))
            net.init_weights()
            with torch.no_grad():
                outputs[reset] = net(lqs)
        assert torch.equal(outputs[True], lqs), name
        # without the reset it is stage 1 itself, which changes the frames
        assert (outputs[False] - lqs).abs().mean() > 1e-4, name


def test_only_the_sample_refiners_hold_brightness():
    """The shipped EnhanceNet1 adds a Charbonnier term on 8x8 block means
    to LPIPS, the shipped EnhanceNet2 adds it to the trade-off loss; the
    paper's refiner configs keep LPIPS alone and the trade-off alone."""
    sample = sample_refiner_config('enhancenet1-lpips-lowpass')
    assert sample.model.pixel_loss == dict(
        type='CharbonnierLPIPSLoss',
        alpha=0.0,
        beta=1.0,
        lpips_reduction='mean',
        block_mean_weight=1.0,
        block_size=8,
        net='vgg')
    astf = Config.fromfile(osp.join(ROOT, 'configs', SAMPLE_ASTF_CONFIG))
    assert astf.model.enhancenet1.init_cfg.checkpoint.endswith(
        'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_corpus-qp37.pth')
    paper = glob.glob(
        osp.join(ROOT, 'configs', 'astf', 'stage2_enhancenet1*.py'))
    assert paper
    for path in paper:
        assert Config.fromfile(path).model.pixel_loss.type == 'LPIPSLoss', \
            path
    candidate = sample_refiner_config('enhancenet2-tradeoff-blockmean')
    assert candidate.model.pixel_loss == dict(
        type='CharbonnierLPIPSLoss',
        alpha=0.15,
        beta=1e4,
        charbonnier_reduction='sum',
        lpips_reduction='mean',
        net='vgg',
        block_mean_weight=1e4,
        block_size=8)
    paper = glob.glob(
        osp.join(ROOT, 'configs', 'astf', 'stage2_enhancenet2*.py'))
    assert paper
    for path in paper:
        loss = Config.fromfile(path).model.pixel_loss
        assert loss.type == 'CharbonnierLPIPSLoss', path
        assert loss.get('block_mean_weight', 0) == 0, path
