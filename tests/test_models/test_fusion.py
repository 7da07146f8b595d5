import math

import cv2
import numpy as np
import pytest
import torch

from astf_mm.models import fusion
from astf_mm.models.fusion import (ASTFFusion, astf_mask, fuse,
                                   gaussian_kernel1d, local_variance,
                                   rgb_to_luma, temporal_extrema, unsharp_mask,
                                   variance_map)


def realish_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photograph-like float64 RGB image in [0, 1], shape (h, w, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.3 + 0.4 * xx, 0.5 - 0.3 * yy, 0.4 + 0.2 * xx * yy], -1)
    # Blurred noise: textures at several scales.
    for sigma, amp in ((4.0, 0.3), (1.0, 0.15)):
        field = cv2.GaussianBlur(rng.standard_normal((h, w, 3)), (0, 0),
                                 sigma)
        img += amp * field / field.std()
    img[h // 4:h // 2, w // 3:w // 2] += 0.25  # a sharp-edged object
    img += 0.01 * rng.standard_normal((h, w, 3))  # sensor noise
    return np.clip(img, 0, 1)


def direct_variance(y: np.ndarray, radius: int) -> np.ndarray:
    """Sliding-window population variance, two-pass, reflect padding."""
    k = 2 * radius + 1
    pad = np.pad(y, radius, mode='reflect')
    win = np.lib.stride_tricks.sliding_window_view(pad, (k, k))
    return win.var(axis=(-2, -1))


def to_clip(frames) -> torch.Tensor:
    """(t, h, w, 3) numpy RGB -> (1, t, 3, h, w) tensor."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(
        0, 3, 1, 2)[None]


# ---------------------------------------------------------------- luma


def test_luma_matches_formula_and_cv2():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (17, 23, 3), dtype=np.uint8)
    y = rgb_to_luma(to_clip(rgb[None].astype(np.float64) / 255))[0, 0, 0]
    formula = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] +
               0.114 * rgb[..., 2])
    np.testing.assert_allclose(y.numpy(), formula, atol=1e-9)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    cv_y8 = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)[..., 0]
    # cv2 rounds to uint8 with 14-bit fixed-point weights.
    assert np.abs(y.numpy() - cv_y8).max() <= 0.5 + 0.02
    cv_yf = cv2.cvtColor(bgr.astype(np.float32), cv2.COLOR_BGR2YUV)[..., 0]
    np.testing.assert_allclose(y.numpy(), cv_yf, atol=1e-3)


def test_luma_data_range_and_shape():
    x = torch.full((2, 3, 3, 4, 5), 127.5)
    y = rgb_to_luma(x, data_range=255.0)
    assert y.shape == (2, 3, 1, 4, 5)
    assert torch.allclose(y, torch.full_like(y, 127.5))
    with pytest.raises(ValueError, match='3, h, w'):
        rgb_to_luma(torch.zeros(1, 1, 4, 5, 5))


# ------------------------------------------------------- local variance


@pytest.mark.parametrize('radius', [0, 1, 2, 5, 11, 40])
def test_local_variance_equals_direct(radius):
    # 7 x 30: r = 11 and r = 40 windows are larger than a side.
    y = np.random.default_rng(radius).random((7, 30)) * 255
    ours = local_variance(torch.from_numpy(y), radius).numpy()
    np.testing.assert_allclose(ours, direct_variance(y, radius), atol=1e-8)


def test_local_variance_single_row_repeats():
    y = torch.tensor([[10.0, 20.0, 40.0, 80.0]], dtype=torch.float64)
    ours = local_variance(y, 1)
    # Rows reflect onto themselves (side 1): the window is 3 copies of
    # the row's 3 neighbours, e.g. (10, 20, 40) at column 1.
    ref = direct_variance(np.repeat(y.numpy(), 3, 0), 1)[1:2]
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-9)
    assert ours[0, 1].item() == pytest.approx(np.var([10, 20, 40]))


def test_local_variance_equals_cv2_box_filter():
    rgb = realish_rgb(96, 128)
    y = rgb_to_luma(to_clip(rgb[None]))[0, 0, 0].numpy()
    blur = dict(ksize=(23, 23), borderType=cv2.BORDER_REFLECT_101)
    ref = cv2.blur(y * y, **blur) - cv2.blur(y, **blur)**2
    ours = local_variance(torch.from_numpy(y), 11).numpy()
    assert ref.max() > 100  # the image is textured
    np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_local_variance_not_negative_with_large_offset():
    rng = np.random.default_rng(2)
    y = 255.0 + 1e-4 * rng.standard_normal((60, 70))
    ours = local_variance(torch.from_numpy(y), 11).numpy()
    ref = direct_variance(y, 11)
    assert ours.min() >= 0
    # About 1e-8: kept to 1e-3 relative despite the 255 offset.
    np.testing.assert_allclose(ours, ref, rtol=1e-3)
    # float32 input: computed in float64, still not negative.
    ours32 = local_variance(torch.from_numpy(y).float(), 11)
    assert ours32.dtype == torch.float32 and ours32.min().item() >= 0


def test_local_variance_clamps_rounding_negatives():
    rng = np.random.default_rng(3)
    y = np.full((64, 128), 200.0)
    y[:, :50] = rng.random((64, 50)) * 255
    t = torch.from_numpy(y)
    # The unclamped formula leaves rounding residue around 0 in the flat
    # part (cumulative sums carry the textured part's magnitude) ...
    shifted = t - t[:1, :1]
    mean = fusion._box_sum(fusion._box_sum(shifted, 11, -2), 11, -1) / 529
    mean_sq = fusion._box_sum(fusion._box_sum(shifted**2, 11, -2), 11,
                              -1) / 529
    assert ((mean_sq - mean**2) < 0).any()
    # ... which local_variance clamps.
    ours = local_variance(t, 11)
    assert ours.min().item() == 0.0
    assert ours[:, 62:].max().item() < 1e-9
    np.testing.assert_allclose(
        ours.numpy(), direct_variance(y, 11), atol=1e-7)


def test_local_variance_constant_is_exactly_zero():
    v = local_variance(torch.full((2, 3, 1, 9, 8), 123.456), 3)
    assert torch.equal(v, torch.zeros_like(v))


# ----------------------------------------------------------------- mask


def test_constant_frames_give_zero_mask_and_i2():
    # Different constants per frame: every window flat, p == q == 0.
    i2 = torch.linspace(0.1, 0.9, 4).view(1, 4, 1, 1, 1).expand(
        2, 4, 3, 16, 20).contiguous()
    i1 = torch.rand(2, 4, 3, 16, 20)
    out = ASTFFusion()(i1, i2)
    assert torch.equal(out['mask'], torch.zeros(2, 4, 1, 16, 20))
    assert torch.equal(out['fused'], i2)


def test_uniform_texture_p_equals_q_gives_zero_mask():
    # A one-pixel checkerboard: every 23 x 23 window holds 264 pixels of
    # one colour and 265 of the other, so V is the same everywhere.
    board = ((torch.arange(30)[:, None] + torch.arange(40)) % 2).double()
    i2 = board.expand(1, 3, 3, 30, 40)
    var = variance_map(i2)
    expected = 255.0**2 * 264 * 265 / 529**2
    assert torch.allclose(var, torch.full_like(var, expected))
    p, q = temporal_extrema(var)
    assert torch.equal(p, q)
    assert torch.equal(astf_mask(i2), torch.zeros(1, 3, 1, 30, 40))


def test_textured_patch_in_flat_frame():
    h = w = 64
    frame = torch.full((3, h, w), 0.5, dtype=torch.float64)
    board = ((torch.arange(8)[:, None] + torch.arange(8)) % 2).double()
    frame[:, 28:36, 28:36] = board  # luma 0 / 255 on a 127.5 background
    i2 = frame.expand(1, 3, 3, h, w)
    var = variance_map(i2)
    # A window holding the whole patch: 32 pixels at 0, 32 at 255, 465 at
    # 127.5 (hand computation).
    values = np.array([0.0] * 32 + [255.0] * 32 + [127.5] * 465)
    assert var[0, 1, 0, 32, 32].item() == pytest.approx(values.var())
    mask = astf_mask(i2)
    # Mask 1 where the window holds the whole patch (rows and columns
    # 24..39: i - 11 <= 28 and i + 11 >= 35), below 1 elsewhere.
    peak = torch.zeros(h, w, dtype=torch.bool)
    peak[24:40, 24:40] = True
    assert (mask[0, :, 0][:, peak] == 1.0).all()
    assert mask[0, :, 0][:, ~peak].max().item() < 1.0
    # Windows that do not reach the patch (more than r = 11 away) are 0.
    assert mask[0, :, 0, :16].abs().max().item() == 0.0
    assert mask[0, :, 0, :, 48:].abs().max().item() == 0.0


def amplitude_clip(amps, h=40, w=48):
    """Frames 0.5 + a_t * pattern; the pattern is flat on its left half."""
    rng = np.random.default_rng(5)
    pattern = np.zeros((h, w))
    pattern[:, 30:] = rng.random((h, w - 30)) - 0.5
    frames = [0.5 + 0.4 * a * pattern for a in amps]
    return torch.from_numpy(np.stack(frames)).view(1, len(amps), 1, h,
                                                   w).expand(-1, -1, 3, -1,
                                                             -1)


def test_first_and_last_frames_use_existing_frames_only():
    amps = [1.0, 2.0, 3.0, 1.0]
    i2 = amplitude_clip(amps)
    # V_t = a_t^2 V_pattern and min V = 0 (flat part), so
    # mask_t = a_t^2 / max(a^2 over the window) * V_pattern / max V_pattern
    per_frame = astf_mask(i2, temporal_radius=0)
    assert torch.allclose(per_frame.amax((2, 3, 4)),
                          torch.ones(1, 4, dtype=torch.float64))
    vn = per_frame[:, 0]
    mask = astf_mask(i2)
    expected = [1 / 4, 4 / 9, 1.0, 1 / 9]  # windows {0,1} {0,1,2} ... {2,3}
    for t, ratio in enumerate(expected):
        assert torch.allclose(mask[:, t], ratio * vn, atol=1e-12), t
    # Frame 0 is normalised by frames 0-1 only (p_0 = 4 max V_pattern),
    # frame 2 by frames 1-3 (p_2 = 9 max V_pattern).
    var = variance_map(i2)
    p, q = temporal_extrema(var)
    vmax = var[:, 0].max()
    assert p[0, :, 0, 0, 0].div(vmax).tolist() == pytest.approx(
        [4.0, 9.0, 9.0, 9.0])
    assert q.abs().max().item() < 1e-9
    # temporal_radius=2: frame 0 now also sees frame 2.
    wide = astf_mask(i2, temporal_radius=2)
    assert torch.allclose(wide[:, 0], vn / 9, atol=1e-12)


@pytest.mark.parametrize('temporal_radius', [1, 2])
def test_chunked_equals_whole(temporal_radius):
    rng = np.random.default_rng(6)
    t = 10
    # Alternating amplitudes: every frame's window max is a neighbour.
    amps = [1.5, 0.3, 1.4, 0.4, 1.3, 0.5, 1.2, 0.6, 1.1, 0.7]
    clip = amplitude_clip(amps).float()
    clip = clip + 0.05 * torch.from_numpy(rng.random(clip.shape)).float()
    whole = astf_mask(clip, temporal_radius=temporal_radius)
    ctx = temporal_radius
    pieces = []
    for start in range(0, t, 3):  # chunks of 3 kept frames
        stop = min(start + 3, t)
        lo, hi = max(start - ctx, 0), min(stop + ctx, t)
        mask = astf_mask(clip[:, lo:hi], temporal_radius=temporal_radius)
        pieces.append(mask[:, start - lo:stop - lo])
    assert torch.equal(torch.cat(pieces, 1), whole)
    # Without context the edge frames differ: the test has teeth.
    bad = astf_mask(clip[:, 3:6], temporal_radius=temporal_radius)
    assert not torch.equal(bad, whole[:, 3:6])


def test_mask_shapes_and_dtypes():
    for dtype in (torch.float32, torch.float64):
        i2 = torch.rand(2, 3, 3, 12, 10, dtype=dtype)
        i1 = torch.rand(2, 3, 3, 12, 10, dtype=dtype)
        mask = astf_mask(i2, radius=2)
        assert mask.shape == (2, 3, 1, 12, 10) and mask.dtype == dtype
        assert mask.min().item() >= 0 and mask.max().item() <= 1
        assert local_variance(rgb_to_luma(i2), 2).dtype == dtype
        out = ASTFFusion(radius=2)(i1, i2)
        for key in ('fused', 'fused_sharp'):
            assert out[key].shape == (2, 3, 3, 12, 10)
            assert out[key].dtype == dtype
    half = astf_mask(torch.rand(1, 2, 3, 12, 10).half(), radius=2)
    assert half.dtype == torch.float16 and half.max().item() == 1.0
    # Samples of a batch are independent.
    i2 = torch.rand(2, 3, 3, 12, 10, dtype=torch.float64)
    both = astf_mask(i2, radius=2)
    assert torch.equal(both[1:], astf_mask(i2[1:], radius=2))


def test_mask_data_range():
    i2 = torch.from_numpy(realish_rgb(20, 24)).permute(2, 0, 1)
    i2 = i2.expand(1, 2, 3, 20, 24)
    assert torch.allclose(
        astf_mask(i2 * 255, data_range=255.0), astf_mask(i2), atol=1e-12)


def test_mask_rejects_bad_input():
    with pytest.raises(ValueError, match='n, t, 3, h, w'):
        astf_mask(torch.rand(1, 3, 8, 8))
    with pytest.raises(TypeError, match='float'):
        astf_mask(torch.zeros(1, 1, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match='temporal_radius'):
        astf_mask(torch.rand(1, 2, 3, 8, 8), temporal_radius=-1)
    with pytest.raises(ValueError, match='same shape'):
        ASTFFusion()(torch.rand(1, 2, 3, 8, 8), torch.rand(1, 3, 3, 8, 8))


# ----------------------------------------------------------- sharpening


def test_gaussian_kernel():
    k = gaussian_kernel1d(3)
    np.testing.assert_allclose(
        k.numpy(), cv2.getGaussianKernel(3, 0.8).ravel(), atol=1e-12)
    # cv2's sigma=0 table for ksize 3 is (1, 2, 1) / 4.
    binomial = gaussian_kernel1d(3, 1 / math.sqrt(2 * math.log(2)))
    np.testing.assert_allclose(binomial.numpy(), [0.25, 0.5, 0.25])
    with pytest.raises(ValueError, match='odd'):
        gaussian_kernel1d(4)


def test_unsharp_step_edge():
    x = torch.full((1, 1, 3, 8, 10), 0.2)
    x[..., 5:] = 0.8
    out = unsharp_mask(x, amount=1.0)
    a = gaussian_kernel1d(3)[0].item()  # 0.2390 off-centre weight
    # Left of the edge the blur sees 0.2 + 0.6 a: undershoot, and the
    # mirror image on the right.
    assert out[0, 0, 0, 0, 4].item() == pytest.approx(0.2 - 0.6 * a, abs=1e-6)
    assert out[0, 0, 0, 0, 5].item() == pytest.approx(0.8 + 0.6 * a, abs=1e-6)
    assert out[0, 0, 0, 0, 4].item() < 0.2 < 0.8 < out[0, 0, 0, 0, 5].item()
    assert torch.allclose(out[..., :4], x[..., :4], atol=1e-6)
    assert torch.allclose(out[..., 6:], x[..., 6:], atol=1e-6)
    # A full-range step would overshoot out of range: clipped.
    y = torch.zeros(1, 1, 3, 8, 10)
    y[..., 5:] = 1.0
    assert torch.equal(unsharp_mask(y, amount=1.0), y)
    y255 = unsharp_mask(y * 255, amount=2.0, data_range=255.0)
    assert torch.equal(y255, y * 255)


def test_unsharp_flat_unchanged_and_amount_zero():
    flat = torch.full((2, 3, 3, 6, 7), 0.37, dtype=torch.float64)
    assert torch.allclose(unsharp_mask(flat), flat, atol=1e-12)
    x = torch.rand(1, 2, 3, 9, 9)
    assert torch.equal(unsharp_mask(x, amount=0.0), x)


@pytest.mark.parametrize('ksize,sigma,cv_sigma', [(3, None, 0.8),
                                                  (3, 1 / math.sqrt(
                                                      2 * math.log(2)), 0),
                                                  (5, 1.3, 1.3)])
@pytest.mark.parametrize('amount', [0.5, 1.0, 3.0])
def test_unsharp_equals_cv2(ksize, sigma, cv_sigma, amount):
    img = realish_rgb(37, 41, seed=7).astype(np.float32)
    blur = cv2.GaussianBlur(
        img, (ksize, ksize),
        sigmaX=cv_sigma,
        sigmaY=cv_sigma,
        borderType=cv2.BORDER_REFLECT_101)
    ref = np.clip(img + amount * (img - blur), 0, 1)
    ours = unsharp_mask(
        to_clip(img[None]), amount=amount, ksize=ksize, sigma=sigma)
    assert ours.dtype == torch.float32
    np.testing.assert_allclose(
        ours[0, 0].permute(1, 2, 0).numpy(), ref, atol=1e-5)


def test_unsharp_tiny_image_and_half_precision():
    # A 1 x 2 image with ksize 5: repeated reflection.
    x = torch.tensor([0.2, 0.6]).view(1, 1, 1, 1, 2).expand(1, 1, 3, 1, 2)
    ours = unsharp_mask(x, amount=1.0, ksize=5, sigma=1.0)
    k = gaussian_kernel1d(5, 1.0)
    # Columns of the padded row: 0.2 0.6 | 0.2 0.6 | 0.2 0.6 (period 2).
    blur0 = (k[0] + k[2] + k[4]) * 0.2 + (k[1] + k[3]) * 0.6
    assert ours[0, 0, 0, 0, 0].item() == pytest.approx(
        0.4 - blur0.item(), abs=1e-6)
    half = unsharp_mask(torch.rand(1, 1, 3, 8, 8).half())
    assert half.dtype == torch.float16


# --------------------------------------------------------------- module


def test_module_equals_manual_composition_and_registry():
    from mmagic.registry import MODELS

    rng = np.random.default_rng(8)
    i2 = torch.from_numpy(
        np.stack([realish_rgb(30, 34, seed=s) for s in range(4)])).permute(
            0, 3, 1, 2)[None].float()
    i1 = (i2 + 0.05 * torch.from_numpy(rng.standard_normal(
        i2.shape)).float()).clamp(0, 1)
    model = MODELS.build(
        dict(type='ASTFFusion', radius=5, sharpen_amount=2.0))
    assert isinstance(model, ASTFFusion)
    out = model(i1, i2)
    mask = astf_mask(i2, radius=5)
    fused = mask * i1 + (1 - mask) * i2
    assert torch.equal(out['mask'], mask)
    assert torch.equal(out['fused'], fused)
    assert torch.equal(out['fused'], fuse(i1, i2, mask))
    assert torch.equal(out['fused_sharp'], unsharp_mask(fused, amount=2.0))
    assert 0 < mask.mean().item() < 1
    plain = ASTFFusion(radius=5, sharpen=False)(i1, i2)
    assert set(plain) == {'fused', 'mask'}
    assert torch.equal(plain['fused'], fused)
    # the call's sharpen overrides the module's, both ways
    assert set(model(i1, i2, sharpen=False)) == {'fused', 'mask'}
    assert torch.equal(
        ASTFFusion(radius=5, sharpen=False)(i1, i2, sharpen=True)
        ['fused_sharp'], unsharp_mask(fused))
    with pytest.raises(ValueError, match='odd'):
        ASTFFusion(sharpen_ksize=2)
    sigma = 1 / math.sqrt(2 * math.log(2))
    wide = ASTFFusion(radius=5, sharpen_ksize=5, sharpen_sigma=sigma)
    assert torch.equal(
        wide(i1, i2)['fused_sharp'],
        unsharp_mask(fused, ksize=5, sigma=sigma))
    assert 'sharpen_sigma=0.849' in repr(wide)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    i2 = torch.rand(2, 3, 3, 40, 50)
    i1 = torch.rand(2, 3, 3, 40, 50)
    cpu = ASTFFusion()(i1, i2)
    gpu = ASTFFusion()(i1.cuda(), i2.cuda())
    for key, value in cpu.items():
        assert gpu[key].device.type == 'cuda'
        torch.testing.assert_close(gpu[key].cpu(), value, atol=1e-5,
                                   rtol=1e-5)
