"""The flow-warping error of Lai et al. 2018 ("Learning Blind Video
Temporal Consistency").

The output frame ``t-1`` is warped onto frame ``t`` with flow estimated on
a reference video (the ground truth or the compressed input), and the
squared difference to output frame ``t`` is averaged over non-occluded
pixels and the three channels, on [0, 1] RGB, then over frame pairs.
Conventions: :mod:`.temporal_base`.
"""
import warnings
from typing import Optional

import numpy as np
from mmagic.evaluation.metrics.metrics_utils import obtain_data
from mmagic.registry import METRICS

from .base import DEFAULT_CACHE, ArrayCache
from .flow import occlusion_mask, video_flows, warp_frame
from .temporal_base import Frames, PairMetric, prepare_videos, tensor_to_video


def warp_pairs(out: np.ndarray, ref: np.ndarray, motion_boundary: bool,
               cache: Optional[ArrayCache]) -> np.ndarray:
    """Warping error of each frame pair with a valid pixel."""
    flows_fw = video_flows(ref, backward=False, cache=cache)
    flows_bw = video_flows(ref, backward=True, cache=cache)
    values = []
    for i in range(len(flows_fw)):
        valid = occlusion_mask(flows_bw[i], flows_fw[i], motion_boundary)
        if not valid.any():
            continue  # nothing visible in both frames (e.g. a scene cut)
        prev = out[i].astype(np.float32) / 255.0
        cur = out[i + 1].astype(np.float32) / 255.0
        diff = warp_frame(prev, flows_bw[i]) - cur
        values.append(np.square(diff[valid]).mean())
    return np.asarray(values, np.float64)


def warping_error(out_frames: Frames,
                  ref_frames: Frames,
                  motion_boundary: bool = True,
                  skip_frames: int = 0,
                  cache: Optional[ArrayCache] = DEFAULT_CACHE) -> float:
    """Flow-warping error of Lai et al. 2018, flow from a reference video.

    For each pair ``(t-1, t)``: the backward flow ``t -> t-1`` and forward
    flow ``t-1 -> t`` are estimated on ``ref_frames``; output frame ``t-1``
    is warped onto frame ``t`` (``cv2.remap``, bilinear, replicated
    border); the error is the mean of the squared difference to output
    frame ``t`` over the pixels valid in :func:`.flow.occlusion_mask` and
    the three channels, on [0, 1] RGB. Lai et al.'s code warps ``t`` onto
    ``t-1`` with the forward flow instead; the two are mirror images.

    Args:
        out_frames (np.ndarray | Sequence[np.ndarray]): ``t`` output
            frames, uint8 RGB ``(h, w, 3)``.
        ref_frames (np.ndarray | Sequence[np.ndarray]): ``t`` frames the
            flow is estimated on (ground truth, or the compressed input as
            in Lai et al.), same shape.
        motion_boundary (bool): Also mask motion boundaries. Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        cache (ArrayCache, optional): Cache for the reference flows.
            Default: :data:`.base.DEFAULT_CACHE`.

    Returns:
        float: Warping error averaged over frame pairs; pairs with no
        valid pixel are left out, and NaN is returned (with a warning) if
        no pair has one.
    """
    out, ref = prepare_videos(out_frames, ref_frames, 'ref_frames',
                              skip_frames)
    values = warp_pairs(out, ref, motion_boundary, cache)
    if not len(values):
        warnings.warn('warping_error: every frame pair is fully occluded; '
                      'returning NaN.')
        return float('nan')
    return float(values.mean())


@METRICS.register_module()
class WarpingError(PairMetric):
    """Lai et al.'s warping error per video (see :func:`warping_error`).

    Args:
        gt_key (str): Key of the ground-truth video (checked for shape).
            Default: 'gt_img'.
        pred_key (str): Key of the predicted video in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric
            (mmagic's test-stage data preprocessor gives BGR).
            Default: 'BGR'.
        flow_key (str): Key of the video the flow is estimated on: a key of
            the data sample (``'gt_img'``; ``'input'``, where mmagic's
            edit models put the destructed compressed input) or of its
            ``output``. Default: 'gt_img'.
        motion_boundary (bool): Also mask motion boundaries. Default: True.
        skip_frames (int): Frames dropped at each end. Default: 0.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the metric name. Default: None.

    Metrics:
        - WarpingError (float): Mean over videos of the per-video error.
    """

    metric = 'WarpingError'

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 flow_key: str = 'gt_img',
                 motion_boundary: bool = True,
                 skip_frames: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            channel_order=channel_order,
            skip_frames=skip_frames,
            collect_device=collect_device,
            prefix=prefix)
        self.flow_key = flow_key
        self.motion_boundary = motion_boundary

    def pair_values(self, pred: np.ndarray, gt: np.ndarray,
                    data_sample: dict) -> np.ndarray:
        """Warping error of each frame pair with a valid pixel."""
        if self.flow_key == self.gt_key:
            ref = gt
        else:
            try:
                ref = obtain_data(data_sample, self.flow_key)
            except KeyError:
                try:
                    ref = obtain_data(data_sample['output'], self.flow_key)
                except KeyError:
                    raise KeyError(
                        f'WarpingError: flow_key {self.flow_key!r} is in '
                        'neither the data sample nor its output (keys: '
                        f'{sorted(data_sample)}).') from None
            ref = tensor_to_video(ref, self.channel_order, self.flow_key)
            s = self.skip_frames
            ref = ref[s:len(ref) - s]
            if ref.shape != pred.shape:
                raise ValueError(
                    f'WarpingError: flow_key {self.flow_key!r} video '
                    f'{ref.shape} and prediction {pred.shape} differ in '
                    'shape.')
        return warp_pairs(pred, ref, self.motion_boundary, DEFAULT_CACHE)
