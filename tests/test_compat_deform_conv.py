"""mmcv's deformable convolutions on torchvision's kernels
(``astf_mm.compat.patch_deform_conv_with_torchvision``)."""
import pytest
import torch

import astf_mm  # noqa: F401  (applies the shims)
from astf_mm import compat

pytestmark = pytest.mark.skipif(
    compat.mmcv_has_compiled_ops(),
    reason='full mmcv installed: its own compiled ops are used')

# mmcv's own expected values (tests/test_ops/test_modulated_deform_conv.py):
# ModulatedDeformConv2dPack(1, 1, 2x2, padding 1, no bias), weight 1.
MMCV_INPUT = [[[[1., 2., 3.], [1., 2., 3.], [1., 2., 3.]]]]
MMCV_OUTPUT = [[[[0.5, 1.5, 2.5, 1.5], [1.0, 3.0, 5.0, 3.0],
                 [1.0, 3.0, 5.0, 3.0], [0.5, 1.5, 2.5, 1.5]]]]
MMCV_INPUT_GRAD = [[[[2., 2., 2.], [2., 2., 2.], [2., 2., 2.]]]]
MMCV_WEIGHT_GRAD = [[[[9., 9.], [9., 9.]]]]
MMCV_OFFSET_BIAS_GRAD = [
    -3.0, -1.5, -3.0, -1.5, -3.0, -1.5, -3.0, -1.5, 4.5, 4.5, 4.5, 4.5
]


