"""VideoLPIPS and VideoFID."""
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmagic.registry import METRICS
from mmagic.structures import DataSample
from mmengine.registry import DefaultScope
from PIL import Image

import astf_mm.evaluation  # noqa: F401  (registers the metrics)
from astf_mm import weights
from astf_mm.evaluation.perceptual import (VideoFID, VideoLPIPS,
                                           frechet_distance,
                                           frechet_distance_from_features,
                                           resize_clean, resize_tf,
                                           to_rgb_frames, video_key)


def to_tensor(video: np.ndarray, order: str = 'BGR') -> torch.Tensor:
    """uint8 RGB (t, h, w, 3) -> float (t, 3, h, w), as mmagic hands it."""
    if order == 'BGR':
        video = video[..., ::-1]
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1,
                                                                 2).float()


def video_sample(pred: np.ndarray, gt: np.ndarray, **metainfo) -> DataSample:
    sample = DataSample(gt_img=to_tensor(gt), metainfo=metainfo)
    sample.output = DataSample(pred_img=to_tensor(pred))
    return sample


def noisy(video: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = video.astype(np.float64) + rng.normal(0, sigma, video.shape)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def random_video(t=3, h=32, w=40, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def test_registered_names():
    assert METRICS.get('VideoLPIPS') is VideoLPIPS
    assert METRICS.get('VideoFID') is VideoFID


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


def test_frechet_distance_hand_computed():
    # 1-d: N(1, 2) vs N(3, 8): (1 - 3)^2 + 2 + 8 - 2 sqrt(2 * 8) = 6
    one = frechet_distance_from_features([[0.], [2.]], [[1.], [5.]])
    assert one == pytest.approx(6.0)
    assert frechet_distance([1.], [[2.]], [3.], [[8.]]) == pytest.approx(6.)
    # 2 samples in 3-d (rank-1 covariances, the low-rank path)
    x1 = [[0., 0, 0], [2, 0, 0]]  # mean (1, 0, 0), variance 2 along x
    orthogonal = [[0., 1, 0], [0, 5, 0]]  # mean (0, 3, 0), 8 along y
    parallel = [[3., 0, 0], [7, 0, 0]]  # mean (5, 0, 0), 8 along x
    assert frechet_distance_from_features(x1, orthogonal) == \
        pytest.approx(10 + 2 + 8)
    assert frechet_distance_from_features(x1, parallel) == \
        pytest.approx(16 + 2 + 8 - 2 * 4)
    with pytest.raises(ValueError, match='at least 2'):
        frechet_distance_from_features([[0., 1.]], [[0., 1.], [1., 1.]])


def test_low_rank_path_matches_sqrtm():
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=(6, 10))
    x2 = 0.5 * rng.normal(size=(5, 10)) + 1
    fast = frechet_distance_from_features(x1, x2)
    direct = frechet_distance(
        x1.mean(0), np.cov(x1, rowvar=False), x2.mean(0),
        np.cov(x2, rowvar=False))
    assert fast == pytest.approx(direct, rel=1e-6)
    assert frechet_distance_from_features(x1, x1) == pytest.approx(0, abs=1e-9)


def test_resizes_hand_computed():
    ramp = torch.arange(598.).view(1, 1, 1, 598).expand(1, 3, 2, 598)
    tf = resize_tf(ramp)
    # TF1 bilinear samples output column j at input column j * 598 / 299
    assert torch.allclose(tf[0, 0, 0], torch.arange(0., 598., 2.))
    constant = torch.full((2, 3, 50, 70), 77.)
    assert torch.allclose(resize_tf(constant), torch.tensor(77.))
    clean = resize_clean(constant)
    assert clean.shape == (2, 3, 299, 299)
    assert np.allclose(clean, 77., atol=1e-3)


def random_lpips_metric(**kwargs):
    return VideoLPIPS(pretrained_backbone=False, **kwargs)


def test_lpips_identical_frames_is_zero():
    video = random_video()
    metric = random_lpips_metric()
    metric.process(None, [video_sample(video, video, key='v').to_dict()])
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
    metric.process(None, [s.to_dict() for s in samples])
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
        metric.process(None, [video_sample(pred_a[:2], gt_a).to_dict()])


def test_fid_frame_subsampling_and_arguments(real_weights):
    metric = VideoFID(max_frames=4)
    assert metric.frame_indices(10).tolist() == [0, 3, 6, 9]
    assert metric.frame_indices(3).tolist() == [0, 1, 2]
    assert VideoFID().frame_indices(10).tolist() == list(range(10))
    for bad in (dict(max_frames=1), dict(resize='nearest'),
                dict(batch_size=0)):
        with pytest.raises(ValueError):
            VideoFID(**bad)


# ---------------------------------------------------------------------------
# real weights: frames cut from the TID2013 photographs of the cache


@pytest.fixture(scope='module')
def photo_video(real_weights):
    """Two 96 x 128 uint8 RGB frames: crops of real photographs.

    Inception costs ~1 s per frame here: keep the frame count low; the
    evaluator test reuses these frames (their features are cached).
    """
    folder = osp.join(real_weights, weights.REFERENCE_DIR, 'ref')
    frames = []
    for i, name in enumerate(('I03', 'I19')):
        image = np.asarray(Image.open(osp.join(folder, f'{name}.bmp')))
        frames.append(image[100:196, 150 + 8 * i:278 + 8 * i])
    return np.stack(frames)


def test_fid_grows_with_distortion(photo_video):
    gt = photo_video
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in gt])
    metric = VideoFID(batch_size=4)
    samples = [
        video_sample(gt, gt, key='same'),
        video_sample(noisy(gt, 4), gt, key='noise4'),
        video_sample(noisy(gt, 24), gt, key='noise24'),
        video_sample(blurred, gt, key='blur'),
    ]
    metric.process(None, [s.to_dict() for s in samples])
    result = metric.compute_metrics(metric.results)
    fid = {v['video']: v['FID'] for v in metric.per_video}
    assert list(fid) == ['same', 'noise4', 'noise24', 'blur']
    assert fid['same'] == pytest.approx(0.0, abs=1e-6)
    assert 0 < fid['noise4'] < fid['noise24']
    assert fid['blur'] > fid['noise4']
    assert result['FID'] == pytest.approx(np.mean(list(fid.values())))


