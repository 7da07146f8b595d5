"""Metrics mmagic lacks, registered in its ``METRICS`` on import."""
from .fid import VideoFID, frechet_distance, frechet_distance_from_features
from .lpips import VideoLPIPS, frame_lpips
from .psnr import VideoPSNR, frame_psnr
from .ssim import VideoSSIM, frame_ssim
from .table import PerVideoTableHook, table_markdown
from .tlp import TLP, tlp
from .tof import TOF, tof
from .warping_error import WarpingError, warping_error

__all__ = [
    'VideoFID', 'VideoLPIPS', 'frechet_distance',
    'frechet_distance_from_features', 'TLP', 'TOF', 'WarpingError', 'tlp',
    'tof', 'warping_error', 'PerVideoTableHook', 'VideoPSNR', 'VideoSSIM',
    'frame_lpips', 'frame_psnr', 'frame_ssim', 'table_markdown'
]