def reference_deform_conv(x, offset, mask, weight, bias, stride, padding,
                          dilation, groups, deform_groups):
    """Modulated deformable convolution by explicit bilinear sampling.

    Independent of any deformable-convolution kernel: every kernel tap is
    sampled at ``base + (dy, dx)`` with bilinear weights over the four
    neighbouring pixels (zero outside the image), multiplied by the mask,
    then contracted with the weight as a grouped 1x1 convolution.
    """
    n, c, h, w = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    h_out = (h + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    k = kh * kw
    offset = offset.view(n, deform_groups, k, 2, h_out, w_out)
    if mask is None:
        mask = x.new_ones(n, deform_groups * k, h_out, w_out)
    mask = mask.view(n, deform_groups, k, h_out, w_out)
    ys = torch.arange(h_out, dtype=x.dtype) * stride - padding
    xs = torch.arange(w_out, dtype=x.dtype) * stride - padding
    taps_y = torch.arange(kh, dtype=x.dtype).repeat_interleave(kw) * dilation
    taps_x = torch.arange(kw, dtype=x.dtype).repeat(kh) * dilation
    py = (ys.view(1, 1, 1, h_out, 1) + taps_y.view(1, 1, k, 1, 1) +
          offset[:, :, :, 0])
    px = (xs.view(1, 1, 1, 1, w_out) + taps_x.view(1, 1, k, 1, 1) +
          offset[:, :, :, 1])
    y0, x0 = torch.floor(py), torch.floor(px)
    xg = x.view(n, deform_groups, c // deform_groups, h * w)
    sampled = 0
    for cy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for cx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            inside = (cy >= 0) & (cy <= h - 1) & (cx >= 0) & (cx <= w - 1)
            index = (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)).long()
            values = torch.gather(
                xg.unsqueeze(3).expand(-1, -1, -1, k, -1), 4,
                index.view(n, deform_groups, 1, k, h_out * w_out).expand(
                    -1, -1, c // deform_groups, -1, -1))
            values = values.view(n, deform_groups, c // deform_groups, k,
                                 h_out, w_out)
            sampled = sampled + values * (wy * wx * inside).unsqueeze(2)
    sampled = sampled * mask.unsqueeze(2)
    columns = sampled.reshape(n, c, k, h_out, w_out)
    out = torch.einsum('ngckhw,gock->ngohw',
                       columns.view(n, groups, c // groups, k, h_out, w_out),
                       weight.view(groups, c_out // groups, c_per_group, k))
    out = out.reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def test_mmcv_expected_values_modulated_pack():
    from mmcv.ops import ModulatedDeformConv2dPack
    for dtype in (torch.double, torch.float):
        x = torch.tensor(MMCV_INPUT, dtype=dtype, requires_grad=True)
        dcn = ModulatedDeformConv2dPack(
            1, 1, kernel_size=(2, 2), stride=1, padding=1, deform_groups=1,
            bias=False).to(dtype)
        dcn.weight.data.fill_(1.)
        out = dcn(x)
        out.sum().backward()
        torch.testing.assert_close(
            out, torch.tensor(MMCV_OUTPUT, dtype=dtype), atol=1e-2, rtol=0)
        torch.testing.assert_close(
            x.grad, torch.tensor(MMCV_INPUT_GRAD, dtype=dtype), atol=1e-2,
            rtol=0)
        torch.testing.assert_close(
            dcn.weight.grad, torch.tensor(MMCV_WEIGHT_GRAD, dtype=dtype),
            atol=1e-2, rtol=0)
        # The mask half of the offset-conv bias gradient is exact; its
        # offset half differs from mmcv's where taps fall exactly on
        # integer positions at the border (a different subgradient).
        torch.testing.assert_close(
            dcn.conv_offset.bias.grad[8:],
            torch.tensor(MMCV_OFFSET_BIAS_GRAD[8:], dtype=dtype), atol=1e-2,
            rtol=0)


@pytest.mark.parametrize('stride,padding,dilation,groups,deform_groups', [
    (1, 1, 1, 1, 1),
    (2, 1, 1, 1, 2),
    (1, 2, 2, 2, 1),
    (2, 0, 1, 2, 2),
])
def test_modulated_matches_bilinear_reference(stride, padding, dilation,
                                              groups, deform_groups):
    from mmcv.ops import modulated_deform_conv2d
    torch.manual_seed(0)
    n, c, h, w, c_out = 2, 4, 7, 9, 6
    x = torch.randn(n, c, h, w, dtype=torch.double, requires_grad=True)
    weight = torch.randn(
        c_out, c // groups, 3, 3, dtype=torch.double, requires_grad=True)
    bias = torch.randn(c_out, dtype=torch.double, requires_grad=True)
    h_out = (h + 2 * padding - dilation * 2 - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * 2 - 1) // stride + 1
    # fractional offsets: no tap on an integer position (see the border
    # note above), some taps outside the image
    offset = (torch.rand(n, deform_groups * 18, h_out, w_out,
                         dtype=torch.double) * 6 - 3 + 0.137)
    offset.requires_grad_(True)
    mask = torch.rand(n, deform_groups * 9, h_out, w_out,
                      dtype=torch.double, requires_grad=True)
    args = (stride, padding, dilation, groups, deform_groups)
    out = modulated_deform_conv2d(x, offset, mask, weight, bias, *args)
    ref = reference_deform_conv(x, offset, mask, weight, bias, *args)
    torch.testing.assert_close(out, ref, atol=1e-10, rtol=1e-10)
    grad_out = torch.randn_like(out)
    inputs = (x, offset, mask, weight, bias)
    got = torch.autograd.grad(out, inputs, grad_out)
    want = torch.autograd.grad(ref, inputs, grad_out)
    for name, g, r in zip(('input', 'offset', 'mask', 'weight', 'bias'), got,
                          want):
        torch.testing.assert_close(g, r, atol=1e-8, rtol=1e-8, msg=name)


def test_deform_conv_pack_matches_reference_and_keeps_keys():
    from mmcv.ops import DeformConv2dPack, ModulatedDeformConv2dPack
    torch.manual_seed(1)
    dcn = DeformConv2dPack(4, 6, 3, padding=1, deform_groups=2).double()
    torch.nn.init.normal_(dcn.conv_offset.weight, std=0.3)
    x = torch.randn(1, 4, 8, 8, dtype=torch.double)
    offset = dcn.conv_offset(x)
    ref = reference_deform_conv(x, offset, None, dcn.weight, None, 1, 1, 1,
                                1, 2)
    torch.testing.assert_close(dcn(x), ref, atol=1e-10, rtol=1e-10)
    assert sorted(dcn.state_dict()) == [
        'conv_offset.bias', 'conv_offset.weight', 'weight'
    ]
    mdcn = ModulatedDeformConv2dPack(4, 6, 3, padding=1)
    assert sorted(mdcn.state_dict()) == [
        'bias', 'conv_offset.bias', 'conv_offset.weight', 'weight'
    ]


def test_mmagic_deformable_restorers_build_and_run():
    from mmagic.registry import MODELS
    net = MODELS.build(
        dict(type='BasicVSRPlusPlusNet', mid_channels=8, num_blocks=1,
             is_low_res_input=False, spynet_pretrained=None,
             cpu_cache_length=100))
    # the NTIRE21 decompression mode computes flows at 1/4 size, >= 64 px
    with torch.no_grad():
        out = net(torch.rand(1, 2, 3, 256, 256))
    assert out.shape == (1, 2, 3, 256, 256)
    assert torch.isfinite(out).all()
    edvr = MODELS.build(
        dict(type='EDVRNet', in_channels=3, out_channels=3, mid_channels=8,
             num_frames=3, deform_groups=2, num_blocks_extraction=1,
             num_blocks_reconstruction=1, center_frame_idx=1,
             with_tsa=False))
    with torch.no_grad():
        out = edvr(torch.rand(1, 3, 3, 32, 32))
    assert out.shape == (1, 3, 128, 128)


def test_op_rebound_in_modules_that_imported_it_first():
    import mmcv.ops
    from mmagic.models.editors.basicvsr_plusplus_net import \
        basicvsr_plusplus_net as bpp
    assert mmcv.ops.modulated_deform_conv2d is (
        compat.torchvision_modulated_deform_conv2d)
    assert bpp.modulated_deform_conv2d is (
        compat.torchvision_modulated_deform_conv2d)
    assert mmcv.ops.deform_conv2d is compat.torchvision_deform_conv2d


def test_mismatched_deform_groups_is_a_clear_error():
    from mmcv.ops import modulated_deform_conv2d
    x = torch.rand(1, 4, 5, 5)
    with pytest.raises(ValueError, match='deform_groups=2'):
        modulated_deform_conv2d(x, torch.zeros(1, 18, 5, 5),
                                torch.ones(1, 9, 5, 5),
                                torch.rand(4, 4, 3, 3), None, 1, 1, 1, 1, 2)
