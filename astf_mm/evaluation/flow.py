"""Optical flow, warping and occlusion for the temporal metrics.

* Flow is OpenCV Farneback on ``cv2.COLOR_RGB2GRAY`` uint8 frames with
  :data:`FARNEBACK_PARAMS` (TecoGAN's ``metrics.py`` call
  ``calcOpticalFlowFarneback(pre, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)``).
  No learned flow is used: none is available offline.
* Flow direction: ``flow = Farneback(a, b)`` satisfies
  ``a[y, x] ~ b[y + flow[y, x, 1], x + flow[y, x, 0]]``; channel 0 is the
  horizontal (x) displacement. "Forward" flows map frame ``t-1`` to
  ``t`` (``Farneback(f[t-1], f[t])``), "backward" flows map ``t`` to
  ``t-1`` (``Farneback(f[t], f[t-1])``).
* The flows of a reference video are shared by every row of a results
  table: they are kept in :data:`.base.DEFAULT_CACHE`.
"""
from types import MappingProxyType
from typing import Mapping, Optional

import cv2
import numpy as np

from .base import DEFAULT_CACHE, ArrayCache, cached, content_digest
from .temporal_base import Frames, as_video

# TecoGAN's metrics.py: calcOpticalFlowFarneback(pre, cur, None, 0.5, 3, 15,
# 3, 5, 1.2, 0) on grayscale uint8 frames.
FARNEBACK_PARAMS: Mapping[str, float] = MappingProxyType(
    dict(
        pyr_scale=0.5,
        levels=3,
        winsize=15,
        iterations=3,
        poly_n=5,
        poly_sigma=1.2,
        flags=0))

# Lai et al. 2018 (after Ruder et al. 2016): forward-backward consistency
# |w_b + w_f'|^2 < ALPHA (|w_b|^2 + |w_f'|^2) + BETA, and motion boundaries
# |grad w_b|^2 > ALPHA_MB |w_b|^2 + BETA_MB.
OCC_ALPHA = 0.01
OCC_BETA = 0.5
MB_ALPHA = 0.01
MB_BETA = 0.002


def to_gray(video: np.ndarray) -> np.ndarray:
    """Convert ``(t, h, w, 3)`` uint8 RGB frames to ``(t, h, w)`` luma.

    Args:
        video (np.ndarray): uint8 RGB frames.

    Returns:
        np.ndarray: uint8 gray frames (``cv2.COLOR_RGB2GRAY``).
    """
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in video])


def farneback(prev_gray: np.ndarray, next_gray: np.ndarray) -> np.ndarray:
    """Farneback flow from ``prev_gray`` to ``next_gray``.

    Args:
        prev_gray (np.ndarray): ``(h, w)`` uint8 frame.
        next_gray (np.ndarray): ``(h, w)`` uint8 frame.

    Returns:
        np.ndarray: ``(h, w, 2)`` float32 flow with
        ``prev[y, x] ~ next[y + flow[..., 1], x + flow[..., 0]]``.
    """
    return cv2.calcOpticalFlowFarneback(prev_gray, next_gray, None,
                                        **FARNEBACK_PARAMS)


def video_flows(frames: Frames,
                backward: bool = False,
                cache: Optional[ArrayCache] = DEFAULT_CACHE) -> np.ndarray:
    """Farneback flows between consecutive frames of a video.

    Args:
        frames (np.ndarray | Sequence[np.ndarray]): ``t`` uint8 RGB frames.
        backward (bool): False gives forward flows ``Farneback(f[i],
            f[i+1])`` (frame ``i`` to ``i+1``), True backward flows
            ``Farneback(f[i+1], f[i])`` (frame ``i+1`` to ``i``, defined
            on frame ``i+1``'s grid). Default: False.
        cache (ArrayCache, optional): Where to keep/look up the flows,
            keyed by the frames' content. None disables caching.
            Default: :data:`.base.DEFAULT_CACHE`.

    Returns:
        np.ndarray: ``(t-1, h, w, 2)`` float32 flows; entry ``i`` belongs
        to the pair ``(i, i+1)``.
    """
    gray = to_gray(as_video(frames))

    def compute() -> np.ndarray:
        if backward:
            pairs = zip(gray[1:], gray[:-1])
        else:
            pairs = zip(gray[:-1], gray[1:])
        return np.stack([farneback(a, b) for a, b in pairs])

    return cached(cache, ('flow', backward, content_digest(gray)), compute)


