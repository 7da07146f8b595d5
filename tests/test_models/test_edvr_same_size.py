import pytest
import torch
from mmagic.models.editors.edvr.edvr_net import EDVRNet
from mmagic.registry import MODELS

from astf_mm.models import EDVRSameSizeNet


def tiny(**kwargs) -> EDVRSameSizeNet:
    torch.manual_seed(0)
    cfg = dict(
        mid_channels=8,
        deform_groups=2,
        num_blocks_extraction=1,
        num_blocks_reconstruction=1)
    cfg.update(kwargs)
    net = EDVRSameSizeNet(**cfg)
    net.init_weights()
    return net.eval()


@pytest.mark.parametrize('shape', [(1, 1, 3, 9, 13), (2, 3, 3, 32, 48),
                                   (1, 6, 3, 27, 35)])
def test_same_size_output_and_identity_start(shape):
    lq = torch.rand(shape)
    with torch.no_grad():
        out = tiny()(lq)
        identity = tiny(zero_init_residual=True)(lq)
    assert out.shape == lq.shape
    # EDVR's own initialisation adds a residual; the zero start does not
    assert (out - lq).abs().mean() > 1e-4
    assert torch.equal(identity, lq)


def test_each_frame_sees_its_window_only():
    net = tiny()
    lq = torch.rand(1, 9, 3, 32, 32)
    changed = lq.clone()
    changed[:, 7] = torch.rand(3, 32, 32)
    with torch.no_grad():
        out, out_changed = net(lq), net(changed)
    diff = (out - out_changed).abs().amax(dim=(0, 2, 3, 4))
    # frame 7 is in the 5-frame windows centred on frames 5..8 only
    assert torch.all(diff[:5] == 0)
    assert torch.all(diff[5:] > 1e-5)


def test_interior_frame_equals_its_centred_window():
    net = tiny()
    lq = torch.rand(1, 8, 3, 32, 32)
    with torch.no_grad():
        whole = net(lq)
        window = net(lq[:, 2:7])
        single = net(lq[:, :1])
        repeated = net(lq[:, :1].expand(1, 5, 3, 32, 32))
        first = net(lq[:, [0, 0, 0, 1, 2]])
    torch.testing.assert_close(whole[:, 4], window[:, 2])
    # a border frame's window repeats it (replication, not reflection)
    torch.testing.assert_close(whole[:, 0], first[:, 2])
    torch.testing.assert_close(single[:, 0], repeated[:, 2])


def test_parameters_are_edvr_plus_the_stride_convolutions():
    net = tiny()
    edvr = EDVRNet(3, 3, mid_channels=8, deform_groups=2,
                   num_blocks_extraction=1, num_blocks_reconstruction=1)
    extra = set(net.state_dict()) - set(edvr.state_dict())
    assert set(edvr.state_dict()) <= set(net.state_dict())
    assert extra == {
        'stride_convs.0.weight', 'stride_convs.0.bias',
        'stride_convs.2.weight', 'stride_convs.2.bias'
    }


def test_builds_from_registry_and_trains_the_alignment():
    net = MODELS.build(
        dict(
            type='EDVRSameSizeNet',
            mid_channels=8,
            deform_groups=2,
            num_blocks_extraction=1,
            num_blocks_reconstruction=1))
    lq = torch.rand(1, 3, 3, 32, 32)
    net(lq).square().mean().backward()
    offsets = net.pcd_alignment.dcn_pack['l1'].conv_offset.weight.grad
    assert offsets is not None and offsets.abs().sum() > 0


def test_identity_start_survives_an_init_cfg():
    net = tiny(
        zero_init_residual=True,
        init_cfg=dict(type='Normal', layer='Conv2d', std=1.0))
    lq = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(net(lq), lq)


def test_loaded_weights_are_not_zeroed(tmp_path):
    trained = tiny()
    torch.nn.init.constant_(trained.conv_last.weight, 0.5)
    path = tmp_path / 'edvr.pth'
    torch.save(dict(state_dict=trained.state_dict()), path)
    loaded = tiny(
        zero_init_residual=True,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    assert torch.all(loaded.conv_last.weight == 0.5)


def test_without_tsa():
    net = tiny(with_tsa=False)
    lq = torch.rand(2, 4, 3, 20, 24)
    with torch.no_grad():
        assert net(lq).shape == lq.shape


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='odd window'):
        EDVRSameSizeNet(num_frames=4)
    with pytest.raises(ValueError, match='out_channels'):
        EDVRSameSizeNet(out_channels=1)
