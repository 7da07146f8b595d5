"""ASTF test-time model: shared flows and channels-last change nothing."""
import torch

from astf_mm.models import ASTF, EnhanceNet

TINY = dict(type='EnhanceNet', mid_channels=8, num_blocks=1)


def save_net(path, seed: int, spynet_from: EnhanceNet = None) -> EnhanceNet:
    torch.manual_seed(seed)
    net = EnhanceNet(mid_channels=8, num_blocks=1, zero_init_residual=False)
    if spynet_from is not None:
        net.spynet.load_state_dict(spynet_from.spynet.state_dict())
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return net


def build(tmp_path,
          same_spynet: bool,
          share_flows: bool = True,
          channels_last: bool = True) -> ASTF:
    stage1 = save_net(tmp_path / 's1.pth', 0)
    net1 = save_net(tmp_path / 'e1.pth', 1, spynet_from=stage1)
    save_net(tmp_path / 'e2.pth', 2, spynet_from=net1 if same_spynet else None)
    specs = {
        name: dict(generator=TINY, checkpoint=str(tmp_path / f'{f}.pth'))
        for name, f in (('stage1', 's1'), ('enhancenet1', 'e1'),
                        ('enhancenet2', 'e2'))
    }
    return ASTF(
        **specs, share_flows=share_flows, channels_last=channels_last).eval()


def count_spynet_calls(model: ASTF, lqs: torch.Tensor) -> dict:
    calls = dict(enhancenet1=0, enhancenet2=0)

    def hook(name):

        def count(*_):
            calls[name] += 1

        return count

    handles = [
        getattr(model, name).spynet.register_forward_hook(hook(name))
        for name in calls
    ]
    model.enhance(lqs)
    for handle in handles:
        handle.remove()
    return calls


def test_shared_flows_are_computed_once_and_change_nothing(tmp_path):
    torch.manual_seed(3)
    lqs = torch.rand(1, 4, 3, 37, 45)
    shared = build(tmp_path, same_spynet=True)
    assert shared.refiners_share_flows()
    # the random SPyNet gives non-zero flows, so sharing them is tested
    flows_forward, _ = shared.enhancenet1.flows(lqs)
    assert flows_forward.abs().mean() > 1e-3
    out_shared = shared.enhance(lqs)
    assert count_spynet_calls(shared, lqs) == dict(
        enhancenet1=2, enhancenet2=0)

    separate = build(tmp_path, same_spynet=True, share_flows=False)
    out_separate = separate.enhance(lqs)
    assert count_spynet_calls(separate, lqs) == dict(
        enhancenet1=2, enhancenet2=2)
    for key in out_shared:
        assert torch.equal(out_shared[key], out_separate[key]), key


def test_different_spynets_are_not_shared(tmp_path):
    model = build(tmp_path, same_spynet=False)
    assert not model.refiners_share_flows()
    lqs = torch.rand(1, 3, 3, 32, 32)
    assert count_spynet_calls(model, lqs) == dict(
        enhancenet1=2, enhancenet2=2)
    # a different propagation scale never shares
    model = build(tmp_path, same_spynet=True)
    model.enhancenet2.propagation_scale = 4
    assert not model.refiners_share_flows()


def test_channels_last_changes_only_the_layout(tmp_path):
    torch.manual_seed(0)
    lqs = torch.rand(1, 5, 3, 40, 56)
    nhwc = build(tmp_path, same_spynet=True, channels_last=True)
    nchw = build(tmp_path, same_spynet=True, channels_last=False)
    conv = nhwc.stage1.conv_last.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    assert nchw.stage1.conv_last.weight.is_contiguous()
    with torch.no_grad():
        a, b = nhwc.enhance(lqs), nchw.enhance(lqs)
    # float rounding only: equal to 2e-5, except where it flips the 8-bit
    # quantisation of a stage-1 value (one level, then smoothed downstream)
    for key in ('stage1', 'enhancenet1', 'enhancenet2', 'fused',
                'fused_sharp', 'mask'):
        diff = (a[key] - b[key]).abs()
        assert diff.max() <= 2 / 255, key
        assert (diff > 2e-5).float().mean() < 1e-2, key
    # the 8-bit frames that are saved differ by at most one level, rarely
    a8 = (a['fused_sharp'] * 255).round()
    b8 = (b['fused_sharp'] * 255).round()
    assert (a8 - b8).abs().max() <= 1
    assert (a8 != b8).float().mean() < 1e-3
