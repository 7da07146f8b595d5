"""Temporal-consistency (flicker) metrics for video outputs.

Three metrics, each a plain function on uint8 RGB frames and a sample-wise
metric registered in mmagic's ``METRICS``:

* **tOF** (:func:`tof`, ``TOF``), TecoGAN (Chu et al. 2020): for every pair
  of consecutive frames, the dense optical flow of the output and of the
  ground truth are estimated with OpenCV's Farneback method on grayscale
  uint8 frames; tOF is the mean over pixels of the Euclidean distance
  between the two flow vectors, in pixels, averaged over frame pairs.
* **tLP** (:func:`tlp`, ``TLP``), TecoGAN: ``100 * |LPIPS(gt[t-1], gt[t]) -
  LPIPS(out[t-1], out[t])|`` with LPIPS-alex (``lpips`` package, version
  0.1 heads) on RGB frames scaled to [-1, 1], averaged over frame pairs.
* **warping error** (:func:`warping_error`, ``WarpingError``), Lai et al.
  2018 ("Learning Blind Video Temporal Consistency"): the output frame
  ``t-1`` is warped onto frame ``t`` with flow estimated on a reference
  video (the ground truth or the compressed input), and the squared
  difference to output frame ``t`` is averaged over non-occluded pixels
  and the three channels, on [0, 1] RGB, then over frame pairs.

Conventions shared by all three (one source of truth):

* Flow is OpenCV Farneback on ``cv2.COLOR_RGB2GRAY`` uint8 frames with
  :data:`FARNEBACK_PARAMS` (TecoGAN's ``metrics.py`` call
  ``calcOpticalFlowFarneback(pre, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)``).
  No learned flow is used: none is available offline.
* Flow direction: ``flow = Farneback(a, b)`` satisfies
  ``a[y, x] ~ b[y + flow[y, x, 1], x + flow[y, x, 0]]``; channel 0 is the
  horizontal (x) displacement. "Forward" flows map frame ``t-1`` to
  ``t`` (``Farneback(f[t-1], f[t])``), "backward" flows map ``t`` to
  ``t-1`` (``Farneback(f[t], f[t-1])``).
* Scaling: tOF is in pixels with no factor (``scale=1``), as TecoGAN's
  ``metrics.py`` prints it; tLP carries TecoGAN's factor 100 (its
  ``tLPx100``); the warping error is a plain mean squared error on [0, 1]
  (Lai et al.). Tables in papers sometimes rescale further (e.g. tOF x10);
  pass ``scale`` to reproduce such a table.
* Borders: tOF and tLP use TecoGAN's ``crop_8x8`` by default: the flows
  (tOF) and frames (tLP) are centre-cropped to a multiple of 32 pixels
  that leaves at least 8 pixels on every side (:func:`tecogan_crop_box`).
  The warping error uses the occlusion mask instead.
* ``skip_frames`` drops that many frames at each end of a video before
  pairing (TecoGAN evaluated with 2, to skip the warm-up of recurrent
  networks); the default 0 uses every frame.
* Averages: over the frame pairs of a video, then over videos.

Flows and LPIPS distances of a reference video are shared by every row of
a results table (each row is another output of the same ground truth):
they are kept in an :class:`ArrayCache` keyed by the frames' content, so a
test run that evaluates six rows computes them once per video.
"""
import hashlib
import itertools
import warnings
import weakref
from collections import OrderedDict
from types import MappingProxyType
from typing import (Callable, Dict, Hashable, List, Mapping, Optional,
                    Sequence, Tuple, Union)

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmagic.evaluation.metrics.base_sample_wise_metric import \
    BaseSampleWiseMetric
from mmagic.evaluation.metrics.metrics_utils import obtain_data
from mmagic.registry import METRICS

from ..weights import build_lpips
from .perceptual import to_rgb_frames, video_key

Frames = Union[np.ndarray, Sequence[np.ndarray]]
LPIPSFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

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

# TecoGAN's tLP network (``lpips`` heads of version 0.1)
LPIPS_NET = 'alex'

# Lai et al. 2018 (after Ruder et al. 2016): forward-backward consistency
# |w_b + w_f'|^2 < ALPHA (|w_b|^2 + |w_f'|^2) + BETA, and motion boundaries
# |grad w_b|^2 > ALPHA_MB |w_b|^2 + BETA_MB.
OCC_ALPHA = 0.01
OCC_BETA = 0.5
MB_ALPHA = 0.01
MB_BETA = 0.002


