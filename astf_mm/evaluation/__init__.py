"""Metrics mmagic lacks, registered in its ``METRICS`` on import."""
from .perceptual import (VideoFID, VideoLPIPS, frechet_distance,
                         frechet_distance_from_features)
from .table import (PerVideoTableHook, VideoPSNR, VideoSSIM, frame_psnr,
                    frame_ssim, table_markdown)
from .temporal import TLP, TOF, WarpingError, tlp, tof, warping_error

__all__ = [
    'VideoFID', 'VideoLPIPS', 'frechet_distance',
    'frechet_distance_from_features', 'TLP', 'TOF', 'WarpingError', 'tlp',
    'tof', 'warping_error', 'PerVideoTableHook', 'VideoPSNR', 'VideoSSIM',
    'frame_psnr', 'frame_ssim', 'table_markdown'
]
