import pytest
import torch

from astf_mm.models import chroma
from astf_mm.models.chroma import (CHROMA_420_TOLERANCE, Chroma420Projection,
                                   is_chroma_420, keep_input_chroma,
                                   project_chroma_420)
from tests.utils import colour_differences, frame_420, luma


def test_a_420_frame_is_a_fixed_point():
    x = frame_420((2, 3, 3, 10, 14))
    assert x.min() > 0 and x.max() < 1
    out = project_chroma_420(x)
    assert out.shape == x.shape
    assert (out - x).abs().max() < 1e-6


def test_luma_is_kept_and_chroma_becomes_2x2_blocks():
    torch.manual_seed(0)
    # mid-range values: no clamping
    x = 0.4 + 0.2 * torch.rand(1, 2, 3, 8, 12)
    out = project_chroma_420(x)
    assert (luma(out) - luma(x)).abs().max() < 1e-6
    diff = colour_differences(out)
    # each 2x2 block holds one value: its mean of the input's
    blocks = diff.reshape(1, 2, 2, 4, 2, 6, 2)
    assert (blocks - blocks[..., :1, :, :1]).abs().max() < 1e-6
    expected = colour_differences(x).reshape(1, 2, 2, 4, 2, 6, 2).mean(
        dim=(-3, -1))
    assert (blocks[..., 0, :, 0] - expected).abs().max() < 1e-6
    # a projection: applying it twice changes nothing
    assert (project_chroma_420(out) - out).abs().max() < 1e-6
    # the input had chroma detail that is now gone
    assert (out - x).abs().max() > 0.05


def test_it_is_the_closest_420_chroma():
    torch.manual_seed(1)
    x = 0.4 + 0.2 * torch.rand(4, 3, 16, 16)
    out = project_chroma_420(x)
    for seed in range(5):
        target = frame_420((4, 3, 16, 16), seed)
        err_in = (colour_differences(x) - colour_differences(target))
        err_out = (colour_differences(out) - colour_differences(target))
        assert err_out.pow(2).sum() < err_in.pow(2).sum()


def test_odd_sizes_average_the_last_partial_block():
    torch.manual_seed(2)
    x = 0.4 + 0.2 * torch.rand(3, 5, 7)
    out = project_chroma_420(x)
    assert out.shape == (3, 5, 7)
    diff_in, diff_out = colour_differences(x), colour_differences(out)
    # bottom-right pixel alone in its block: unchanged
    assert torch.allclose(out[:, 4, 6], x[:, 4, 6], atol=1e-6)
    # last column, rows 0-1: a 2x1 block
    assert torch.allclose(diff_out[:, 0, 6], diff_in[:, 0:2, 6].mean(-1),
                          atol=1e-6)
    # last row, columns 2-3: a 1x2 block
    assert torch.allclose(diff_out[:, 4, 2], diff_in[:, 4, 2:4].mean(-1),
                          atol=1e-6)


def test_range_and_dtype():
    x = torch.zeros(1, 3, 4, 4)
    x[:, 1, 0, 0] = 1.0  # a lone green pixel: its block's chroma spreads
    out = project_chroma_420(x)
    assert out.min() >= 0 and out.max() <= 1
    half = project_chroma_420(frame_420((3, 6, 6)).half())
    assert half.dtype == torch.float16
    x255 = frame_420((3, 6, 6)) * 255
    assert (project_chroma_420(x255, data_range=255) - x255).abs().max() < 1e-3


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match=r'\(1, 4, 8, 8\)'):
        project_chroma_420(torch.zeros(1, 4, 8, 8))


def test_is_chroma_420_tells_decoded_frames_from_full_chroma():
    frame = frame_420((2, 3, 16, 16))
    assert is_chroma_420(frame)
    # 8-bit rounding of a 4:2:0 frame is still 4:2:0
    assert is_chroma_420((frame * 255).round() / 255)
    assert is_chroma_420((frame * 255).round(), data_range=255)
    torch.manual_seed(3)
    noisy = frame + 0.02 * torch.randn_like(frame)
    assert not is_chroma_420(noisy.clamp(0, 1))
    # just past the tolerance: one colour difference off in one pixel per
    # block, by an amount whose mean over the frame exceeds it
    off = frame.clone()
    off[:, 2, ::2, ::2] += 8 * CHROMA_420_TOLERANCE
    assert not is_chroma_420(off)


