"""Perceptual metrics per video: LPIPS and FID (ASTF, Table 2).

Both are sample-wise metrics registered in mmagic's ``METRICS``, used in
``val_evaluator`` / ``test_evaluator`` beside mmagic's PSNR and SSIM, with
the same ``gt_key`` / ``pred_key`` / ``prefix`` arguments (one entry per
output key gives one row of a results table). In the video configs each
sample is a whole video ``(t, 3, h, w)`` in [0, 255], BGR (what mmagic's
data preprocessor hands metrics in the test stage). Frames are rounded to
8 bits first, as when they are saved to PNG, so the numbers match a run on
written frames.

Each metric averages per video (a video split over several samples is
regrouped by its key), then over videos, and keeps the per-video values in
:attr:`per_video` (``[{'video': key, <metric>: value}, ...]``, filled by
``compute_metrics`` on the rank that computes the metrics).

FID follows clean-fid (Parmar et al.): 8-bit RGB frames, resized to
299 x 299 by PIL bicubic on float channels ("clean" mode), fed as
``(x - 128) / 128`` to the TorchScript Inception-v3 of
:func:`astf_mm.weights.load_inception`, 2048-d pool features, Frechet
distance of their Gaussians (``np.cov``, ``ddof=1``). ``resize='tf'``
gives the resize of the original TensorFlow Inception graph instead
(fid-helper-pytorch's default, clean-fid's "legacy_tensorflow").
"""
import functools
import hashlib
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import scipy.linalg
import torch
from mmagic.evaluation.metrics.base_sample_wise_metric import \
    BaseSampleWiseMetric
from mmagic.evaluation.metrics.metrics_utils import obtain_data
from mmagic.registry import METRICS
from PIL import Image

from ..weights import build_lpips, load_inception, resolve_inception

INCEPTION_SIZE = 299
RESIZE_MODES = ('clean', 'tf')
# Inception features of recently seen frame stacks, keyed by content: every
# row of a results table shares the ground truth, computed once per video.
_FEATURE_CACHE: 'OrderedDict[tuple, np.ndarray]' = OrderedDict()
_FEATURE_CACHE_SIZE = 32


def video_key(data_sample: dict) -> Optional[str]:
    """The video a data sample belongs to.

    Args:
        data_sample (dict): A data sample as metrics receive it
            (``DataSample.to_dict()``).

    Returns:
        str | None: metainfo ``key`` if present, else the folder of the
        first ``gt_path`` frame (``BasicFramesDataset`` with
        ``GenerateSegmentIndices`` lists the frames of the video folder),
        else the file stem of a single ``gt_path``, else None.
    """
    key = data_sample.get('key')
    if isinstance(key, str) and key:
        return key
    path = data_sample.get('gt_path')
    if isinstance(path, (list, tuple)) and path:
        return osp.basename(osp.dirname(str(path[0])))
    if isinstance(path, str) and path:
        return osp.splitext(osp.basename(path.rstrip('/\\')))[0]
    return None


def to_rgb_frames(frames: Union[torch.Tensor, np.ndarray],
                  channel_order: str = 'BGR',
                  name: str = 'frames') -> torch.Tensor:
    """Make ``(t, 3, h, w)`` 8-bit-valued float RGB frames in [0, 255].

    Args:
        frames (Tensor | np.ndarray): ``(t, 3, h, w)`` video or
            ``(3, h, w)`` image in [0, 255].
        channel_order (str): 'BGR' or 'RGB'. Default: 'BGR'.
        name (str): Name used in error messages. Default: 'frames'.

    Returns:
        Tensor: ``(t, 3, h, w)`` float32, rounded and clipped to
        ``0 .. 255``, RGB.
    """
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(frames)
    if frames.dim() == 3:
        frames = frames.unsqueeze(0)
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f'{name}: expected a (t, 3, h, w) video or a '
                         f'(3, h, w) image, got {tuple(frames.shape)}.')
    frames = frames.detach().float().round().clamp(0, 255)
    order = channel_order.upper()
    if order == 'BGR':
        frames = frames.flip(1)
    elif order != 'RGB':
        raise ValueError(
            f'channel_order must be BGR or RGB, got {channel_order!r}.')
    return frames