def warp_frame(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp ``image`` with ``flow``: ``out[p] = image[p + flow[p]]``.

    Bilinear interpolation (``cv2.remap``) with replicated borders.

    Args:
        image (np.ndarray): ``(h, w)`` or ``(h, w, c)`` image (c <= 4);
            uint8 or float32.
        flow (np.ndarray): ``(h, w, 2)`` flow on the output grid, channel
            0 horizontal.

    Returns:
        np.ndarray: The warped image, same shape and dtype as ``image``.
    """
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(
        np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x = grid_x + flow[..., 0].astype(np.float32)
    map_y = grid_y + flow[..., 1].astype(np.float32)
    return cv2.remap(
        image,
        map_x,
        map_y,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE)


def occlusion_mask(flow_bw: np.ndarray,
                   flow_fw: np.ndarray,
                   motion_boundary: bool = True) -> np.ndarray:
    """Valid (non-occluded) pixels of frame ``t`` for warping ``t-1`` onto it.

    A pixel ``p`` of frame ``t`` is invalid when (1) the backward flow
    ``w_b = flow_bw[p]`` and the forward flow sampled where it lands,
    ``w_f' = flow_fw[p + w_b]``, disagree: ``|w_b + w_f'|^2 >= 0.01
    (|w_b|^2 + |w_f'|^2) + 0.5``; (2) with ``motion_boundary``, it lies on a
    motion boundary: ``|grad u|^2 + |grad v|^2 > 0.01 |w_b|^2 + 0.002``
    (forward differences of ``w_b``), as in Lai et al.'s code; or (3)
    ``p + w_b`` falls outside frame ``t-1`` (content entering the view).

    Args:
        flow_bw (np.ndarray): ``(h, w, 2)`` flow from frame ``t`` to
            ``t-1`` (on frame ``t``'s grid).
        flow_fw (np.ndarray): ``(h, w, 2)`` flow from frame ``t-1`` to
            ``t`` (on frame ``t-1``'s grid).
        motion_boundary (bool): Also exclude motion boundaries.
            Default: True.

    Returns:
        np.ndarray: ``(h, w)`` bool, True where the pixel is valid.
    """
    flow_bw = flow_bw.astype(np.float32)
    fw_warped = warp_frame(flow_fw.astype(np.float32), flow_bw)
    sq = np.square
    mismatch = sq(flow_bw + fw_warped).sum(-1)
    magnitude = sq(flow_bw).sum(-1) + sq(fw_warped).sum(-1)
    invalid = mismatch >= OCC_ALPHA * magnitude + OCC_BETA
    if motion_boundary:
        grad = np.zeros(flow_bw.shape[:2], np.float32)
        grad[:, :-1] += sq(flow_bw[:, :-1] - flow_bw[:, 1:]).sum(-1)
        grad[:-1, :] += sq(flow_bw[:-1, :] - flow_bw[1:, :]).sum(-1)
        invalid |= grad > MB_ALPHA * sq(flow_bw).sum(-1) + MB_BETA
    h, w = flow_bw.shape[:2]
    src_x = np.arange(w, dtype=np.float32)[None, :] + flow_bw[..., 0]
    src_y = np.arange(h, dtype=np.float32)[:, None] + flow_bw[..., 1]
    invalid |= (src_x < 0) | (src_x > w - 1) | (src_y < 0) | (src_y > h - 1)
    return ~invalid