def test_clipped_blocks_do_not_hide_a_420_frame():
    frame = frame_420((3, 16, 16))
    # a decoder clips out-of-gamut colours: saturate a quarter of the frame
    # so that its blue is clipped at 0, pixel by pixel
    clipped = frame.clone()
    clipped[2, :8, :8] = torch.clamp(clipped[2, :8, :8] - 0.6, min=0)
    assert (clipped[2, :8, :8] == 0).any()
    distance = (project_chroma_420(clipped) - clipped).abs().mean()
    assert distance > CHROMA_420_TOLERANCE  # the whole frame looks off
    assert is_chroma_420(clipped)
    # full chroma in the unclipped blocks is still found
    torch.manual_seed(6)
    clipped[:, 8:, 8:] += 0.05 * torch.randn(3, 8, 8)
    assert not is_chroma_420(clipped.clamp(0.01, 0.99))
    # all blocks clipped: nothing to go by, taken as 4:2:0
    assert is_chroma_420(torch.zeros(3, 4, 4))


def test_projection_follows_the_input_and_warns_once(monkeypatch):
    lqs = frame_420((2, 3, 8, 10), seed=3)
    full = 0.4 + 0.2 * torch.rand(2, 3, 8, 10,
                                  generator=torch.Generator().manual_seed(4))
    # an output a little out of range, with chroma at every pixel
    out = full * 1.8 - 0.3
    logged = []
    monkeypatch.setattr(chroma, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))

    projection = Chroma420Projection()
    projected = projection.for_input(lqs)(out)
    assert torch.allclose(projected, project_chroma_420(out.clamp(0, 1)))
    assert projected.min() >= 0 and projected.max() <= 1
    assert is_chroma_420(projected)
    # a full-chroma input: the output passes unchanged, one warning
    for _ in range(3):
        assert torch.equal(projection.for_input(full)(out), out)
    assert len(logged) == 1 and 'full-resolution chroma' in logged[0]
    # disabled: unchanged, silent
    assert torch.equal(Chroma420Projection(enabled=False).for_input(lqs)(out),
                       out)
    assert len(logged) == 1


def test_keep_input_chroma_takes_luma_from_the_output_colour_from_the_input():
    lqs = frame_420((2, 3, 3, 10, 14), seed=1)
    gen = torch.Generator().manual_seed(2)
    out = lqs + 0.05 * (torch.rand(lqs.shape, generator=gen) - 0.5)
    kept = keep_input_chroma(out, lqs)
    assert torch.allclose(luma(kept), luma(out), atol=1e-6)
    assert torch.allclose(
        colour_differences(kept), colour_differences(lqs), atol=1e-6)
    # the input plus the luma change, the same on the three channels
    change = (kept - lqs)
    assert torch.allclose(
        change[..., 0, :, :], change[..., 2, :, :], atol=1e-6)
    assert torch.allclose(change[..., 1, :, :], luma(out) - luma(lqs),
                          atol=1e-6)
    # a 4:2:0 input gives a 4:2:0 output
    assert torch.allclose(project_chroma_420(kept), kept, atol=1e-6)


def test_keep_input_chroma_clamps_and_checks_shapes():
    lqs = torch.full((1, 3, 4, 4), 0.98)
    out = lqs + 0.05  # luma +0.05: beyond white on every channel
    kept = keep_input_chroma(out.double(), lqs)
    assert kept.dtype == torch.float64
    assert torch.all(kept == 1.0)
    out = lqs.clone()
    out[:, 1] = 0.9  # luma -0.587 x 0.08 on every channel
    assert torch.allclose(
        keep_input_chroma(out, lqs), torch.full_like(lqs, 0.93304))
    with pytest.raises(ValueError, match='one shape'):
        keep_input_chroma(out[..., :3], lqs)
    with pytest.raises(ValueError, match='RGB'):
        keep_input_chroma(out[:, :2], lqs[:, :2])
