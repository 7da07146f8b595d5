"""PSNR per video, on 8-bit RGB frames."""
import numpy as np
from mmagic.evaluation.metrics.psnr import psnr
from mmagic.registry import METRICS

from .base import FrameAveragedMetric


def frame_psnr(pred: np.ndarray, gt: np.ndarray) -> float:
    """PSNR of one ``(h, w, c)`` 8-bit frame pair (mmagic's ``psnr``, RGB)."""
    return float(psnr(pred, gt, input_order='HWC'))


@METRICS.register_module()
class VideoPSNR(FrameAveragedMetric):
    """PSNR (RGB, 8-bit frames) averaged over each video's frames.

    As mmagic's ``PSNR`` on video samples, but on outputs rounded to 8 bits
    (what is saved) and keeping per-video values in ``per_video``.
    Reports ``PSNR``.
    """
    metric = 'PSNR'

    def frame_value(self, pred: np.ndarray, gt: np.ndarray) -> float:
        return frame_psnr(pred, gt)
