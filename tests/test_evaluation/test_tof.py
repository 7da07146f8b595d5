"""tOF: the function, the registered metric and pinned values."""
import importlib

import cv2
import numpy as np
import pytest

from astf_mm.evaluation import TOF, tof, warping_error
from astf_mm.evaluation.base import ArrayCache
from astf_mm.evaluation.flow import video_flows
from astf_mm.evaluation.tof import tof_pairs
from tests.test_evaluation.clips import (flicker_and_smooth, realish_clip,
                                         video_sample)

# ``astf_mm.evaluation.tof`` is the function (as mmagic's ``psnr``)
tof_module = importlib.import_module('astf_mm.evaluation.tof')
flow_module = importlib.import_module('astf_mm.evaluation.flow')


def test_tof_equals_direct_loop_with_cv2():
    out, gt = realish_clip()  # 96x64: crop_8x8 keeps rows 16:48, cols 16:80
    values, values_full = [], []
    for i in range(1, len(gt)):
        prev_g, cur_g = (
            cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in gt[i - 1:i + 1])
        prev_o, cur_o = (
            cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in out[i - 1:i + 1])
        flow_g = cv2.calcOpticalFlowFarneback(prev_g, cur_g, None, 0.5, 3, 15,
                                              3, 5, 1.2, 0)
        flow_o = cv2.calcOpticalFlowFarneback(prev_o, cur_o, None, 0.5, 3, 15,
                                              3, 5, 1.2, 0)
        dist = np.sqrt(((flow_o - flow_g)**2).sum(-1))
        values.append(dist[16:48, 16:80].mean())
        values_full.append(dist.mean())
    assert np.mean(values) > 0.05  # JPEG artefacts move the flow
    assert tof(out, gt) == pytest.approx(np.mean(values), rel=1e-6)
    assert tof(
        list(out), list(gt), crop=False) == pytest.approx(
            np.mean(values_full), rel=1e-6)
    assert tof(out, gt, scale=10) == pytest.approx(10 * tof(out, gt))


def test_reference_flows_are_computed_once(monkeypatch):
    calls = []
    original = flow_module.farneback

    def counting(a, b):
        calls.append(1)
        return original(a, b)

    # the ground-truth flows come from flow.py, the output flows from tof.py
    monkeypatch.setattr(flow_module, 'farneback', counting)
    monkeypatch.setattr(tof_module, 'farneback', counting)
    gt, smooth, flicker = flicker_and_smooth()  # 6 frames: 5 pairs
    cache = ArrayCache()
    tof(smooth, gt, cache=cache)
    assert len(calls) == 10  # 5 ground-truth + 5 output flows
    tof(flicker, gt, cache=cache)
    assert len(calls) == 15  # ground-truth flows reused
    warping_error(flicker, gt, cache=cache)
    warping_error(smooth, gt, cache=cache)
    assert len(calls) == 20  # backward gt flows once; forward reused
    assert len(cache) == 2
    # a budget below one video's flows: computed, returned, not kept
    small = ArrayCache(max_bytes=1000)
    assert video_flows(gt, cache=small).shape == (5, 64, 64, 2)
    assert len(small) == 0 and small.nbytes == 0


def test_registered_metric_with_prefix():
    from mmagic.registry import METRICS
    assert METRICS.get('TOF') is TOF
    metric = METRICS.build(dict(type='TOF', pred_key='fuse', prefix='fuse'))
    assert metric.pred_key == 'fuse' and metric.prefix == 'fuse'


def test_metric_groups_samples_of_one_video_by_pairs():
    gt, smooth, flicker = flicker_and_smooth()  # 6 frames
    metric = TOF()
    # video 'a' in two samples (3 + 3 frames: 2 + 2 pairs), then 'b'
    metric.process(None, [video_sample(flicker[:3], gt[:3], key='a')])
    metric.process(None, [video_sample(flicker[3:], gt[3:], key='a')])
    metric.process(None, [video_sample(smooth, gt, key='b')])
    result = metric.compute_metrics(metric.results)
    pairs = np.concatenate([
        tof_pairs(flicker[:3], gt[:3], True, None),
        tof_pairs(flicker[3:], gt[3:], True, None)
    ])
    per_video = {v['video']: v['tOF'] for v in metric.per_video}
    assert per_video['a'] == pytest.approx(pairs.mean())
    assert per_video['b'] == pytest.approx(tof(smooth, gt))
    assert result['tOF'] == pytest.approx(np.mean(list(per_video.values())))


def test_channel_order():
    gt, _, flicker = flicker_and_smooth()
    for order in ('BGR', 'RGB'):
        metric = TOF(channel_order=order)
        metric.process(None, [video_sample(flicker, gt, order, key='a')])
        assert metric.compute_metrics(metric.results)['tOF'] == pytest.approx(
            tof(flicker, gt), rel=1e-6)


def test_pinned_values():
    """Values of this implementation (OpenCV's Farneback), kept so that a
    refactoring cannot change them unnoticed."""
    out, gt = realish_clip()
    gt6, _, flicker = flicker_and_smooth()
    assert tof(out, gt) == pytest.approx(0.3365168049931526, rel=1e-6)
    assert tof(out, gt, crop=False) == pytest.approx(
        0.26878198236227036, rel=1e-6)
    metric = TOF()
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'tOF': pytest.approx(0.27791817113757133, rel=1e-6)
    }
    assert metric.per_video[1] == {
        'video': 'flicker',
        'tOF': pytest.approx(0.21931953728199005, rel=1e-6)
    }
