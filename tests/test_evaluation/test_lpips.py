"""VideoLPIPS and frame_lpips."""
import warnings

import numpy as np
import pytest
from mmagic.registry import METRICS

from astf_mm.evaluation import VideoLPIPS
from astf_mm.evaluation.base import to_rgb_frames
from astf_mm.evaluation.lpips import frame_lpips
from tests.test_evaluation.clips import (flicker_and_smooth, noisy,
                                         random_video, realish_clip, to_tensor,
                                         video_sample)


def random_lpips_metric(**kwargs):
    return VideoLPIPS(pretrained_backbone=False, **kwargs)


def test_registered():
    assert METRICS.get('VideoLPIPS') is VideoLPIPS
    with pytest.raises(ValueError, match='batch_size'):
        random_lpips_metric(batch_size=0)


def test_lpips_identical_frames_is_zero():
    video = random_video()
    metric = random_lpips_metric()
    metric.process(None, [video_sample(video, video, key='v')])
    assert metric.compute_metrics(metric.results) == {'LPIPS': 0.0}
    assert metric.per_video == [{'video': 'v', 'LPIPS': 0.0}]


def test_lpips_per_video_values_and_grouping():
    gt_a, gt_b = random_video(seed=1), random_video(seed=2)
    pred_a, pred_b = noisy(gt_a, 5), noisy(gt_b, 40)
    metric = random_lpips_metric(prefix='stage1', batch_size=2)
    samples = [
        # video 'a' arrives in two samples (2 + 1 frames)
        video_sample(pred_a[:2], gt_a[:2], gt_path=['d/gt/a/0.png']),
        video_sample(pred_a[2:], gt_a[2:], gt_path=['d/gt/a/2.png']),
        video_sample(pred_b, gt_b, key='b'),
    ]
    metric.process(None, samples)
    result = metric.compute_metrics(metric.results)
    expected = [
        metric.frame_distances(
            to_rgb_frames(to_tensor(p)), to_rgb_frames(to_tensor(g))).mean()
        for p, g in ((pred_a, gt_a), (pred_b, gt_b))
    ]
    assert [v['video'] for v in metric.per_video] == ['a', 'b']
    a, b = (v['LPIPS'] for v in metric.per_video)
    assert a == pytest.approx(float(expected[0]), rel=1e-5)
    assert b == pytest.approx(float(expected[1]), rel=1e-5)
    assert a < b
    assert result == {'LPIPS': pytest.approx((a + b) / 2)}
    with pytest.raises(ValueError, match='differ in shape'):
        metric.process(None, [video_sample(pred_a[:2], gt_a)])


def test_pinned_values(real_weights):
    """LPIPS-alex with the real weights, kept so that a refactoring cannot
    change the values unnoticed."""
    out, gt = realish_clip()
    gt6, _, flicker = flicker_and_smooth()
    metric = VideoLPIPS()
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'LPIPS': pytest.approx(0.08314691881338755, rel=1e-5)
    }
    assert metric.per_video[0]['LPIPS'] == pytest.approx(
        0.06955071091651917, rel=1e-5)


def test_frame_lpips_takes_read_only_frames_quietly(real_weights):
    # decoded video frames can be read-only; torch.from_numpy warns on them
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    gt = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    expected = frame_lpips(pred, gt)
    pred.flags.writeable = False
    gt.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert frame_lpips(pred, gt) == expected
    assert expected > 0.01  # a real distance, not a failed comparison
