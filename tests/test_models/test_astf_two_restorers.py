"""ASTF over any two restorers: without a stage 1 the refiners take the
compressed frames, and the output is ASTF's mask blend of theirs; the
BasicVSR++ NTIRE21 track-1/track-2 config builds on tiny random nets."""
import os.path as osp

import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.registry import DefaultScope

from astf_mm.models import ASTF
from astf_mm.models.fusion import fuse
from tests.utils import ROOT

CONFIG = osp.join(ROOT, 'configs', 'astf',
                  'astf_fusion_basicvsrpp-ntire21-track1-track2_ldv-qp37.py')
TINY_BASICVSRPP = dict(
    type='BasicVSRPlusPlusNet',
    mid_channels=8,
    num_blocks=1,
    is_low_res_input=False,
    spynet_pretrained=None)


def save_basicvsrpp(path, seed: int) -> torch.nn.Module:
    """A random tiny BasicVSR++ saved as an mmagic Runner checkpoint."""
    torch.manual_seed(seed)
    net = MODELS.build(TINY_BASICVSRPP).eval()
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return net


def build_from_config(tmp_path):
    """The config's model with tiny random refiners (track 2, track 1)."""
    track2 = save_basicvsrpp(tmp_path / 'track2.pth', 2)
    track1 = save_basicvsrpp(tmp_path / 'track1.pth', 1)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({
        'model.channels_last': False,
        'model.enhancenet1.mid_channels': 8,
        'model.enhancenet1.num_blocks': 1,
        'model.enhancenet1.init_cfg.checkpoint': str(tmp_path / 'track2.pth'),
        'model.enhancenet2.mid_channels': 8,
        'model.enhancenet2.num_blocks': 1,
        'model.enhancenet2.init_cfg.checkpoint': str(tmp_path / 'track1.pth'),
    })
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    return model, track2, track1


def test_config_fuses_the_two_tracks_by_the_mask(tmp_path):
    model, track2, track1 = build_from_config(tmp_path)
    assert isinstance(model, ASTF) and model.stage1 is None
    assert set(model.checkpoint_sha256) == {'enhancenet1', 'enhancenet2'}
    torch.manual_seed(0)
    lqs = torch.rand(1, 3, 3, 256, 288)
    out = model.enhance(lqs)
    assert 'stage1' not in out
    # the refiners saw the compressed frames themselves
    with torch.no_grad():
        perceptual = track2(lqs).clamp(0, 1)
        fidelity = track1(lqs).clamp(0, 1)
    torch.testing.assert_close(out['enhancenet1'], perceptual)
    torch.testing.assert_close(out['enhancenet2'], fidelity)
    assert (out['enhancenet1'] - out['enhancenet2']).abs().max() > 0.01
    mask = out['mask']
    assert mask.shape == (1, 3, 1, 256, 288)
    assert 0.05 < float(mask.mean()) < 0.95
    blend = mask * perceptual + (1 - mask) * fidelity
    torch.testing.assert_close(out['fused'], blend, rtol=0, atol=1e-6)
    torch.testing.assert_close(out['fused'], fuse(perceptual, fidelity, mask))
    assert out['fused'].shape == lqs.shape


def test_predict_leaves_out_the_stage1_row(tmp_path):
    model, _, _ = build_from_config(tmp_path)
    torch.manual_seed(1)
    frames = torch.rand(1, 2, 3, 256, 256) * 255
    data = model.data_preprocessor(
        dict(inputs=[frames[0]],
             data_samples=[DataSample(metainfo=dict(key='v'))]))
    (sample, ) = model(**data, mode='predict')
    keys = set(sample.output.keys())
    assert {'lq_img', 'enhancenet1_img', 'enhancenet2_img', 'fused_img',
            'pred_img', 'mask_img'} <= keys
    assert 'stage1_img' not in keys


def test_a_stage1_still_feeds_the_refiners(tmp_path):
    """The same refiners behind an identity-like stage 1 see its 8-bit
    output, not the input: the stage1 row is back."""
    save_basicvsrpp(tmp_path / 'a.pth', 3)
    save_basicvsrpp(tmp_path / 'b.pth', 4)
    save_basicvsrpp(tmp_path / 's.pth', 5)
    specs = {
        name: dict(
            TINY_BASICVSRPP,
            init_cfg=dict(
                type='CheckedPretrained', checkpoint=str(tmp_path / f)))
        for name, f in (('stage1', 's.pth'), ('enhancenet1', 'a.pth'),
                        ('enhancenet2', 'b.pth'))
    }
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = ASTF(**specs, channels_last=False)
    lqs = torch.rand(1, 2, 3, 256, 256)
    out = model.enhance(lqs)
    stage1 = model.stage1(lqs).clamp(0, 1).mul(255).round().div(255)
    torch.testing.assert_close(out['stage1'], stage1)
    torch.testing.assert_close(out['enhancenet1'],
                               model.enhancenet1(stage1).clamp(0, 1))
