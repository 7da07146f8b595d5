"""SSIM per video, on 8-bit RGB frames."""
import numpy as np
from mmagic.evaluation.metrics.ssim import ssim
from mmagic.registry import METRICS

from .base import FrameAveragedMetric


def frame_ssim(pred: np.ndarray, gt: np.ndarray) -> float:
    """SSIM of one ``(h, w, c)`` 8-bit frame pair (mmagic's ``ssim``)."""
    return float(ssim(pred, gt, input_order='HWC'))


@METRICS.register_module()
class VideoSSIM(FrameAveragedMetric):
    """SSIM (RGB, 8-bit frames) averaged over each video's frames.

    Reports ``SSIM``.
    """
    metric = 'SSIM'

    def frame_value(self, pred: np.ndarray, gt: np.ndarray) -> float:
        return frame_ssim(pred, gt)
