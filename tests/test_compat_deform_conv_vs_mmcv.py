"""The torchvision stand-ins against mmcv's compiled deformable convolutions.

Runs only where the full mmcv (with ``mmcv._ext``) is importable, e.g. with
a scratch build first on the path (``benchmarks/bench_deform_conv.py`` says
how); under mmcv-lite ``tests/test_compat_deform_conv.py`` covers the
stand-ins against mmcv's expected values and a bilinear reference.
"""
import pytest
import torch

from astf_mm import compat

pytestmark = pytest.mark.skipif(
    not compat.mmcv_has_compiled_ops(),
    reason='needs the full mmcv (compiled ops) to compare with')


@pytest.mark.parametrize('modulated', [True, False])
@pytest.mark.parametrize('stride,padding,dilation,groups,deform_groups',
                         [(1, 1, 1, 1, 1), (2, 2, 2, 2, 4), (1, 0, 1, 1, 2)])
def test_stand_in_matches_compiled(modulated, stride, padding, dilation,
                                   groups, deform_groups):
    from mmcv.ops import deform_conv2d, modulated_deform_conv2d

    # compiled ops, not the stand-ins (no self-comparison)
    assert modulated_deform_conv2d is not (
        compat.torchvision_modulated_deform_conv2d)
    assert deform_conv2d is not compat.torchvision_deform_conv2d
    gen = torch.Generator().manual_seed(stride + 3 * padding + deform_groups)
    n, c_in, c_out, h, w = 2, 8, 4, 11, 9
    h_out = (h + 2 * padding - dilation * 2 - 1) // stride + 1
    w_out = (w + 2 * padding - dilation * 2 - 1) // stride + 1
    tensors = dict(
        x=torch.randn(n, c_in, h, w, generator=gen),
        offset=torch.randn(n, 18 * deform_groups, h_out, w_out, generator=gen)
        * 2,
        weight=torch.randn(c_out, c_in // groups, 3, 3, generator=gen))
    if modulated:
        tensors['mask'] = torch.rand(
            n, 9 * deform_groups, h_out, w_out, generator=gen)
        tensors['bias'] = torch.randn(c_out, generator=gen)
    args = (stride, padding, dilation, groups, deform_groups)

    def run(modulated_op, plain_op):
        t = {k: v.clone().requires_grad_() for k, v in tensors.items()}
        if modulated:
            out = modulated_op(t['x'], t['offset'], t['mask'], t['weight'],
                               t['bias'], *args)
        else:
            out = plain_op(t['x'], t['offset'], t['weight'], *args)
        out.pow(2).sum().backward()
        return out.detach(), {k: v.grad for k, v in t.items()}

    out, grads = run(compat.torchvision_modulated_deform_conv2d,
                     compat.torchvision_deform_conv2d)
    expected_out, expected_grads = run(modulated_deform_conv2d, deform_conv2d)
    torch.testing.assert_close(out, expected_out, rtol=1e-5, atol=1e-5)
    for name, grad in grads.items():
        # random fractional offsets: no tap lies exactly on an integer
        # border position, where the two pick different subgradients
        torch.testing.assert_close(
            grad, expected_grads[name], rtol=1e-4, atol=1e-4, msg=name)
