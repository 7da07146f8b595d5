"""ASTF: adaptive spatial-temporal fusion and sharpening (paper sec. 3.2).

Pure tensor code, no I/O. Frames are ``(n, t, 3, h, w)`` float RGB tensors
with values in ``[0, data_range]``; every function is batched and
device-agnostic and returns the dtype it was given.

The fusion (eqs. 3-6), for the outputs ``I1`` of EnhanceNet1 (LPIPS) and
``I2`` of EnhanceNet2 (trade-off):

1. ``Y^t``: luma of ``I2^t`` on the 0-255 scale with BT.601 weights
   (0.299 R + 0.587 G + 0.114 B, the Y of OpenCV's ``BGR2YUV``), kept as
   a float (OpenCV would round it for uint8 images).
2. ``V^t(i, j)``: population variance of ``Y^t`` over the
   ``(2r+1) x (2r+1)`` window centred at ``(i, j)`` (the paper's
   ``k in [-11, 11]``: ``r = 11``), borders by reflect-101 (OpenCV's
   default ``BORDER_REFLECT_101``, torch's ``mode='reflect'``).
3. ``p_t`` / ``q_t``: the largest / smallest value over all pixels of
   ``V^{t-1}, V^t, V^{t+1}`` (scalars per frame; at the first and last
   frame only the frames that exist count), and
   ``mask_t = (V^t - q_t) / (p_t - q_t)``, set to 0 where ``p_t == q_t``
   (all windows flat: everything is "smooth").
4. ``Out^t = mask_t * I1^t + (1 - mask_t) * I2^t``, then an unsharp mask
   with a 3x3 Gaussian (the paper's "image sharpen ... Gaussian kernel
   size of 3").

How we read "a spatial-temporal block with 3x3x3 pixels": the paper's
equations use a 23x23 spatial window for the variance and a temporal
window of 3 frames (``t-1..t+1``) for the normalisation (eq. 6), so we
take the "3" in time to be that normalisation window
(``temporal_radius=1``) and implement eqs. 4-6 literally. We offer no
3x3x3 local max/min variant: the variance map is already smoothed over
23x23 windows, so a 3x3x3 local max/min is nearly equal to ``V`` itself
and ``(V - q) / (p - q)`` would turn into amplified noise instead of a
texture mask.

Numerics. The luma is computed in the input's precision (at least
float32: relative error 1e-7, no cancellation). Window sums come from
cumulative sums along rows then columns (cost per pixel independent of
``r``), computed in float64 (float32 on MPS, which lacks it) on data
shifted by each frame's top-left pixel: the shift removes the large
offset that makes ``E[y^2] - E[y]^2`` cancel (a frame at 255 with tiny
noise) and makes a constant frame's variance exactly 0, so ``p == q``
holds exactly for flat clips. Rounding can still leave values of about
1e-11 below 0 in flat regions of a textured frame; those are clamped to 0.
Windows larger than the image use repeated reflect-101 (periodic with
period ``2 (side - 1)``), which is what ``np.pad(mode='reflect')`` and
OpenCV's ``borderInterpolate`` do; a side of length 1 is repeated.

Chunking. ``astf_mask`` of frame ``t`` depends only on frames
``t - temporal_radius .. t + temporal_radius`` (spatial work is per
frame), so a long video can be processed in chunks that carry
``temporal_radius`` frames of context on each side: the masks of the
non-context frames equal those of the whole video.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor

#: BT.601 luma weights of R, G, B (OpenCV's ``BGR2YUV`` Y).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

#: Default unsharp-mask amount ``a`` in ``x + a (x - G * x)``. The paper
#: gives none. 1.0 is the classic unsharp mask (the detail layer added
#: once). PSNR cost of the 3x3, sigma 0.8 sharpening, measured by
#: benchmarks/bench_fusion.py (results/fusion.md): Big Buck Bunny frames
#: (960x536, x265 QP 37, 30.2 dB) lose 0.7 / 1.9 / 3.2 / 4.5 dB at
#: a = 1 / 2 / 3 / 4; a grainy photograph (matplotlib's grace_hopper.jpg,
#: JPEG q40, 32.0 dB) loses 3.0 / 4.6 / 5.8 dB at a = 1 / 1.5 / 2. The
#: paper's fuse -> fuse+sharp drop (31.81 -> 26.83 dB, Table 1) thus
#: points to a strong sharpening, about 1.5 to 4 depending on content. We
#: keep the classic 1.0 as the default (crisper edges at a moderate PSNR
#: cost) and leave stronger settings to ``amount`` / ``sharpen_amount``.
DEFAULT_SHARPEN_AMOUNT = 1.0


def _check_frames(x: Tensor, name: str) -> None:
    if x.dim() != 5 or x.shape[2] != 3:
        raise ValueError(f'{name} must have shape (n, t, 3, h, w), got '
                         f'{tuple(x.shape)}.')
    if not x.is_floating_point():
        raise TypeError(f'{name} must be a float tensor, got {x.dtype}.')


def _work_dtype(device: torch.device) -> torch.dtype:
    # MPS has no float64; the shifted formula keeps float32 usable there.
    return torch.float32 if device.type == 'mps' else torch.float64


def _reflect_index(size: int, pad: int, device: torch.device) -> Tensor:
    """Indices of a reflect-101 padding by ``pad`` on both sides.

    Repeats the reflection when ``pad >= size`` (periodic extension with
    period ``2 (size - 1)``), like ``np.pad(mode='reflect')``.
    """
    idx = torch.arange(-pad, size + pad, device=device)
    if size == 1:
        return torch.zeros_like(idx)
    period = 2 * (size - 1)
    idx = idx.remainder(period)
    return torch.where(idx < size, idx, period - idx)


def _reflect_pad(x: Tensor, pad: int, dim: int) -> Tensor:
    """Reflect-101 padding of ``dim`` (-1 or -2) by ``pad`` on both sides."""
    h, w = x.shape[-2:]
    dim = dim - x.dim() if dim >= 0 else dim
    if dim not in (-1, -2):
        raise ValueError(f'only the last two dims can be padded, got {dim}.')
    if 0 < pad < x.shape[dim]:
        # F.pad's reflect kernel is much faster than a gather on CPU.
        if dim == -1:
            padded = F.pad(x.reshape(-1, 1, w), (pad, pad), mode='reflect')
            return padded.view(*x.shape[:-1], w + 2 * pad)
        padded = F.pad(
            x.reshape(-1, h, w), (0, 0, pad, pad), mode='reflect')
        return padded.view(*x.shape[:-2], h + 2 * pad, w)
    return x.index_select(dim, _reflect_index(x.shape[dim], pad, x.device))


def _box_sum(x: Tensor, radius: int, dim: int) -> Tensor:
    """Sum over a ``2 radius + 1`` window along ``dim`` (reflect-101)."""
    if radius == 0:
        return x.clone()
    size = x.shape[dim]
    csum = _reflect_pad(x, radius, dim).cumsum_(dim)
    # Window i spans padded i .. i + 2r: csum[i + 2r] - csum[i - 1].
    out = csum.narrow(dim, 2 * radius, size).clone()
    out.narrow(dim, 1, size - 1).sub_(csum.narrow(dim, 0, size - 1))
    return out


def _correlate1d(x: Tensor, kernel: Sequence[float], dim: int) -> Tensor:
    """Correlation with a short odd kernel along ``dim``, reflect-101.

    Shifted slices are summed: much faster than a one-channel conv2d on
    CPU for the 3-tap kernels used here.
    """
    size = x.shape[dim]
    padded = _reflect_pad(x, len(kernel) // 2, dim)
    out = padded.narrow(dim, 0, size) * kernel[0]
    for tap in range(1, len(kernel)):
        out.add_(padded.narrow(dim, tap, size), alpha=kernel[tap])
    return out


def rgb_to_luma(x: Tensor, data_range: float = 1.0) -> Tensor:
    """BT.601 luma of RGB frames on the 0-255 scale (eq. 4).

    Args:
        x (Tensor): RGB frames of shape ``(..., 3, h, w)``, e.g.
            ``(n, t, 3, h, w)``, values in ``[0, data_range]``.
        data_range (float): Value of white in ``x``. Default: 1.0.

    Returns:
        Tensor: Luma of shape ``(..., 1, h, w)`` in ``[0, 255]``, the
        dtype of ``x``; not rounded.
    """
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError('rgb_to_luma expects (..., 3, h, w) RGB frames, '
                         f'got {tuple(x.shape)}.')
    r, g, b = x.unbind(-3)
    scale = 255.0 / data_range
    luma = (LUMA_WEIGHTS[0] * scale) * r + (LUMA_WEIGHTS[1] * scale) * g
    luma = luma + (LUMA_WEIGHTS[2] * scale) * b
    return luma.unsqueeze(-3)


def local_variance(y: Tensor, radius: int = 11) -> Tensor:
    """Population variance over ``(2r+1) x (2r+1)`` windows (eq. 5).

    Borders are reflect-101; windows larger than the image reflect
    repeatedly (see the module docstring). Computed in float64 from
    cumulative sums, so the cost per pixel does not depend on ``radius``.

    Args:
        y (Tensor): Maps of shape ``(..., h, w)``, e.g. ``(n, t, 1, h, w)``
            luma.
        radius (int): Window radius ``r``. Default: 11.

    Returns:
        Tensor: Variance, same shape and dtype as ``y``, never negative.
    """
    if y.dim() < 2:
        raise ValueError('local_variance expects (..., h, w), got '
                         f'{tuple(y.shape)}.')
    if radius < 0:
        raise ValueError(f'radius must be >= 0, got {radius}.')
    work = y.to(_work_dtype(y.device))
    # Shift by one pixel value per map (see module docstring: numerics).
    work = work - work[..., :1, :1]
    area = float((2 * radius + 1)**2)
    mean = _box_sum(_box_sum(work, radius, -2), radius, -1) / area
    mean_sq = _box_sum(_box_sum(work * work, radius, -2), radius, -1) / area
    var = (mean_sq - mean * mean).clamp_min_(0.0)
    return var.to(y.dtype)


def variance_map(i2: Tensor,
                 radius: int = 11,
                 data_range: float = 1.0) -> Tensor:
    """Variance map ``V`` of the luma of EnhanceNet2's frames (eqs. 4-5).

    Args:
        i2 (Tensor): Frames of shape ``(n, t, 3, h, w)`` in
            ``[0, data_range]``.
        radius (int): Window radius ``r``. Default: 11.
        data_range (float): Value of white in ``i2``. Default: 1.0.

    Returns:
        Tensor: ``V`` of shape ``(n, t, 1, h, w)`` in (luma 0-255)^2 units,
        float64 (float32 on MPS) so the normalisation keeps precision.
    """
    _check_frames(i2, 'i2')
    # Luma in float32 at least (half precision would quantise 0-255 to
    # 1/8); its relative error (1e-7) needs no float64, the variance does.
    if i2.dtype not in (torch.float32, torch.float64):
        i2 = i2.float()
    luma = rgb_to_luma(i2, data_range).to(_work_dtype(i2.device))
    return local_variance(luma, radius)


def temporal_extrema(v: Tensor,
                     temporal_radius: int = 1) -> Tuple[Tensor, Tensor]:
    """Scalars ``p_t``, ``q_t`` of eq. 6 over a sliding temporal window.

    Args:
        v (Tensor): Variance maps of shape ``(n, t, 1, h, w)``.
        temporal_radius (int): Frames on each side of ``t`` in the window;
            at the ends only existing frames count. Default: 1.

    Returns:
        Tuple[Tensor, Tensor]: ``p`` (max) and ``q`` (min) over all pixels
        of frames ``t - temporal_radius .. t + temporal_radius``, each of
        shape ``(n, t, 1, 1, 1)``.
    """
    if temporal_radius < 0:
        raise ValueError('temporal_radius must be >= 0, got '
                         f'{temporal_radius}.')
    n, t = v.shape[:2]
    frame_max = v.reshape(n, t, -1).amax(-1)
    frame_min = v.reshape(n, t, -1).amin(-1)
    size = 2 * temporal_radius + 1
    # Padding with -inf / +inf leaves out frames beyond the clip's ends.
    pad = (temporal_radius, temporal_radius)
    p = F.pad(frame_max, pad, value=-math.inf).unfold(1, size, 1).amax(-1)
    q = F.pad(frame_min, pad, value=math.inf).unfold(1, size, 1).amin(-1)
    return p.view(n, t, 1, 1, 1), q.view(n, t, 1, 1, 1)


def normalise_variance(v: Tensor, p: Tensor, q: Tensor) -> Tensor:
    """``(v - q) / (p - q)``, 0 where ``p == q`` (eq. 6).

    Args:
        v (Tensor): Variance maps, e.g. ``(n, t, 1, h, w)``.
        p (Tensor): Maxima over windows holding ``v``, broadcastable to
            ``v``; see :func:`temporal_extrema`.
        q (Tensor): Minima, likewise.

    Returns:
        Tensor: The mask, shape and dtype of ``v``.
    """
    span = p - q
    # Where p == q, v == q too (q <= v <= p), so dividing by 1 gives 0.
    span = torch.where(span > 0, span, torch.ones_like(span))
    return (v - q).div_(span).clamp_(0.0, 1.0)


def astf_mask(i2: Tensor,
              radius: int = 11,
              temporal_radius: int = 1,
              data_range: float = 1.0) -> Tensor:
    """ASTF texture mask from EnhanceNet2's frames (eqs. 4-6).

    ``mask[:, t]`` depends only on ``i2[:, t - temporal_radius:
    t + temporal_radius + 1]``.

    Args:
        i2 (Tensor): Frames of shape ``(n, t, 3, h, w)`` in
            ``[0, data_range]``.
        radius (int): Spatial window radius ``r``. Default: 11.
        temporal_radius (int): Temporal normalisation radius.
            Default: 1.
        data_range (float): Value of white in ``i2``. Default: 1.0.

    Returns:
        Tensor: Mask of shape ``(n, t, 1, h, w)`` in ``[0, 1]``, the dtype
        of ``i2``; 1 marks the most textured pixels of the window.
    """
    var = variance_map(i2, radius, data_range)
    p, q = temporal_extrema(var, temporal_radius)
    return normalise_variance(var, p, q).to(i2.dtype)


def fuse(i1: Tensor, i2: Tensor, mask: Tensor) -> Tensor:
    """Eq. 3: ``mask * i1 + (1 - mask) * i2``.

    Args:
        i1 (Tensor): EnhanceNet1 frames ``(n, t, 3, h, w)``.
        i2 (Tensor): EnhanceNet2 frames ``(n, t, 3, h, w)``.
        mask (Tensor): Mask ``(n, t, 1, h, w)`` in ``[0, 1]``.

    Returns:
        Tensor: Fused frames ``(n, t, 3, h, w)``.
    """
    return mask * i1 + (1 - mask) * i2


def gaussian_kernel1d(ksize: int = 3,
                      sigma: Optional[float] = None) -> Tensor:
    """Normalised 1-D Gaussian, float64.

    Args:
        ksize (int): Odd, positive kernel size. Default: 3.
        sigma (float, optional): Standard deviation. Default: None, which
            uses OpenCV's formula ``0.3 ((ksize - 1) / 2 - 1) + 0.8``
            (0.8 for ksize 3). Note that ``cv2.GaussianBlur`` with
            ``sigmaX=0`` and ksize <= 7 uses fixed binomial tables instead
            ((1, 2, 1) / 4 for ksize 3); ``sigma = 1 / sqrt(2 ln 2)``
            (about 0.8493) gives exactly (1, 2, 1) / 4.

    Returns:
        Tensor: Kernel of shape ``(ksize, )`` summing to 1.
    """
    if ksize < 1 or ksize % 2 == 0:
        raise ValueError(f'ksize must be odd and positive, got {ksize}.')
    if sigma is None:
        sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    if sigma <= 0:
        raise ValueError(f'sigma must be positive, got {sigma}.')
    pos = torch.arange(ksize, dtype=torch.float64) - (ksize - 1) / 2
    kernel = torch.exp(-pos**2 / (2 * sigma**2))
    return kernel / kernel.sum()


def unsharp_mask(x: Tensor,
                 amount: float = DEFAULT_SHARPEN_AMOUNT,
                 ksize: int = 3,
                 sigma: Optional[float] = None,
                 data_range: float = 1.0) -> Tensor:
    """Unsharp mask ``clip(x + amount (x - G * x), 0, data_range)``.

    ``G`` is a separable ``ksize x ksize`` Gaussian with reflect-101
    borders (``cv2.GaussianBlur``'s default), applied per channel.

    Args:
        x (Tensor): Frames of shape ``(..., c, h, w)``, e.g.
            ``(n, t, 3, h, w)``, in ``[0, data_range]``.
        amount (float): Weight ``a`` of the detail layer; 0 returns the
            clipped input. Default: :data:`DEFAULT_SHARPEN_AMOUNT`.
        ksize (int): Odd Gaussian size. Default: 3.
        sigma (float, optional): Gaussian sigma; see
            :func:`gaussian_kernel1d`. Default: None (0.8 for ksize 3).
        data_range (float): Value of white. Default: 1.0.

    Returns:
        Tensor: Sharpened frames, shape and dtype of ``x``.
    """
    if x.dim() < 3:
        raise ValueError('unsharp_mask expects (..., c, h, w), got '
                         f'{tuple(x.shape)}.')
    # Half precision would lose the small detail layer; compute in float32.
    work = x if x.dtype in (torch.float32, torch.float64) else x.float()
    # Python floats: no host-device copies or syncs on accelerators.
    kernel = gaussian_kernel1d(ksize, sigma).tolist()
    blurred = _correlate1d(_correlate1d(work, kernel, -1), kernel, -2)
    # In place: fewer large allocations (each costs page faults).
    sharp = torch.sub(work, blurred, out=blurred).mul_(amount).add_(work)
    return sharp.clamp_(0.0, data_range).to(x.dtype)


@MODELS.register_module()
class ASTFFusion(nn.Module):
    """ASTF fusion of two refiners' outputs, then sharpening (sec. 3.2).

    Has no parameters. Inputs and outputs are ``(n, t, 3, h, w)`` frames in
    ``[0, data_range]``.

    Args:
        radius (int): Spatial variance window radius ``r``. Default: 11.
        temporal_radius (int): Temporal normalisation radius. Default: 1.
        sharpen (bool): Also return the sharpened fusion. Default: True.
        sharpen_amount (float): Unsharp-mask amount. Default:
            :data:`DEFAULT_SHARPEN_AMOUNT`.
        sharpen_ksize (int): Gaussian size of the unsharp mask.
            Default: 3.
        sharpen_sigma (float, optional): Gaussian sigma; None uses
            OpenCV's formula (0.8 for ksize 3). Default: None.
        data_range (float): Value of white. Default: 1.0.
    """

    def __init__(self,
                 radius: int = 11,
                 temporal_radius: int = 1,
                 sharpen: bool = True,
                 sharpen_amount: float = DEFAULT_SHARPEN_AMOUNT,
                 sharpen_ksize: int = 3,
                 sharpen_sigma: Optional[float] = None,
                 data_range: float = 1.0) -> None:
        super().__init__()
        if radius < 0 or temporal_radius < 0:
            raise ValueError('radius and temporal_radius must be >= 0, got '
                             f'{radius} and {temporal_radius}.')
        # Fail at build time rather than at the first forward.
        gaussian_kernel1d(sharpen_ksize, sharpen_sigma)
        self.radius = radius
        self.temporal_radius = temporal_radius
        self.sharpen = sharpen
        self.sharpen_amount = sharpen_amount
        self.sharpen_ksize = sharpen_ksize
        self.sharpen_sigma = sharpen_sigma
        self.data_range = data_range

    def forward(self,
                i1: Tensor,
                i2: Tensor,
                sharpen: Optional[bool] = None) -> Dict[str, Tensor]:
        """Fuse EnhanceNet1's ``i1`` and EnhanceNet2's ``i2``.

        Args:
            i1 (Tensor): EnhanceNet1 (texture) frames ``(n, t, 3, h, w)``.
            i2 (Tensor): EnhanceNet2 (smooth) frames ``(n, t, 3, h, w)``.
            sharpen (bool, optional): Also return the sharpened fusion;
                None: this module's ``sharpen``. A caller that changes the
                fusion before sharpening it (ASTF's chroma projection)
                passes False and calls :meth:`sharpen_frames` itself.

        Returns:
            Dict[str, Tensor]: ``'fused'`` ``(n, t, 3, h, w)``, ``'mask'``
            ``(n, t, 1, h, w)`` and, when sharpening, ``'fused_sharp'``
            ``(n, t, 3, h, w)``; all in the dtype of ``i2``.
        """
        _check_frames(i1, 'i1')
        if i1.shape != i2.shape:
            raise ValueError('i1 and i2 must have the same shape, got '
                             f'{tuple(i1.shape)} and {tuple(i2.shape)}.')
        mask = astf_mask(i2, self.radius, self.temporal_radius,
                         self.data_range)
        out = dict(fused=fuse(i1, i2, mask), mask=mask)
        if sharpen is None:
            sharpen = self.sharpen
        if sharpen:
            out['fused_sharp'] = self.sharpen_frames(out['fused'])
        return out

    def sharpen_frames(self, x: Tensor) -> Tensor:
        """The unsharp mask of this module's settings, on any frames."""
        return unsharp_mask(
            x,
            amount=self.sharpen_amount,
            ksize=self.sharpen_ksize,
            sigma=self.sharpen_sigma,
            data_range=self.data_range)

    def extra_repr(self) -> str:
        return (f'radius={self.radius}, '
                f'temporal_radius={self.temporal_radius}, '
                f'sharpen={self.sharpen}, '
                f'sharpen_amount={self.sharpen_amount}, '
                f'sharpen_ksize={self.sharpen_ksize}, '
                f'sharpen_sigma={self.sharpen_sigma}, '
                f'data_range={self.data_range}')
