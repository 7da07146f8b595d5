"""tLP: the function, the registered metric and pinned values."""
import importlib

import numpy as np
import pytest
from mmagic.registry import METRICS

from astf_mm.evaluation import TLP, tlp
from astf_mm.evaluation.tlp import default_lpips
from tests.test_evaluation.clips import (flicker_and_smooth, random_lpips,
                                         realish_clip, texture, video_sample)

# ``astf_mm.evaluation.tlp`` is the function (as mmagic's ``psnr``)
tlp_module = importlib.import_module('astf_mm.evaluation.tlp')


def test_registered():
    assert METRICS.get('TLP') is TLP


def test_tlp_input_range_and_scale():
    seen = []

    def mean_abs(x0, x1):
        seen.append((x0.min().item(), x0.max().item()))
        return (x0 - x1).abs().mean(dim=(1, 2, 3))

    gt = np.repeat(texture(64, 64)[None], 5, axis=0)  # static: d_gt = 0
    out = np.stack([
        np.full((64, 64, 3), 255 * (i % 2), np.uint8) for i in range(5)
    ])  # black/white: [-1, 1] -> d = 2
    assert tlp(out, gt, mean_abs, cache=None) == pytest.approx(200.0)
    assert tlp(
        out, gt, mean_abs, scale=1.0, crop=False,
        batch_size=3) == pytest.approx(2.0)
    assert min(lo for lo, _ in seen) == -1.0
    assert max(hi for _, hi in seen) == 1.0


def test_tlp_metric_builds_shared_default_network(monkeypatch):
    built = []
    net = random_lpips()

    def fake_default(backbone_path=None, device='cpu'):
        built.append((backbone_path, device))
        return net

    monkeypatch.setattr(tlp_module, 'default_lpips', fake_default)
    gt, _, flicker = flicker_and_smooth()
    metric = TLP(lpips_backbone='/weights/alexnet.pth', device='cpu')
    assert built == []  # nothing is built before the first video
    metric.process(None, [video_sample(flicker, gt, key='a')])
    assert built == [('/weights/alexnet.pth', 'cpu')]
    assert metric.compute_metrics(metric.results)['tLP'] == pytest.approx(
        tlp(flicker, gt, net), rel=1e-6)


def test_pinned_values(real_weights):
    """LPIPS-alex with the real weights, kept so that a refactoring cannot
    change the values unnoticed."""
    out, gt = realish_clip()
    gt6, _, flicker = flicker_and_smooth()
    net = default_lpips()
    assert default_lpips() is net
    assert tlp(out, gt, net) == pytest.approx(1.0462447069585323, rel=1e-5)
    metric = TLP()
    metric.process(None, [
        video_sample(out, gt, key='realish'),
        video_sample(flicker, gt6, key='flicker')
    ])
    assert metric.compute_metrics(metric.results) == {
        'tLP': pytest.approx(0.838366337120533, rel=1e-5)
    }
    assert metric.per_video[1]['tLP'] == pytest.approx(
        0.6304879672825336, rel=1e-5)
