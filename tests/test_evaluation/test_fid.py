"""VideoFID and the Frechet distance."""
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

from astf_mm.evaluation import (VideoFID, frechet_distance,
                                frechet_distance_from_features)
from astf_mm.evaluation.fid import resize_clean, resize_tf
from astf_mm.models import perceptual_nets
from tests.test_evaluation.clips import noisy, to_tensor, video_sample


def test_registered():
    assert METRICS.get('VideoFID') is VideoFID


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

    The Inception is slow on a CPU: keep the frame count low; the tests
    below reuse these frames (their features are cached).
    """
    folder = osp.join(real_weights, perceptual_nets.REFERENCE_DIR, 'ref')
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
    metric.process(None, samples)
    result = metric.compute_metrics(metric.results)
    fid = {v['video']: v['FID'] for v in metric.per_video}
    assert list(fid) == ['same', 'noise4', 'noise24', 'blur']
    assert fid['same'] == pytest.approx(0.0, abs=1e-6)
    assert 0 < fid['noise4'] < fid['noise24']
    assert fid['blur'] > fid['noise4']
    assert result['FID'] == pytest.approx(np.mean(list(fid.values())))
    # values of the real Inception, pinned against unnoticed changes
    assert fid['noise24'] == pytest.approx(386.21120471452656, rel=1e-4)
    assert fid['blur'] == pytest.approx(379.00835188229325, rel=1e-4)


def test_tf_resize_pinned_and_features_cached(photo_video, monkeypatch):
    gt = photo_video
    metric = VideoFID(resize='tf')
    metric.process(None, [video_sample(noisy(gt, 24), gt, key='noise24')])
    assert metric.compute_metrics(metric.results)['FID'] == pytest.approx(
        343.6026018881016, rel=1e-4)
    # the same frames again (another table row): no Inception pass
    monkeypatch.setattr(metric, 'features',
                        lambda frames: pytest.fail('recomputed'))
    metric.process(None, [video_sample(gt, gt, key='same')])
    assert metric.per_video[0]['video'] == 'noise24'
    # another resize mode never reuses these features
    other = VideoFID(resize='clean')
    other.process(None, [video_sample(noisy(gt, 24), gt, key='noise24')])
    assert other.compute_metrics(other.results)['FID'] == pytest.approx(
        386.21120471452656, rel=1e-4)


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
