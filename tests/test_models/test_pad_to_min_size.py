import pytest
import torch
from mmagic.registry import MODELS

from astf_mm.models import PadToMinSize


def tiny_basicvsr_pp(**kwargs):
    torch.manual_seed(0)
    return dict(
        type='BasicVSRPlusPlusNet',
        mid_channels=8,
        num_blocks=1,
        is_low_res_input=False,
        spynet_pretrained=None,
        **kwargs)


@pytest.mark.parametrize('size', [(36, 44), (258, 256)])
def test_basicvsr_pp_decompression_mode_runs_on_any_size(size):
    lq = torch.rand(1, 2, 3, *size)
    bare = MODELS.build(tiny_basicvsr_pp())
    # under 256 pixels, or not a multiple of 4
    with pytest.raises((AssertionError, RuntimeError)):
        with torch.no_grad():
            bare(lq)
    wrapped = MODELS.build(
        dict(type='PadToMinSize', min_size=256, generator=tiny_basicvsr_pp()))
    with torch.no_grad():
        out = wrapped(lq)
    assert out.shape == lq.shape
    assert torch.isfinite(out).all()


class Recorder(torch.nn.Module):
    """Records the frames it sees; returns them scaled by 2."""

    def forward(self, lqs):
        self.seen = lqs
        return lqs * 2


def test_pads_to_min_size_and_crops_back():
    wrapper = PadToMinSize(
        generator=dict(type='EDVRSameSizeNet', mid_channels=4),
        min_size=20)
    wrapper.generator = Recorder()
    lq = torch.rand(2, 3, 3, 12, 25)
    out = wrapper(lq)
    # h up to the minimum, w up to a multiple of 4
    assert wrapper.generator.seen.shape == (2, 3, 3, 20, 28)
    assert torch.equal(wrapper.generator.seen[..., :12, :25], lq)
    assert torch.equal(out, lq * 2)
    # frames at least min_size pass unchanged
    big = torch.rand(1, 2, 3, 20, 24)
    wrapper(big)
    assert wrapper.generator.seen is big


def test_zeroed_last_layer_gives_identity_start():
    # how the equal-recipe peer configs start BasicVSR++ at the identity
    net = MODELS.build(
        dict(
            type='PadToMinSize',
            generator=tiny_basicvsr_pp(),
            zero_init_layers=['conv_last']))
    net.init_weights()
    lq = torch.rand(1, 2, 3, 40, 48)
    with torch.no_grad():
        torch.testing.assert_close(net(lq), lq)
    # nothing else was zeroed
    assert net.generator.conv_hr.weight.abs().sum() > 0
    with pytest.raises(AttributeError):
        PadToMinSize(generator=tiny_basicvsr_pp(), zero_init_layers=['nope'])


def test_loaded_weights_are_not_zeroed(tmp_path):
    cfg = dict(
        type='PadToMinSize',
        generator=tiny_basicvsr_pp(),
        zero_init_layers=['conv_last'])
    trained = MODELS.build(cfg)
    torch.nn.init.constant_(trained.generator.conv_last.weight, 0.5)
    path = tmp_path / 'trained.pth'
    torch.save(dict(state_dict=trained.state_dict()), path)
    loaded = MODELS.build(
        dict(cfg, init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    loaded.init_weights()
    assert torch.all(loaded.generator.conv_last.weight == 0.5)
