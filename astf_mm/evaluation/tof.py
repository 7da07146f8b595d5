"""tOF, TecoGAN's temporal optical-flow metric (Chu et al. 2020).

For every pair of consecutive frames, the dense optical flow of the output
and of the ground truth are estimated (:mod:`.flow`); tOF is the mean over
pixels of the Euclidean distance between the two flow vectors, in pixels,
averaged over frame pairs. Conventions: :mod:`.temporal_base`.
"""
from typing import Optional

import numpy as np
from mmagic.registry import METRICS

from .base import DEFAULT_CACHE, ArrayCache
from .flow import farneback, to_gray, video_flows
from .temporal_base import Frames, PairMetric, prepare_videos, tecogan_crop_box


def tof_pairs(out: np.ndarray, gt: np.ndarray, crop: bool,
              cache: Optional[ArrayCache]) -> np.ndarray:
    """tOF of each frame pair of checked uint8 RGB videos (no scale)."""
    gt_flows = video_flows(gt, cache=cache)
    rows, cols = (
        tecogan_crop_box(*gt.shape[1:3]) if crop else
        (slice(None), slice(None)))
    out_gray = to_gray(out)
    values = []
    for i in range(len(gt_flows)):
        # output flows are row-specific: computed pair by pair, never kept
        out_flow = farneback(out_gray[i], out_gray[i + 1])
        diff = (out_flow - gt_flows[i])[rows, cols]
        values.append(np.sqrt(np.square(diff).sum(-1)).mean())
    return np.asarray(values, np.float64)


def tof(out_frames: Frames,
        gt_frames: Frames,
        crop: bool = True,
        skip_frames: int = 0,
        scale: float = 1.0,
        cache: Optional[ArrayCache] = DEFAULT_CACHE) -> float:
    """TecoGAN's tOF: mean flow difference between output and ground truth.

    Args:
        out_frames (np.ndarray | Sequence[np.ndarray]): ``t`` output
            frames, uint8 RGB ``(h, w, 3)``.
        gt_frames (np.ndarray | Sequence[np.ndarray]): ``t`` ground-truth
            frames, same shape.
        crop (bool): Apply TecoGAN's ``crop_8x8`` to the flows before
            averaging. Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        scale (float): Factor applied to the result (1: pixels, as
            TecoGAN's ``metrics.py``). Default: 1.0.
        cache (ArrayCache, optional): Cache for the ground-truth flows.
            Default: :data:`.base.DEFAULT_CACHE`.

    Returns:
        float: tOF in pixels (times ``scale``), averaged over frame pairs.
    """
    out, gt = prepare_videos(out_frames, gt_frames, 'gt_frames', skip_frames)
    return float(tof_pairs(out, gt, crop, cache).mean() * scale)


@METRICS.register_module()
class TOF(PairMetric):
    """TecoGAN's tOF per video (see :func:`tof`), averaged over videos.

    Args:
        gt_key (str): Key of the ground-truth video. Default: 'gt_img'.
        pred_key (str): Key of the predicted video in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric
            (mmagic's test-stage data preprocessor gives BGR).
            Default: 'BGR'.
        crop (bool): TecoGAN's ``crop_8x8``. Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        scale (float): Factor on the result. Default: 1.0.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the metric name (one per table
            row). Default: None.

    Metrics:
        - tOF (float): Mean over videos of the per-video tOF (pixels).
    """

    metric = 'tOF'

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 crop: bool = True,
                 skip_frames: int = 0,
                 scale: float = 1.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            channel_order=channel_order,
            skip_frames=skip_frames,
            collect_device=collect_device,
            prefix=prefix)
        self.crop = crop
        self.scale = scale

    def pair_values(self, pred: np.ndarray, gt: np.ndarray,
                    data_sample: dict) -> np.ndarray:
        """tOF of each frame pair."""
        return tof_pairs(pred, gt, self.crop, DEFAULT_CACHE) * self.scale