class ArrayCache:
    """A least-recently-used cache of numpy arrays under a byte budget.

    Keys are built by the caller from the content of the frames (a hash),
    never from object identity, so a cached value can only be returned for
    identical input frames. Cached arrays are read-only.

    Args:
        max_bytes (int): Total size of the arrays kept; the least recently
            used are dropped beyond it, and an array larger than the budget
            is returned without being cached. Default: 4 GiB (the forward
            and backward flows of a 960x536 video of about 500 frames).
    """

    def __init__(self, max_bytes: int = 4 * 1024**3) -> None:
        self.max_bytes = max_bytes
        self._items: 'OrderedDict[Hashable, np.ndarray]' = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """int: Bytes held by the cached arrays."""
        return self._bytes

    def clear(self) -> None:
        """Drop every cached array."""
        self._items.clear()
        self._bytes = 0

    def get_or_compute(self, key: Hashable,
                       compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Return the array cached under ``key``, computing it if needed.

        Args:
            key (Hashable): Cache key.
            compute (Callable[[], np.ndarray]): Called on a miss.

        Returns:
            np.ndarray: The (read-only) array.
        """
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = np.asarray(compute())
        value.flags.writeable = False
        if value.nbytes <= self.max_bytes:
            self._items[key] = value
            self._bytes += value.nbytes
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes
        return value


# Shared by every metric in the process, so the reference flows of a video
# are computed once for all rows of a table. Lower ``max_bytes`` to bound
# memory (a budget smaller than one video's flows means recomputing them).
DEFAULT_CACHE = ArrayCache()


def _cached(cache: Optional[ArrayCache], key: Hashable,
            compute: Callable[[], np.ndarray]) -> np.ndarray:
    if cache is None:
        return compute()
    return cache.get_or_compute(key, compute)


def _digest(array: np.ndarray) -> Tuple:
    data = np.ascontiguousarray(array)
    return (data.shape, str(data.dtype),
            hashlib.blake2b(data.data, digest_size=16).hexdigest())


def as_video(frames: Frames, name: str = 'frames') -> np.ndarray:
    """Stack frames into a ``(t, h, w, 3)`` uint8 RGB array, checking them.

    Args:
        frames (np.ndarray | Sequence[np.ndarray]): A ``(t, h, w, 3)``
            array or a sequence of ``(h, w, 3)`` arrays, uint8 RGB.
        name (str): Name used in error messages. Default: 'frames'.

    Returns:
        np.ndarray: ``(t, h, w, 3)`` uint8 array (not a copy when
        ``frames`` already is one).
    """
    if isinstance(frames, np.ndarray):
        video = frames
    else:
        frames = list(frames)
        shapes = {np.shape(f) for f in frames}
        if len(shapes) > 1:
            raise ValueError(f'{name}: frames differ in shape: '
                             f'{sorted(shapes)}.')
        video = np.stack(frames) if frames else np.zeros((0, 0, 0, 3))
    if video.ndim != 4 or video.shape[-1] != 3:
        raise ValueError(f'{name}: expected (t, h, w, 3) RGB frames, got '
                         f'shape {video.shape}.')
    if video.dtype != np.uint8:
        raise ValueError(
            f'{name}: expected uint8 frames, got {video.dtype}; convert '
            'with np.clip(np.round(x), 0, 255).astype(np.uint8).')
    if video.shape[0] < 2:
        raise ValueError(f'{name}: temporal metrics need at least 2 '
                         f'frames, got {video.shape[0]}.')
    return video


def _prepare(out_frames: Frames, ref_frames: Frames, ref_name: str,
             skip_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    out = as_video(out_frames, 'out_frames')
    ref = as_video(ref_frames, ref_name)
    if out.shape != ref.shape:
        raise ValueError(f'out_frames {out.shape} and {ref_name} '
                         f'{ref.shape} differ in shape.')
    if skip_frames < 0:
        raise ValueError(f'skip_frames must be >= 0, got {skip_frames}.')
    t = out.shape[0]
    if t - 2 * skip_frames < 2:
        raise ValueError(f'skip_frames={skip_frames} at each end leaves '
                         f'fewer than 2 of the {t} frames.')
    return (out[skip_frames:t - skip_frames], ref[skip_frames:t - skip_frames])


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
            Default: :data:`DEFAULT_CACHE`.

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

    return _cached(cache, ('flow', backward, _digest(gray)), compute)


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


def tecogan_crop_box(height: int, width: int) -> Tuple[slice, slice]:
    """TecoGAN's ``crop_8x8``: a centred crop to a multiple of 32 pixels.

    Each side is the largest multiple of 32 that leaves at least 16 pixels
    in total (8 per side) of the original.

    Args:
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        tuple[slice, slice]: Row and column slices.
    """
    sides = []
    for size in (height, width):
        crop = size // 32 * 32
        while crop > size - 16:
            crop -= 32
        if crop <= 0:
            raise ValueError(
                f'Frames of {height}x{width} are too small for TecoGAN\'s '
                'crop (each side needs >= 48 pixels); pass crop=False.')
        start = (size - crop) // 2
        sides.append(slice(start, start + crop))
    return sides[0], sides[1]


def _tof_pairs(out: np.ndarray, gt: np.ndarray, crop: bool,
               cache: Optional[ArrayCache]) -> np.ndarray:
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
            Default: :data:`DEFAULT_CACHE`.

    Returns:
        float: tOF in pixels (times ``scale``), averaged over frame pairs.
    """
    out, gt = _prepare(out_frames, gt_frames, 'gt_frames', skip_frames)
    return float(_tof_pairs(out, gt, crop, cache).mean() * scale)


# One LPIPS network per (backbone, device), shared by every TLP metric so
# that the cached ground-truth distances (keyed by network) are reused.
_LPIPS_NETS: Dict[Tuple[Optional[str], str], nn.Module] = {}
_NET_TOKENS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()
_TOKEN_COUNTER = itertools.count()


def default_lpips(backbone_path: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """The shared LPIPS-alex network with real weights, built once.

    Built by :func:`astf_mm.weights.build_lpips` (frozen, eval mode),
    which resolves the backbone weights and raises a clear error when they
    are missing (never random weights).

    Args:
        backbone_path (str, optional): Local AlexNet backbone weights,
            passed to ``build_lpips``. Default: None (its own resolution).
        device (str | torch.device): Device of the network. Default: 'cpu'.

    Returns:
        nn.Module: An ``lpips.LPIPS(net='alex')`` network.
    """
    key = (backbone_path, str(device))
    if key not in _LPIPS_NETS:
        net = build_lpips(net=LPIPS_NET, backbone_path=backbone_path)
        _LPIPS_NETS[key] = net.to(device)
    return _LPIPS_NETS[key]


def _net_token(net: LPIPSFn) -> Optional[int]:
    # A token per live network object: ids can be reused after garbage
    # collection, tokens cannot.
    try:
        if net not in _NET_TOKENS:
            _NET_TOKENS[net] = next(_TOKEN_COUNTER)
        return _NET_TOKENS[net]
    except TypeError:  # not weak-referenceable: do not cache its results
        return None


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


def _tlp_pairs(out: np.ndarray, gt: np.ndarray, net: LPIPSFn, crop: bool,
               batch_size: int, cache: Optional[ArrayCache]) -> np.ndarray:
    if crop:
        rows, cols = tecogan_crop_box(*gt.shape[1:3])
        out = out[:, rows, cols]
        gt = gt[:, rows, cols]
    device = _net_device(net)
    token = _net_token(net)
    gt_dist = _cached(
        cache if token is not None else None, ('lpips', token, _digest(gt)),
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
            Default: :data:`DEFAULT_CACHE`.

    Returns:
        float: tLP averaged over frame pairs.
    """
    out, gt = _prepare(out_frames, gt_frames, 'gt_frames', skip_frames)
    net = default_lpips() if lpips_net is None else lpips_net
    return float(
        _tlp_pairs(out, gt, net, crop, batch_size, cache).mean() * scale)


def _warp_pairs(out: np.ndarray, ref: np.ndarray, motion_boundary: bool,
                cache: Optional[ArrayCache]) -> np.ndarray:
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
    frame ``t`` over the pixels valid in :func:`occlusion_mask` and the
    three channels, on [0, 1] RGB. Lai et al.'s code warps ``t`` onto
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
            Default: :data:`DEFAULT_CACHE`.

    Returns:
        float: Warping error averaged over frame pairs; pairs with no
        valid pixel are left out, and NaN is returned (with a warning) if
        no pair has one.
    """
    out, ref = _prepare(out_frames, ref_frames, 'ref_frames', skip_frames)
    values = _warp_pairs(out, ref, motion_boundary, cache)
    if not len(values):
        warnings.warn('warping_error: every frame pair is fully occluded; '
                      'returning NaN.')
        return float('nan')
    return float(values.mean())


# ---------------------------------------------------------------------------
# registered metrics


def tensor_to_video(frames: Union[torch.Tensor, np.ndarray],
                    channel_order: str = 'BGR',
                    name: str = 'frames') -> np.ndarray:
    """Convert a ``(t, 3, h, w)`` [0, 255] video to uint8 RGB frames.

    Values are rounded and clipped as when frames are saved to PNG, so the
    registered metrics match the CLI run on the written frames.

    Args:
        frames (torch.Tensor | np.ndarray): ``(t, 3, h, w)`` float video in
            [0, 255].
        channel_order (str): 'BGR' or 'RGB'. Default: 'BGR' (what mmagic's
            data preprocessor hands metrics in the test stage).
        name (str): Name used in error messages. Default: 'frames'.

    Returns:
        np.ndarray: ``(t, h, w, 3)`` uint8 RGB.
    """
    if frames.ndim != 4:
        raise ValueError(
            f'{name}: temporal metrics need a whole video per sample, a '
            f'(t, 3, h, w) tensor; got shape {tuple(frames.shape)}. Use a '
            'video dataset whose samples are sequences (batch size 1).')
    rgb = to_rgb_frames(frames, channel_order, name)  # rounded, RGB
    return rgb.permute(0, 2, 3, 1).to(torch.uint8).contiguous().cpu().numpy()


class _TemporalMetric(BaseSampleWiseMetric):
    """Shared bookkeeping: per-pair values grouped by video.

    ``self.results`` holds one entry per sample: ``{'video', 'sum',
    'count'}`` over its frame pairs, so the per-video mean is exact even if
    a video arrives as several samples, and the entries survive mmengine's
    collection across ranks. After :meth:`compute_metrics`,
    :attr:`per_video` lists ``{'video': key, <metric>: value}`` in the
    order the videos arrived.
    """

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 skip_frames: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 device: str = 'cpu') -> None:
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
        if skip_frames < 0:
            raise ValueError(f'skip_frames must be >= 0, got {skip_frames}.')
        self.channel_order = channel_order.upper()
        self.skip_frames = skip_frames
        self.per_video: List[dict] = []

    def pair_values(self, pred: np.ndarray, gt: np.ndarray,
                    data_sample: dict) -> np.ndarray:
        """Per-pair values of one video (uint8 RGB ``(t, h, w, 3)``)."""
        raise NotImplementedError

    def process(self, data_batch: Optional[Sequence[dict]],
                data_samples: Sequence[dict]) -> None:
        """Compute the per-pair values of each video sample.

        Args:
            data_batch (Sequence[dict], optional): Unused.
            data_samples (Sequence[dict]): Data samples with an ``output``
                dict; each sample holds a whole video ``(t, 3, h, w)``.
        """
        for data in data_samples:
            pred = tensor_to_video(
                obtain_data(data['output'], self.pred_key), self.channel_order,
                self.pred_key)
            gt = tensor_to_video(
                obtain_data(data, self.gt_key), self.channel_order,
                self.gt_key)
            pred, gt = _prepare(pred, gt, self.gt_key, self.skip_frames)
            values = self.pair_values(pred, gt, data)
            video = video_key(data)
            if video is None:
                video = f'sample_{len(self.results):04d}'
            self.results.append(
                dict(
                    video=video,
                    sum=float(values.sum()),
                    count=int(len(values))))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average over the pairs of each video, then over videos.

        Args:
            results (list[dict]): Entries from :meth:`process` (all ranks).

        Returns:
            dict[str, float]: ``{self.metric: mean over videos}`` (NaN if
            no video has a valid pair).
        """
        totals: Dict[str, List[float]] = {}
        for entry in results:
            total = totals.setdefault(entry['video'], [0.0, 0])
            total[0] += entry['sum']
            total[1] += entry['count']
        self.per_video = [{
            'video': video,
            self.metric: total / count if count else float('nan')
        } for video, (total, count) in totals.items()]
        values = [
            v[self.metric] for v in self.per_video
            if not np.isnan(v[self.metric])
        ]
        mean = float(np.mean(values)) if values else float('nan')
        return {self.metric: mean}


@METRICS.register_module()
class TOF(_TemporalMetric):
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
        return _tof_pairs(pred, gt, self.crop, DEFAULT_CACHE) * self.scale


@METRICS.register_module()
class TLP(_TemporalMetric):
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
        return _tlp_pairs(pred, gt, net, self.crop, self.batch_size,
                          DEFAULT_CACHE) * self.scale


@METRICS.register_module()
class WarpingError(_TemporalMetric):
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
        return _warp_pairs(pred, ref, self.motion_boundary, DEFAULT_CACHE)
