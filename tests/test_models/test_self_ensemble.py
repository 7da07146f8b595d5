"""build_self_ensemble: mmagic's geometric self-ensemble from a config."""
import pytest
import torch

from astf_mm.models.self_ensemble import (build_self_ensemble,
                                          self_ensemble_of_passes)


def shift_right(frames: torch.Tensor) -> torch.Tensor:
    """Not orientation-free: moves every frame one pixel along its width."""
    return frames.roll(1, dims=-1)


def test_none_is_no_ensemble():
    assert build_self_ensemble(None) is None


@pytest.mark.parametrize('cfg, match', [
    (dict(type='Flip'), "'Flip'"),
    (dict(), 'None'),
    (dict(type='SpatialTemporalEnsemble', passes=8), 'passes'),
])
def test_other_configs_are_refused(cfg, match):
    with pytest.raises(ValueError, match=match):
        build_self_ensemble(cfg)


def test_averages_the_eight_flips_and_transposes():
    frames = torch.rand(
        1, 3, 2, 5, 5, generator=torch.Generator().manual_seed(0))
    ensemble = build_self_ensemble(dict(type='SpatialTemporalEnsemble'))
    # Conjugated by the 8 symmetries of the square, a one-pixel shift along
    # the width becomes a shift by +-1 along the width or the height, each
    # twice: the average is the mean of the four neighbours.
    expected = (frames.roll(1, -1) + frames.roll(-1, -1) + frames.roll(1, -2)
                + frames.roll(-1, -2)) / 4
    torch.testing.assert_close(ensemble(frames, shift_right), expected)
    # an orientation-free network is left as it is
    torch.testing.assert_close(ensemble(frames, lambda x: 2 * x), 2 * frames)


def test_temporal_ensemble_also_reverses_the_clip():
    frames = torch.rand(
        1, 3, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    ensemble = build_self_ensemble(
        dict(type='SpatialTemporalEnsemble', is_temporal_ensemble=True))

    def previous_frame(x):  # frame t takes frame t - 1 (the first, itself)
        return torch.cat([x[:, :1], x[:, :-1]], dim=1)

    forward = previous_frame(frames)
    backward = previous_frame(frames.flip(1)).flip(1)  # takes frame t + 1
    torch.testing.assert_close(
        ensemble(frames, previous_frame), (forward + backward) / 2)


def test_passes_name_the_spatial_or_the_spatial_temporal_ensemble():
    frames = torch.rand(
        1, 3, 2, 5, 5, generator=torch.Generator().manual_seed(2))

    def previous_frame(x):
        return torch.cat([x[:, :1], x[:, :-1]], dim=1)

    assert self_ensemble_of_passes(None) is None
    # a network without orientation: x8 leaves it, x16 also averages it
    # with its time-reversed run
    forward = previous_frame(frames)
    backward = previous_frame(frames.flip(1)).flip(1)
    torch.testing.assert_close(
        self_ensemble_of_passes('x8')(frames, previous_frame), forward)
    torch.testing.assert_close(
        self_ensemble_of_passes('x16')(frames, previous_frame),
        (forward + backward) / 2)
    with pytest.raises(ValueError, match="'x4'"):
        self_ensemble_of_passes('x4')
