"""The per-video metric base, the content-keyed cache and the shared
LPIPS networks."""
import numpy as np
import pytest
import torch

from astf_mm.evaluation.base import (ArrayCache, PerVideoMetric, net_token,
                                     shared_lpips, to_rgb_frames, video_key)
from astf_mm.evaluation.lpips import VideoLPIPS


def test_frames_are_rounded_rgb():
    bgr = torch.tensor([10.4, 20.6, 300.0]).view(1, 3, 1, 1)
    assert to_rgb_frames(bgr).flatten().tolist() == [255., 21., 10.]
    assert to_rgb_frames(bgr, 'RGB').flatten().tolist() == [10., 21., 255.]
    assert to_rgb_frames(torch.zeros(3, 4, 5)).shape == (1, 3, 4, 5)
    with pytest.raises(ValueError, match='gt: expected'):
        to_rgb_frames(torch.zeros(2, 4, 4, 5), name='gt')
    with pytest.raises(ValueError, match='channel_order'):
        to_rgb_frames(bgr, 'YUV')


def test_video_key():
    assert video_key({'key': 'calendar', 'gt_path': ['x/a/0.png']}) == \
        'calendar'
    assert video_key({'gt_path': ['/data/gt/001/00000000.png']}) == '001'
    assert video_key({'gt_path': '/data/gt/clip.mp4'}) == 'clip'
    assert video_key({}) is None


def test_cache_evicts_least_recently_used():
    cache = ArrayCache(max_bytes=2 * 800)
    for key in 'abc':
        cache.get_or_compute(key, lambda: np.zeros(100))  # 800 bytes each
    assert len(cache) == 2 and cache.nbytes == 1600
    hit = cache.get_or_compute('c', lambda: pytest.fail('recomputed'))
    assert not hit.flags.writeable
    cache.get_or_compute('a', lambda: np.ones(100))  # 'b' is the oldest
    cache.get_or_compute('b', lambda: np.full(100, 2.))
    assert cache.get_or_compute('c', lambda: np.full(100, 3.))[0] == 3.
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_net_tokens_name_live_objects():
    a, b = torch.nn.Identity(), torch.nn.Identity()
    assert net_token(a) == net_token(a) != net_token(b)
    assert net_token(lambda x: x) is not None

    class Slotted:
        __slots__ = ()  # not weak-referenceable: its results are not cached

        def __call__(self, x0, x1):
            return x0 - x1

    assert net_token(Slotted()) is None


def test_one_lpips_network_per_setting():
    net = shared_lpips('alexnet', pretrained_backbone=False)
    assert shared_lpips('alex', None, False, torch.device('cpu')) is net
    assert VideoLPIPS(pretrained_backbone=False).net is net
    assert not net.training
    assert all(not p.requires_grad for p in net.parameters())


class _Mean(PerVideoMetric):
    metric = 'M'

    def process_video(self, pred, gt, data_sample):
        diff = (pred - gt).abs().mean(dim=(1, 2, 3))
        count = 0 if bool((pred == 0).all()) else len(diff)
        return dict(sum=float(diff.sum()), count=count)


def test_videos_are_regrouped_and_nan_videos_left_out():
    def sample(value, key, t=2):
        gt = torch.zeros(t, 3, 2, 2)
        return {
            'gt_img': gt,
            'output': {
                'pred_img': gt + value
            },
            'key': key
        }

    metric = _Mean(channel_order='RGB')
    metric.process(None, [sample(1., 'a'), sample(4., 'a', 1)])
    metric.process(None, [sample(10., 'b'), sample(0., 'c')])
    result = metric.compute_metrics(metric.results)
    # 'a': (1 + 1 + 4) / 3 frames; 'c' has no frame to count: NaN, left out
    values = {v['video']: v['M'] for v in metric.per_video}
    assert values['a'] == pytest.approx(2.0) and values['b'] == 10.0
    assert np.isnan(values['c'])
    assert result == {'M': pytest.approx(6.0)}
    with pytest.raises(ValueError, match='a: pred_img .* differ in shape'):
        bad = sample(1., 'a')
        bad['gt_img'] = bad['gt_img'][:1]
        metric.process(None, [bad])
