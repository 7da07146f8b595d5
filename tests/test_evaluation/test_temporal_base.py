"""What tOF, tLP and the warping error share: checked uint8 videos,
skip_frames, TecoGAN's crop and the per-pair metric base."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from astf_mm.evaluation import TLP, TOF, WarpingError, tlp, tof, warping_error
from astf_mm.evaluation.base import ArrayCache
from astf_mm.evaluation.temporal_base import tecogan_crop_box, tensor_to_video
from tests.test_evaluation.clips import (flicker_and_smooth, pan, random_lpips,
                                         realish_clip, texture, to_tensor,
                                         to_uint8, video_sample)


def test_static_video_output_equal_gt_is_zero():
    video = np.repeat(texture(64, 64)[None], 5, axis=0)
    cache = ArrayCache()
    assert tof(video, video, cache=cache) == 0.0
    assert tlp(video, video, random_lpips(), cache=cache) == 0.0
    assert warping_error(video, video, cache=cache) < 1e-7


def test_flicker_scores_worse_than_smooth_motion():
    gt, smooth, flicker = flicker_and_smooth()
    # same per-frame distortion: only the temporal behaviour differs
    assert abs(cv2.PSNR(smooth, gt) - cv2.PSNR(flicker, gt)) < 0.1
    net = random_lpips()
    tof_s, tof_f = tof(smooth, gt), tof(flicker, gt)
    tlp_s, tlp_f = tlp(smooth, gt, net), tlp(flicker, gt, net)
    warp_s, warp_f = warping_error(smooth, gt), warping_error(flicker, gt)
    assert tof_f > 0.1 and tof_f > 100 * tof_s
    assert tlp_f > 1.3 * tlp_s
    assert warp_f > 1e-3 and warp_f > 100 * warp_s
    # the warping error does not need the ground truth, only its motion
    assert warping_error(flicker, smooth) == pytest.approx(warp_f, rel=0.1)


def test_skip_frames():
    gt = pan(texture(64, 70), t=5, dx=1, w=64)
    out = gt.copy()
    noise = np.random.default_rng(0).normal(0, 20, (64, 64, 3))
    out[0] = to_uint8(out[0] + noise)  # only the first frame differs
    assert tof(out, gt) > 0.02 and warping_error(out, gt) > 1e-3
    # frames 1..3 are kept: identical to the ground truth
    assert tof(out, gt, skip_frames=1) == 0.0
    assert warping_error(out, gt, skip_frames=1) < 1e-4
    with pytest.raises(ValueError, match='fewer than 2'):
        tof(out, gt, skip_frames=2)
    with pytest.raises(ValueError, match='skip_frames must be >= 0'):
        TOF(skip_frames=-1)


def test_tecogan_crop_box():
    assert tecogan_crop_box(64, 96) == (slice(16, 48), slice(16, 80))
    # NTIRE 2021 frames: 536 -> 512 rows from 12, 960 -> 928 cols from 16
    assert tecogan_crop_box(536, 960) == (slice(12, 524), slice(16, 944))
    with pytest.raises(ValueError, match='crop=False'):
        tecogan_crop_box(40, 64)


def test_input_validation():
    video = pan(texture(64, 70), t=3, dx=1, w=64)
    with pytest.raises(ValueError, match='uint8'):
        tof(video.astype(np.float32), video)
    with pytest.raises(ValueError, match='differ in shape'):
        tof(video, video[:2])
    with pytest.raises(ValueError, match='at least 2'):
        warping_error(video[:1], video[:1])
    with pytest.raises(ValueError, match='RGB'):
        tof(video[..., 0], video[..., 0])


def test_tensor_to_video_and_channel_order():
    _, _, flicker = flicker_and_smooth()
    # BGR is undone, values are rounded to uint8
    np.testing.assert_array_equal(tensor_to_video(to_tensor(flicker)), flicker)
    np.testing.assert_array_equal(
        tensor_to_video(to_tensor(flicker, 'RGB') + 0.3, 'RGB'), flicker)
    with pytest.raises(ValueError, match='whole video'):
        tensor_to_video(to_tensor(flicker)[0])
    with pytest.raises(ValueError, match='BGR or RGB'):
        TOF(channel_order='YUV')
    # an image sample is refused by the registered metrics too
    sample = video_sample(flicker, flicker)
    sample['gt_img'] = sample['gt_img'][0]
    with pytest.raises(ValueError, match='whole video'):
        TOF().process(None, [sample])


def test_metrics_keep_per_video_values():
    gt_a, smooth_a, flicker_a = flicker_and_smooth()
    out_b, gt_b = realish_clip(64, 64, 4)
    net = random_lpips()
    samples = [
        video_sample(flicker_a, gt_a, key='a'),
        # no key: the video is named after its frames' folder
        video_sample(out_b, gt_b, gt_path=['/data/gt/b/0.png']),
    ]
    expected = {
        'tOF': (tof(flicker_a, gt_a), tof(out_b, gt_b)),
        'tLP': (tlp(flicker_a, gt_a, net), tlp(out_b, gt_b, net)),
        'WarpingError': (warping_error(flicker_a,
                                       gt_a), warping_error(out_b, gt_b)),
    }
    metrics = [
        TOF(prefix='row1'),
        TLP(lpips_net=net, prefix='row1'),
        WarpingError(prefix='row1')
    ]
    for metric in metrics:
        metric.process(None, samples)
        metric.prepare(
            SimpleNamespace(data_preprocessor=None),
            SimpleNamespace(dataset=samples))
        result = metric.evaluate()
        name = metric.metric
        a, b = expected[name]
        assert [v['video'] for v in metric.per_video] == ['a', 'b']
        assert metric.per_video[0][name] == pytest.approx(a, rel=1e-6)
        assert metric.per_video[1][name] == pytest.approx(b, rel=1e-6)
        assert result == {f'row1/{name}': pytest.approx((a + b) / 2)}
