import pytest
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet
from mmagic.registry import MODELS

from astf_mm.models import EnhanceNet
from tests.utils import save_spynet_checkpoint


def tiny(**kwargs) -> EnhanceNet:
    torch.manual_seed(0)
    return EnhanceNet(mid_channels=8, num_blocks=1, **kwargs)


@pytest.mark.parametrize('shape', [(1, 1, 3, 31, 45), (2, 3, 3, 36, 40),
                                   (1, 2, 3, 27, 33), (1, 4, 3, 64, 72)])
@pytest.mark.parametrize('propagation_scale', [1, 4])
def test_shapes_and_identity_start(shape, propagation_scale):
    net = tiny(propagation_scale=propagation_scale)
    lq = torch.rand(shape)
    out = net(lq)
    assert out.shape == lq.shape
    # zero-initialised last convolution: the untrained network is identity
    assert torch.equal(out, lq)


def test_output_is_residual_on_input():
    net = tiny(zero_init_residual=False)
    lq = torch.rand(1, 3, 3, 32, 32)
    with torch.no_grad():
        out = net(lq)
        net.conv_last.weight.zero_()
        net.conv_last.bias.fill_(0.25)
        shifted = net(lq)
    assert not torch.allclose(out, lq)
    torch.testing.assert_close(shifted, lq + 0.25)


def test_single_frame_needs_no_flow():
    net = tiny()
    flows = net.compute_flow(torch.rand(2, 1, 3, 16, 16))
    assert flows == (None, None)
    flows_forward, flows_backward = net.compute_flow(
        torch.rand(2, 3, 3, 16, 16))
    assert flows_forward.shape == flows_backward.shape == (2, 2, 2, 16, 16)


def test_recurrence_uses_neighbouring_frames():
    net = tiny(zero_init_residual=False)
    lq = torch.rand(1, 3, 3, 32, 32)
    changed = lq.clone()
    changed[:, 2] = torch.rand(3, 32, 32)
    with torch.no_grad():
        a, b = net(lq), net(changed)
    # frame 0 sees frame 2 only through backward propagation
    assert (a[:, 0] - b[:, 0]).abs().max() > 1e-6


def test_registered_and_keeps_spynet_name():
    net = MODELS.build(dict(type='EnhanceNet', mid_channels=8, num_blocks=1))
    assert isinstance(net.spynet, SPyNet)
    assert any(k.startswith('spynet.') for k in net.state_dict())


def test_bad_arguments():
    with pytest.raises(ValueError, match='propagation_scale'):
        EnhanceNet(mid_channels=8, num_blocks=1, propagation_scale=2)
    with pytest.raises(ValueError, match=r'\(n, t, 3, h, w\)'):
        tiny()(torch.rand(1, 3, 32, 32))


def test_spynet_pretrained_local_path(tmp_path):
    ref, path = save_spynet_checkpoint(tmp_path)
    net = EnhanceNet(
        mid_channels=8, num_blocks=1, spynet_pretrained=str(path))
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(net.spynet.state_dict()[key], value)


def test_gradients_reach_every_branch():
    net = tiny(zero_init_residual=False)
    out = net(torch.rand(1, 3, 3, 32, 32))
    out.mean().backward()
    for name in ('backward_resblocks', 'forward_resblocks', 'fusion',
                 'conv_last', 'spynet'):
        grads = [
            p.grad for n, p in net.named_parameters() if n.startswith(name)
        ]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), name


def test_zero_init_flow_starts_with_zero_flow_and_survives_init_weights():
    net = tiny(zero_init_flow=True)
    net.init_weights()
    flows_forward, flows_backward = net.compute_flow(
        torch.rand(1, 3, 3, 32, 32))
    assert flows_forward.abs().max() == 0
    assert flows_backward.abs().max() == 0
    with pytest.raises(ValueError, match='pretrained'):
        EnhanceNet(
            mid_channels=8,
            num_blocks=1,
            zero_init_flow=True,
            spynet_pretrained='spynet.pth')


def test_pretrained_spynet_survives_runner_init_weights(tmp_path):
    ref, path = save_spynet_checkpoint(tmp_path)
    net = EnhanceNet(
        mid_channels=8, num_blocks=1, spynet_pretrained=str(path))
    net.init_weights()  # what mmengine's runner calls before training
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(net.spynet.state_dict()[key], value)


@pytest.mark.parametrize('propagation_scale', [1, 4])
def test_precomputed_flows_give_the_same_output(propagation_scale):
    net = tiny(zero_init_residual=False, propagation_scale=propagation_scale)
    lq = torch.rand(1, 3, 3, 30, 41)
    with torch.no_grad():
        flows = net.flows(lq)
        # flows at the propagation resolution of the padded frames
        expected_hw = (32 // propagation_scale, 44 // propagation_scale
                       ) if propagation_scale == 4 else (30, 41)
        assert flows[0].shape == (1, 2, 2) + expected_hw
        assert torch.equal(net(lq, flows=flows), net(lq))
        # the flows are really used: zero flows change the output
        zero = tuple(torch.zeros_like(f) for f in flows)
        assert not torch.allclose(net(lq, flows=zero), net(lq), atol=1e-6)


