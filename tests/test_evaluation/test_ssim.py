"""VideoSSIM."""
import numpy as np
import pytest

from astf_mm.evaluation import VideoSSIM, frame_ssim
from tests.test_evaluation.clips import (flicker_and_smooth, realish_clip,
                                         video_sample)


def test_frame_ssim_of_identical_frames():
    _, gt = realish_clip()
    assert frame_ssim(gt[0], gt[0]) == pytest.approx(1.0)
    assert frame_ssim(gt[0], np.zeros_like(gt[0])) < 0.1


def test_pinned_values():
    """Per-video and mean SSIM of generated clips, pinned."""
    out, gt = realish_clip()
    gt6, _, flicker = flicker_and_smooth()
    metric = VideoSSIM()
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'SSIM': pytest.approx(0.7526310341299093, rel=1e-9)
    }
    assert metric.per_video[0]['SSIM'] == pytest.approx(
        0.7207580271190219, rel=1e-9)
