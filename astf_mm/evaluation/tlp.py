"""tLP, TecoGAN's temporal LPIPS metric (Chu et al. 2020).

``100 * |LPIPS(gt[t-1], gt[t]) - LPIPS(out[t-1], out[t])|`` with
LPIPS-alex (``lpips`` package, version 0.1 heads) on RGB frames scaled to
[-1, 1], averaged over frame pairs. Conventions: :mod:`.temporal_base`.
"""
from typing import Callable, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmagic.registry import METRICS

from .base import (DEFAULT_CACHE, ArrayCache, cached, content_digest,
                   net_token, shared_lpips)
from .temporal_base import Frames, PairMetric, prepare_videos, tecogan_crop_box

LPIPSFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# TecoGAN's tLP network (``lpips`` heads of version 0.1)
LPIPS_NET = 'alex'


def default_lpips(backbone_path: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """The shared LPIPS-alex network with real weights, built once.

    Built by :func:`.base.shared_lpips` (frozen, eval mode), which
    resolves the backbone weights and raises a clear error when they are
    missing (never random weights).

    Args:
        backbone_path (str, optional): Local AlexNet backbone weights.
            Default: None (the local cache).
        device (str | torch.device): Device of the network. Default: 'cpu'.

    Returns:
        nn.Module: An ``lpips.LPIPS(net='alex')`` network.
    """
    return shared_lpips(LPIPS_NET, backbone_path, device=device)


def _net_device(net: LPIPSFn) -> torch.device:
    if isinstance(net, nn.Module):
        for param in net.parameters():
            return param.device
    return torch.device('cpu')


def _lpips_pair_distances(video: np.ndarray, net: LPIPSFn,
                          device: torch.device, batch_size: int) -> np.ndarray:
    distances = []
    with torch.no_grad():
        for start in range(0, len(video) - 1, batch_size):
            stop = min(start + batch_size, len(video) - 1)
            clip = torch.from_numpy(video[start:stop + 1]).to(device)
            # uint8 RGB -> [-1, 1], (n, 3, h, w): LPIPS' own input range
            clip = clip.permute(0, 3, 1, 2).float() / 127.5 - 1.0
            dist = net(clip[:-1], clip[1:])
            distances.append(dist.reshape(len(clip) - 1).double().cpu())
    return torch.cat(distances).numpy()


def tlp_pairs(out: np.ndarray, gt: np.ndarray, net: LPIPSFn, crop: bool,
              batch_size: int, cache: Optional[ArrayCache]) -> np.ndarray:
    """tLP of each frame pair of checked uint8 RGB videos (no scale)."""
    if crop:
        rows, cols = tecogan_crop_box(*gt.shape[1:3])
        out = out[:, rows, cols]
        gt = gt[:, rows, cols]
    device = _net_device(net)
    token = net_token(net)
    gt_dist = cached(
        cache if token is not None else None,
        ('lpips', token, content_digest(gt)),
        lambda: _lpips_pair_distances(gt, net, device, batch_size))
    out_dist = _lpips_pair_distances(out, net, device, batch_size)
    return np.abs(gt_dist - out_dist)


def tlp(out_frames: Frames,
        gt_frames: Frames,
        lpips_net: Optional[LPIPSFn] = None,
        crop: bool = True,
        skip_frames: int = 0,
        scale: float = 100.0,
        batch_size: int = 4,
        cache: Optional[ArrayCache] = DEFAULT_CACHE) -> float:
    """TecoGAN's tLP: LPIPS between consecutive frames, output vs truth.

    Args:
        out_frames (np.ndarray | Sequence[np.ndarray]): ``t`` output
            frames, uint8 RGB ``(h, w, 3)``.
        gt_frames (np.ndarray | Sequence[np.ndarray]): ``t`` ground-truth
            frames, same shape.
        lpips_net (Callable, optional): ``f(x0, x1) -> (n, ...)`` distances
            of ``(n, 3, h, w)`` RGB batches in [-1, 1], e.g. an
            ``lpips.LPIPS`` network; its inputs go to the device of its
            parameters. Default: None (:func:`default_lpips`, alex).
        crop (bool): Apply TecoGAN's ``crop_8x8`` to the frames.
            Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        scale (float): Factor applied to ``|d_gt - d_out|`` (TecoGAN: 100).
            Default: 100.0.
        batch_size (int): Frame pairs per LPIPS forward pass. Default: 4.
        cache (ArrayCache, optional): Cache for the ground-truth distances,
            keyed by the network object and the frames' content (so a
            network must not change weights while in use).
            Default: :data:`.base.DEFAULT_CACHE`.

    Returns:
        float: tLP averaged over frame pairs.
    """
    out, gt = prepare_videos(out_frames, gt_frames, 'gt_frames', skip_frames)
    net = default_lpips() if lpips_net is None else lpips_net
    return float(
        tlp_pairs(out, gt, net, crop, batch_size, cache).mean() * scale)


@METRICS.register_module()
class TLP(PairMetric):
    """TecoGAN's tLP per video (see :func:`tlp`), averaged over videos.

    Args:
        gt_key (str): Key of the ground-truth video. Default: 'gt_img'.
        pred_key (str): Key of the predicted video in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric
            (mmagic's test-stage data preprocessor gives BGR).
            Default: 'BGR'.
        crop (bool): TecoGAN's ``crop_8x8``. Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        scale (float): Factor on ``|d_gt - d_out|``. Default: 100.0.
        lpips_net (Callable, optional): An LPIPS network/callable to use
            instead of :func:`default_lpips` (tests inject a random
            backbone). Default: None.
        lpips_backbone (str, optional): Local AlexNet backbone weights for
            :func:`default_lpips`. Default: None.
        batch_size (int): Frame pairs per LPIPS pass. Default: 4.
        device (str): Device of the default LPIPS network. Default: 'cpu'.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the metric name. Default: None.

    Metrics:
        - tLP (float): Mean over videos of the per-video tLP.
    """

    metric = 'tLP'

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 crop: bool = True,
                 skip_frames: int = 0,
                 scale: float = 100.0,
                 lpips_net: Optional[LPIPSFn] = None,
                 lpips_backbone: Optional[str] = None,
                 batch_size: int = 4,
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            channel_order=channel_order,
            skip_frames=skip_frames,
            collect_device=collect_device,
            prefix=prefix,
            device=device)
        self.crop = crop
        self.scale = scale
        self.lpips_net = lpips_net
        self.lpips_backbone = lpips_backbone
        self.batch_size = batch_size

    def pair_values(self, pred: np.ndarray, gt: np.ndarray,
                    data_sample: dict) -> np.ndarray:
        """tLP of each frame pair."""
        net = self.lpips_net
        if net is None:  # built on first use: constructing needs no weights
            net = default_lpips(self.lpips_backbone, self.device)
        return tlp_pairs(pred, gt, net, self.crop, self.batch_size,
                         DEFAULT_CACHE) * self.scale