def test_metrics_through_the_evaluator(photo_video):
    """As in a test run: mmagic's Evaluator, DataSamples of whole videos
    in BGR, one entry per output key with its prefix."""
    gt = photo_video
    outputs = dict(pred_img=noisy(gt, 24), fuse=gt)
    with DefaultScope.overwrite_default_scope('mmagic'):
        from mmagic.registry import EVALUATORS
        evaluator = EVALUATORS.build(
            dict(
                type='Evaluator',
                metrics=[
                    dict(type='VideoLPIPS', prefix='stage1'),
                    dict(type='VideoFID', prefix='stage1'),
                    dict(type='VideoLPIPS', pred_key='fuse', prefix='fuse'),
                    dict(type='VideoFID', pred_key='fuse', prefix='fuse'),
                ]))
    sample = DataSample(
        gt_img=to_tensor(gt),
        metainfo=dict(gt_path=[f'data/gt/007/{i:08d}.png' for i in range(2)]))
    sample.output = DataSample(**{k: to_tensor(v) for k, v in outputs.items()})
    evaluator.prepare_metrics(
        SimpleNamespace(data_preprocessor=None),
        SimpleNamespace(dataset=[sample]))
    evaluator.process([sample], None, evaluator.metrics)
    result = evaluator.evaluate()
    assert set(result) == {
        'stage1/LPIPS', 'stage1/FID', 'fuse/LPIPS', 'fuse/FID'
    }
    assert result['fuse/LPIPS'] == pytest.approx(0.0, abs=1e-6)
    assert result['fuse/FID'] == pytest.approx(0.0, abs=1e-6)
    assert result['stage1/LPIPS'] > 0.05 and result['stage1/FID'] > 1
    assert evaluator.metrics[0].per_video == [{
        'video': '007',
        'LPIPS': result['stage1/LPIPS']
    }]
