"""The end-to-end model is exactly its trained networks chained as the paper
says: built here independently from the stage configs and the raw
checkpoints, it gives the same frames bit for bit."""
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config

from astf_mm.apis import init_astf_model
from astf_mm.models.self_ensemble import build_self_ensemble
from tests.utils import ROOT, SAMPLE_ASTF

# the stage configs the shipped sample networks were trained with
STAGE_CONFIGS = dict(
    stage1='configs/astf/sample/'
    'stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37.py',
    enhancenet1='configs/astf/sample/'
    'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_1xb4-500_corpus-qp37.py',
    enhancenet2='configs/astf/sample/'
    'stage2_enhancenet2-tradeoff-ps4_c32b6_1xb4-500_corpus-qp37.py')


def stage_generator(name: str) -> dict:
    """A stage config's generator, without its training-time loading and
    initialisation."""
    generator = Config.fromfile(osp.join(
        ROOT, STAGE_CONFIGS[name])).model.generator.to_dict()
    for key in ('init_cfg', 'spynet_pretrained', 'zero_init_residual',
                'zero_last_after_load'):
        generator.pop(key, None)
    return generator


@pytest.mark.parametrize('name', sorted(STAGE_CONFIGS))
def test_fusion_config_takes_the_stage_configs_generators(name):
    network = Config.fromfile(osp.join(ROOT,
                                       SAMPLE_ASTF)).model[name].to_dict()
    network.pop('init_cfg')
    assert network == stage_generator(name)


def test_end_to_end_equals_the_chained_networks():
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF))
    model = init_astf_model(
        cfg, cfg_options={'model.channels_last': False})
    networks = {}
    for name in STAGE_CONFIGS:
        net = MODELS.build(stage_generator(name))
        state = torch.load(
            osp.join(ROOT, cfg.model[name].init_cfg.checkpoint),
            map_location='cpu',
            weights_only=False)['state_dict']
        net.load_state_dict({
            k[len('generator.'):]: v
            for k, v in state.items() if k.startswith('generator.')
        })
        networks[name] = net.eval()
    fusion = MODELS.build(cfg.model.fusion)
    # the sample config runs stage 1 on the 8 flips/transposes, averaged
    ensemble = build_self_ensemble(cfg.model.get('stage1_ensemble'))

    torch.manual_seed(0)
    lqs = torch.rand(1, 4, 3, 48, 64)
    with torch.no_grad():
        stage1 = (networks['stage1'](lqs) if ensemble is None else ensemble(
            lqs, networks['stage1'])).clamp(0, 1)
        stage1 = (stage1 * 255).round() / 255
        refined1 = networks['enhancenet1'](stage1).clamp(0, 1)
        refined2 = networks['enhancenet2'](stage1).clamp(0, 1)
        fused = fusion(refined1, refined2)
        out = model.enhance(lqs)
    assert torch.equal(out['stage1'], stage1)
    assert torch.equal(out['enhancenet1'], refined1)
    assert torch.equal(out['enhancenet2'], refined2)
    assert torch.equal(out['fused'], fused['fused'])
    assert torch.equal(out['fused_sharp'],
                       fused.get('fused_sharp', fused['fused']))
    assert out['stage1'].sub(lqs).abs().max() > 0  # the networks do act