@pytest.mark.parametrize('propagation_scale', [1, 4])
def test_lq_to_head_feeds_the_frame_to_the_full_resolution_head(
        propagation_scale):
    net = tiny(zero_init_residual=False, lq_to_head=True,
               propagation_scale=propagation_scale)
    assert net.conv_hr.weight.shape == (8, 8 + 3, 3, 3)
    lq = torch.rand(1, 3, 3, 32, 32)
    changed = lq.clone()
    changed[0, 1, :, 10, 12] += 0.5
    with torch.no_grad():
        # cut the propagated features out of the head: what is left of the
        # residual is a 5x5 function (two 3x3 convolutions) of the frame
        net.conv_hr.weight[:, :8] = 0
        # residuals, not outputs: the skip connection alone would move the
        # changed pixel
        a, b = net(lq) - lq, net(changed) - changed
    diff = (a - b).abs().amax(dim=2)[0]
    assert diff[0].max() < 1e-6 and diff[2].max() < 1e-6
    window = diff[1, 8:13, 10:15].clone()
    assert window.min() > 1e-4
    diff[1, 8:13, 10:15] = 0
    assert diff[1].max() < 1e-6


def test_default_head_takes_features_only_and_nothing_bypasses_it():
    net = tiny(zero_init_residual=False, propagation_scale=4)
    assert net.conv_hr.in_channels == 8
    lq = torch.rand(1, 3, 3, 32, 32)
    with torch.no_grad():
        net.conv_hr.weight.zero_()
        out = net(lq)
    # a constant residual away from the border (conv_last's zero padding):
    # conv_last of the head's bias alone, whatever the frame
    residual = (out - lq)[..., 1:-1, 1:-1]
    assert residual.std(dim=(-2, -1)).max() < 1e-6
    torch.testing.assert_close(
        residual, residual[..., :1, :1].expand_as(residual))
    with torch.no_grad():
        net.conv_hr.bias.zero_()
        torch.testing.assert_close(
            net(lq), lq + net.conv_last.bias.view(1, 1, 3, 1, 1))


def test_lq_to_head_starts_as_identity():
    net = tiny(lq_to_head=True, propagation_scale=4)
    lq = torch.rand(1, 2, 3, 30, 41)
    assert torch.equal(net(lq), lq)


def test_zero_last_after_load_starts_loaded_weights_as_identity(tmp_path):
    trained = tiny(lq_to_head=True, propagation_scale=4)
    with torch.no_grad():
        trained.conv_last.weight.normal_(std=0.1)
        trained.conv_last.bias.fill_(0.01)
    path = tmp_path / 'stage1.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    lq = torch.rand(1, 3, 3, 24, 28)
    outputs = {}
    for reset in (False, True):
        net = EnhanceNet(
            mid_channels=8,
            num_blocks=1,
            lq_to_head=True,
            propagation_scale=4,
            zero_last_after_load=reset,
            init_cfg=dict(type='Pretrained', checkpoint=str(path)))
        net.init_weights()
        # every other weight is the loaded one
        for key, value in trained.state_dict().items():
            if not key.startswith('conv_last'):
                assert torch.equal(net.state_dict()[key], value), key
        outputs[reset] = net(lq)
    assert torch.equal(outputs[True], lq)
    torch.testing.assert_close(outputs[False], trained(lq))
    assert (outputs[False] - lq).abs().mean() > 1e-3


@pytest.mark.parametrize('propagation_scale', [1, 4])
def test_restart_propagation_keeps_the_output_without_propagation(
        tmp_path, propagation_scale):
    net = tiny(
        zero_init_residual=False,
        propagation_scale=propagation_scale,
        lq_to_head=propagation_scale == 4)
    lq = torch.rand(1, 3, 3, 32, 40)
    with torch.no_grad():
        # flows far outside the frame: every warped feature is zero, as
        # with the drifted SPyNet of the session-21 stage 1
        away = tuple(torch.full_like(f, 1e6) for f in net.flows(lq))
        alone = net(lq, away)
        with_propagation = net(lq)
    assert (with_propagation - alone).abs().max() > 1e-5
    ref, path = save_spynet_checkpoint(tmp_path)
    net.restart_propagation(torch.load(path))
    for key, value in ref.state_dict().items():
        assert torch.equal(net.spynet.state_dict()[key], value), key
    with torch.no_grad():
        # the new flows are used, and what they carry is weighted by zero
        assert not torch.equal(net.flows(lq)[1], away[1])
        torch.testing.assert_close(net(lq), alone, rtol=0, atol=1e-6)
    for branch in (net.backward_resblocks, net.forward_resblocks):
        weight = branch.main[0].weight
        assert weight[:, -net.mid_channels:].abs().max() == 0
        assert weight[:, :-net.mid_channels].abs().min() > 0
    # training grows the propagation weights from zero
    net(lq).mean().backward()
    assert net.forward_resblocks.main[0].weight.grad[:, -8:].abs().max() > 0


def test_restart_propagation_refuses_what_is_not_spynet():
    net = tiny()
    state = {
        k: v
        for k, v in SPyNet(pretrained=None).state_dict().items()
        if not k.endswith('basic_module.0.conv.bias')
    }
    with pytest.raises(ValueError, match='missing'):
        net.restart_propagation(state)
    with pytest.raises(ValueError, match='unexpected'):
        net.restart_propagation(
            dict(SPyNet(pretrained=None).state_dict(), extra=torch.zeros(1)))
