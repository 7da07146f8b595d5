"""VideoPSNR."""
import numpy as np
import pytest

from astf_mm.evaluation import VideoPSNR, frame_psnr
from tests.test_evaluation.clips import (flicker_and_smooth, realish_clip,
                                         video_sample)


def test_frame_psnr_of_constant_frames():
    a = np.full((4, 6, 3), 100, np.uint8)
    assert frame_psnr(a, a + 10) == pytest.approx(20 * np.log10(255 / 10))
    assert frame_psnr(a, a) == float('inf')


def test_pinned_values():
    """Per-video and mean PSNR of generated clips, pinned."""
    out, gt = realish_clip()
    gt6, _, flicker = flicker_and_smooth()
    metric = VideoPSNR(prefix='row')
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'PSNR': pytest.approx(24.645325918872324, rel=1e-9)
    }
    assert metric.per_video == [{
        'video': 'realish',
        'PSNR': pytest.approx(22.795601377415544, rel=1e-9)
    }, {
        'video': 'flicker',
        'PSNR': pytest.approx(26.4950504603291, rel=1e-9)
    }]