class _PerVideoMetric(BaseSampleWiseMetric):
    """Reads each sample's video pair and groups results by video."""

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            mask_key=None,
            device=device,
            collect_device=collect_device,
            prefix=prefix)
        if channel_order.upper() not in ('BGR', 'RGB'):
            raise ValueError(
                f'channel_order must be BGR or RGB, got {channel_order!r}.')
        self.channel_order = channel_order.upper()
        self.per_video: List[dict] = []

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor) -> dict:
        """Per-sample result of RGB ``(t, 3, h, w)`` frames in [0, 255]."""
        raise NotImplementedError

    def process(self, data_batch: Optional[Sequence[dict]],
                data_samples: Sequence[dict]) -> None:
        """Compute the per-sample entries of a batch.

        Args:
            data_batch (Sequence[dict], optional): Unused.
            data_samples (Sequence[dict]): Data samples with an ``output``
                dict, each holding a video ``(t, 3, h, w)`` (or an image).
        """
        for data in data_samples:
            video = video_key(data) or f'sample_{len(self.results):04d}'
            pred = to_rgb_frames(
                obtain_data(data['output'], self.pred_key, self.device),
                self.channel_order, f'{video}: {self.pred_key}')
            gt = to_rgb_frames(
                obtain_data(data, self.gt_key, self.device),
                self.channel_order, f'{video}: {self.gt_key}')
            if pred.shape != gt.shape:
                raise ValueError(
                    f'{video}: {self.pred_key} {tuple(pred.shape)} and '
                    f'{self.gt_key} {tuple(gt.shape)} differ in shape.')
            entry = self.process_video(pred, gt)
            entry['video'] = video
            self.results.append(entry)

    def video_value(self, entries: List[dict]) -> float:
        """The metric of one video from its samples' entries."""
        raise NotImplementedError

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute each video's value, then their mean.

        Args:
            results (list[dict]): Entries of :meth:`process` (all ranks).

        Returns:
            dict[str, float]: ``{self.metric: mean over videos}``.
        """
        grouped: Dict[str, List[dict]] = {}
        for entry in results:
            grouped.setdefault(entry['video'], []).append(entry)
        self.per_video = [{
            'video': video,
            self.metric: self.video_value(entries)
        } for video, entries in grouped.items()]
        values = [v[self.metric] for v in self.per_video]
        return {self.metric: float(np.mean(values)) * self.scaling}


@functools.lru_cache(maxsize=None)
def _shared_lpips(net: str, backbone_path: Optional[str],
                  pretrained_backbone: bool, device: str) -> torch.nn.Module:
    # One frozen network per setting, shared by every metric entry.
    return build_lpips(net, backbone_path, pretrained_backbone).to(device)


@functools.lru_cache(maxsize=None)
def _shared_inception(path: str, device: str) -> torch.nn.Module:
    return load_inception(path).to(device)


@METRICS.register_module()
class VideoLPIPS(_PerVideoMetric):
    """LPIPS per video: the mean over its frames, then over videos.

    The paper validates with LPIPS-alex (``lpips`` v0.1 heads). On this
    2-core CPU, LPIPS-alex takes about 1 s per 960 x 536 frame (VGG about
    10 s).

    Args:
        net (str): ``'alex'`` or ``'vgg'``. Default: 'alex'.
        backbone_path (str, optional): Trunk weights; else the local cache
            (see :mod:`astf_mm.weights`). Default: None.
        batch_size (int): Frames per forward pass. Default: 8.
        gt_key (str): Key of the ground truth. Default: 'gt_img'.
        pred_key (str): Key of the prediction in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric.
            Default: 'BGR'.
        device (str): Device of the computation. Default: 'cpu'.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the result name, e.g. 'stage1'
            gives 'stage1/LPIPS'. Default: None.
        pretrained_backbone (bool): False uses a random trunk, for wiring
            tests only. Default: True.
    """

    metric = 'LPIPS'

    def __init__(self,
                 net: str = 'alex',
                 backbone_path: Optional[str] = None,
                 batch_size: int = 8,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 pretrained_backbone: bool = True) -> None:
        super().__init__(gt_key, pred_key, channel_order, device,
                         collect_device, prefix)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        self.batch_size = batch_size
        self.net = _shared_lpips(net, backbone_path, pretrained_backbone,
                                 str(device))

    @torch.no_grad()
    def frame_distances(self, pred: torch.Tensor,
                        gt: torch.Tensor) -> torch.Tensor:
        """LPIPS of each frame pair.

        Args:
            pred (Tensor): ``(t, 3, h, w)`` RGB in [0, 255].
            gt (Tensor): Same shape.

        Returns:
            Tensor: ``(t,)`` distances.
        """
        dists = []
        for start in range(0, pred.shape[0], self.batch_size):
            stop = start + self.batch_size
            dists.append(
                self.net(
                    pred[start:stop] / 255.,
                    gt[start:stop] / 255.,
                    normalize=True).flatten().cpu())
        return torch.cat(dists)

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor) -> dict:
        dists = self.frame_distances(pred, gt)
        return dict(sum=float(dists.sum()), count=int(dists.numel()))

    def video_value(self, entries: List[dict]) -> float:
        return (sum(e['sum'] for e in entries) / sum(e['count']
                                                     for e in entries))


def resize_clean(frames: torch.Tensor,
                 size: int = INCEPTION_SIZE) -> np.ndarray:
    """clean-fid's resize: PIL bicubic on each float channel, clipped.

    Args:
        frames (Tensor): ``(t, 3, h, w)`` in [0, 255].
        size (int): Output side. Default: 299.

    Returns:
        np.ndarray: ``(t, 3, size, size)`` float32 in [0, 255].
    """
    array = frames.cpu().numpy().astype(np.float32)
    out = np.empty((*array.shape[:2], size, size), np.float32)
    for i, frame in enumerate(array):
        for c, channel in enumerate(frame):
            image = Image.fromarray(channel, mode='F')
            out[i, c] = np.asarray(image.resize((size, size), Image.BICUBIC))
    return np.clip(out, 0, 255)


def resize_tf(frames: torch.Tensor,
              size: int = INCEPTION_SIZE) -> torch.Tensor:
    """The original TF Inception graph's bilinear resize.

    TensorFlow 1's ``resize_bilinear`` (no half-pixel centres) samples
    output pixel ``i`` at input position ``i * in / out``, clamped to the
    border; fid-helper-pytorch reproduces it with ``grid_sample``.

    Args:
        frames (Tensor): ``(t, 3, h, w)`` in [0, 255].
        size (int): Output side. Default: 299.

    Returns:
        Tensor: ``(t, 3, size, size)`` float32.
    """
    t, _, h, w = frames.shape

    def axis(n_in: int) -> torch.Tensor:
        pos = torch.arange(size, dtype=torch.float64) * (n_in / size)
        # align_corners=True maps -1 .. 1 to pixel centres 0 .. n_in - 1
        return (2 * pos / max(n_in - 1, 1) - 1).to(torch.float32)

    gy, gx = torch.meshgrid(axis(h), axis(w), indexing='ij')
    grid = torch.stack((gx, gy), dim=-1).to(frames.device)
    grid = grid.unsqueeze(0).expand(t, -1, -1, -1)
    return torch.nn.functional.grid_sample(
        frames.float(),
        grid,
        mode='bilinear',
        padding_mode='border',
        align_corners=True)


def frechet_distance(mu1: np.ndarray,
                     sigma1: np.ndarray,
                     mu2: np.ndarray,
                     sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Frechet distance of two Gaussians, with ``scipy.linalg.sqrtm``.

    ``d = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))``. A product of
    singular covariances (fewer samples than dimensions) can make
    ``sqrtm`` return non-finite values: then ``eps * I`` is added to both
    covariances. Rounding leaves small imaginary parts, which are dropped
    if negligible (|imag| <= 1e-3 on the diagonal) and an error otherwise.

    Args:
        mu1 (np.ndarray): ``(d,)`` mean.
        sigma1 (np.ndarray): ``(d, d)`` covariance.
        mu2 (np.ndarray): ``(d,)`` mean.
        sigma2 (np.ndarray): ``(d, d)`` covariance.
        eps (float): Diagonal offset used when ``sqrtm`` fails.
            Default: 1e-6.

    Returns:
        float: The distance.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError('The two Gaussians differ in dimension.')
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = eps * np.eye(sigma1.shape[0])
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        imag = np.abs(np.diagonal(covmean).imag).max()
        if imag > 1e-3:
            raise ValueError(f'sqrtm left an imaginary part of {imag:.3g} on '
                             'the diagonal: the covariances are unusable.')
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) -
                 2 * np.trace(covmean))


def frechet_distance_from_features(feats1: np.ndarray,
                                   feats2: np.ndarray) -> float:
    """FID of two feature sets (rows are samples).

    With fewer samples than dimensions (a video has far fewer frames than
    Inception's 2048 features) the covariances have rank < n and the
    trace term has an exact low-rank form: for centred features
    ``X1, X2``, ``tr (S1 S2)^(1/2)`` is the sum of the singular values of
    ``X1 X2^T`` over ``sqrt((n1 - 1)(n2 - 1))``, because the non-zero
    eigenvalues of ``S1 S2`` are the squared singular values of that
    ``n1 x n2`` matrix. It gives what :func:`frechet_distance` gives, in
    milliseconds instead of the ~1 min a 2048 x 2048 ``sqrtm`` takes here,
    and with no complex rounding. With more samples than dimensions,
    :func:`frechet_distance` is used.

    Args:
        feats1 (np.ndarray): ``(n1, d)`` features, ``n1 >= 2``.
        feats2 (np.ndarray): ``(n2, d)`` features, ``n2 >= 2``.

    Returns:
        float: The Frechet distance of the two Gaussians.
    """
    x1 = np.asarray(feats1, np.float64)
    x2 = np.asarray(feats2, np.float64)
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f'Feature sets {x1.shape} and {x2.shape} are not '
                         '(n, d) with the same d.')
    n1, n2, dim = x1.shape[0], x2.shape[0], x1.shape[1]
    if min(n1, n2) < 2:
        raise ValueError('FID needs at least 2 samples per set, got '
                         f'{n1} and {n2}.')
    mu1, mu2 = x1.mean(0), x2.mean(0)
    if max(n1, n2) > dim:
        return frechet_distance(mu1, np.cov(x1, rowvar=False), mu2,
                                np.cov(x2, rowvar=False))
    c1, c2 = x1 - mu1, x2 - mu2
    trace1 = np.square(c1).sum() / (n1 - 1)
    trace2 = np.square(c2).sum() / (n2 - 1)
    singular = np.linalg.svd(c1 @ c2.T, compute_uv=False)
    tr_covmean = singular.sum() / np.sqrt((n1 - 1) * (n2 - 1))
    diff = mu1 - mu2
    return float(diff @ diff + trace1 + trace2 - 2 * tr_covmean)


@METRICS.register_module()
class VideoFID(_PerVideoMetric):
    """FID between the predicted and ground-truth frames of each video.

    Each video's frames form the two sets (as in the paper's per-video
    Table 2); the result is the mean over videos. FID over ``n`` frames is
    biased upwards for small ``n``: compare methods on the same frames.

    Cost, measured on this machine's 2 CPU cores: the Inception takes
    0.35 s per frame when the cores are free and 0.75 to 1.7 s while a
    training job shares them; the clean resize of a 960 x 536 frame adds
    12 ms. Both the prediction and the ground truth are encoded, but the
    ground truth's features are cached by content, so each further output
    of the same video (another table row) costs only its own frames: a
    100-frame video takes ~70 s for the first row and ~35 s for each next
    one (idle cores). The distance itself takes milliseconds (see
    :func:`frechet_distance_from_features`). ``max_frames`` bounds the
    cost.

    Args:
        inception_path (str, optional): TorchScript Inception; else the
            local cache (see :func:`astf_mm.weights.load_inception`).
            Default: None.
        resize (str): ``'clean'`` (clean-fid: PIL bicubic) or ``'tf'``
            (the TF graph's bilinear). Default: 'clean'.
        max_frames (int, optional): Use at most this many frames per
            sample, evenly spaced. Default: None (all).
        batch_size (int): Frames per Inception pass. Default: 8.
        gt_key (str): Key of the ground truth. Default: 'gt_img'.
        pred_key (str): Key of the prediction in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric.
            Default: 'BGR'.
        device (str): Device of the computation. Default: 'cpu'.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the result name, e.g. 'stage1'
            gives 'stage1/FID'. Default: None.
    """

    metric = 'FID'

    def __init__(self,
                 inception_path: Optional[str] = None,
                 resize: str = 'clean',
                 max_frames: Optional[int] = None,
                 batch_size: int = 8,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(gt_key, pred_key, channel_order, device,
                         collect_device, prefix)
        if resize not in RESIZE_MODES:
            raise ValueError(
                f'resize must be one of {RESIZE_MODES}, got {resize!r}.')
        if max_frames is not None and max_frames < 2:
            raise ValueError(f'max_frames must be >= 2, got {max_frames}.')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        self.resize = resize
        self.max_frames = max_frames
        self.batch_size = batch_size
        self.inception = _shared_inception(
            resolve_inception(inception_path), str(device))

    def frame_indices(self, num_frames: int) -> np.ndarray:
        """The frames used from a sample of ``num_frames`` frames."""
        if self.max_frames is None or num_frames <= self.max_frames:
            return np.arange(num_frames)
        return np.unique(
            np.round(np.linspace(0, num_frames - 1,
                                 self.max_frames)).astype(int))

    @torch.no_grad()
    def features(self, frames: torch.Tensor) -> np.ndarray:
        """Inception pool features of RGB frames.

        Args:
            frames (Tensor): ``(t, 3, h, w)`` in [0, 255].

        Returns:
            np.ndarray: ``(t, 2048)`` float32.
        """
        feats = []
        for start in range(0, frames.shape[0], self.batch_size):
            batch = frames[start:start + self.batch_size]
            if batch.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
                if self.resize == 'clean':
                    batch = torch.from_numpy(resize_clean(batch))
                else:
                    batch = resize_tf(batch)
            batch = (batch.to(self.device).float() - 128) / 128
            feats.append(self.inception(batch).cpu().numpy())
        return np.concatenate(feats)

    def cached_features(self, frames: torch.Tensor) -> np.ndarray:
        """:meth:`features`, reused when the same frames come again."""
        array = frames.cpu().numpy().astype(np.uint8)
        key = (id(self.inception), self.resize, array.shape,
               hashlib.sha1(array.tobytes()).hexdigest())
        if key in _FEATURE_CACHE:
            _FEATURE_CACHE.move_to_end(key)
            return _FEATURE_CACHE[key]
        feats = self.features(frames)
        _FEATURE_CACHE[key] = feats
        while len(_FEATURE_CACHE) > _FEATURE_CACHE_SIZE:
            _FEATURE_CACHE.popitem(last=False)
        return feats

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor) -> dict:
        index = torch.from_numpy(self.frame_indices(pred.shape[0]))
        return dict(
            pred_feats=self.cached_features(pred[index]),
            gt_feats=self.cached_features(gt[index]))

    def video_value(self, entries: List[dict]) -> float:
        pred = np.concatenate([e['pred_feats'] for e in entries])
        gt = np.concatenate([e['gt_feats'] for e in entries])
        if len(pred) < 2:
            raise ValueError(
                f'Video {entries[0]["video"]}: FID needs at least 2 frames, '
                f'got {len(pred)}.')
        return frechet_distance_from_features(pred, gt)
