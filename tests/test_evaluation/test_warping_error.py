"""The warping error: the function, the registered metric and pinned
values."""
import importlib

import numpy as np
import pytest
from mmagic.registry import METRICS

from astf_mm.evaluation import WarpingError, warping_error
from tests.test_evaluation.clips import (flicker_and_smooth, realish_clip,
                                         texture, to_tensor, video_sample)

# ``astf_mm.evaluation.warping_error`` is the function (as mmagic's
# ``psnr``)
warp_module = importlib.import_module('astf_mm.evaluation.warping_error')


def test_registered():
    assert METRICS.get('WarpingError') is WarpingError


def test_warping_error_hand_computed():
    ref = np.repeat(texture(64, 64, seed=1)[None], 4, axis=0)
    levels = [40, 100, 40, 100]  # constant output frames
    out = np.stack([np.full((64, 64, 3), v, np.uint8) for v in levels])
    # every pair: ((100 - 40) / 255)^2 on every valid pixel
    assert warping_error(out, ref) == pytest.approx((60 / 255)**2, rel=1e-5)


def test_warping_metric_flow_from_input():
    gt, smooth, flicker = flicker_and_smooth()
    sample = video_sample(flicker, gt, key='a')
    sample['input'] = to_tensor(smooth)  # the flow source
    metric = WarpingError(flow_key='input', skip_frames=1)
    metric.process(None, [sample])
    result = metric.compute_metrics(metric.results)
    assert result['WarpingError'] == pytest.approx(
        warping_error(flicker, smooth, skip_frames=1), rel=1e-6)
    with pytest.raises(KeyError, match='missing'):
        WarpingError(flow_key='missing').process(None, [sample])


def test_fully_occluded_pairs_give_nan(monkeypatch):
    monkeypatch.setattr(warp_module, 'occlusion_mask',
                        lambda bw, fw, mb: np.zeros(bw.shape[:2], bool))
    gt, _, flicker = flicker_and_smooth()
    with pytest.warns(UserWarning, match='fully occluded'):
        assert np.isnan(warping_error(flicker, gt))
    metric = WarpingError()
    metric.process(None, [video_sample(flicker, gt, key='a')])
    assert np.isnan(metric.compute_metrics(metric.results)['WarpingError'])
    assert np.isnan(metric.per_video[0]['WarpingError'])


def test_pinned_values():
    """Values of this implementation (OpenCV's Farneback and remap), kept
    so that a refactoring cannot change them unnoticed."""
    out, gt = realish_clip()
    gt6, smooth, flicker = flicker_and_smooth()
    assert warping_error(out, gt) == pytest.approx(
        0.005469368537887931, rel=1e-6)
    assert warping_error(
        flicker, smooth, motion_boundary=False) == pytest.approx(
            0.004443500656634569, rel=1e-6)
    metric = WarpingError()
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'WarpingError': pytest.approx(0.004959169193170965, rel=1e-6)
    }
    assert metric.per_video[1]['WarpingError'] == pytest.approx(
        0.0044489698484539986, rel=1e-6)
