"""Projection of RGB frames onto what a 4:2:0 video can hold.

Pure tensor code, no I/O. HEVC at QP 37 (and nearly every delivered
video) stores chroma at half resolution (yuv420p); decoded to RGB, each
2x2 block of pixels shares one Cb and one Cr sample (ffmpeg's default
conversion replicates it). Both the compressed input and the original
the networks learn to restore have this structure; a network's output
does not: it can invent full-resolution chroma detail (from luma edges,
for instance) that no 4:2:0 original has.

:func:`project_chroma_420` keeps each pixel's BT.601 luma and replaces
its two colour differences ``B - Y`` and ``R - Y`` by their mean over
the pixel's 2x2 block (the block starting at even row and column, as in
yuv420p; at an odd width or height the last block is 1 pixel wide or
tall, as ffmpeg's chroma planes of ``ceil(side / 2)`` samples). ``Cb`` and
``Cr`` are these differences times constants, so this is the
least-squares projection of the output's chroma onto 4:2:0 frames, with
luma untouched. Measured on the corpus validation videos with the sample
stage 1: +0.013 dB PSNR, every video up (configs/astf/README.md).

Only frames that are 4:2:0 themselves should lead to a projected output:
:func:`is_chroma_420` tells them apart (decoded 4:2:0 frames lie within
0.005-0.013 8-bit levels of their projection on average, rounding; the
full-chroma scikit-image photographs 1.3-1.5 levels away).
"""
import logging
from typing import Callable

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import Tensor

from .fusion import LUMA_WEIGHTS

#: mean absolute distance (on a 0-1 scale) below which frames count as
#: 4:2:0: a quarter of an 8-bit level, 20x what rounding leaves
CHROMA_420_TOLERANCE = 0.25 / 255


def _block_mean_420(x: Tensor) -> Tensor:
    """Each pixel's value replaced by the mean of its 2x2 chroma block."""
    h, w = x.shape[-2:]
    flat = x.reshape(-1, 1, h, w)
    # ceil_mode: a last block of 1 row or column averages what it has
    means = F.avg_pool2d(flat, 2, ceil_mode=True)
    blocks = means.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    return blocks[..., :h, :w].reshape(x.shape)


def project_chroma_420(frames: Tensor, data_range: float = 1.0) -> Tensor:
    """Give RGB frames the chroma structure of a decoded 4:2:0 video.

    Args:
        frames (Tensor): ``(..., 3, h, w)`` RGB frames in
            ``[0, data_range]``; frames whose 2x2 blocks start at row and
            column 0 (whole frames, not crops at odd offsets).
        data_range (float): Value of white. Default: 1.0.

    Returns:
        Tensor: The frames with luma kept and each 2x2 block's colour
        differences averaged, clamped to ``[0, data_range]``; same shape
        and dtype.
    """
    if frames.dim() < 3 or frames.size(-3) != 3:
        raise ValueError('project_chroma_420 expects (..., 3, h, w) RGB '
                         f'frames, got shape {tuple(frames.shape)}.')
    kr, kg, kb = LUMA_WEIGHTS
    work = frames.float() if frames.dtype in (torch.float16,
                                              torch.bfloat16) else frames
    r, g, b = work.unbind(dim=-3)
    luma = kr * r + kg * g + kb * b
    red = luma + _block_mean_420(r - luma)
    blue = luma + _block_mean_420(b - luma)
    green = (luma - kr * red - kb * blue) / kg
    out = torch.stack((red, green, blue), dim=-3)
    return out.clamp_(0.0, data_range).to(frames.dtype)


def keep_input_chroma(frames: Tensor,
                      lqs: Tensor,
                      data_range: float = 1.0) -> Tensor:
    """The luma of ``frames`` with the colour of ``lqs``.

    Each pixel keeps the input's colour differences ``B - Y`` and ``R - Y``
    and takes the output's BT.601 luma, which is the input plus the luma
    change added to all three channels (``kr + kg + kb = 1``). Compressed-
    video enhancers of the MFQE / STDF line restore luma only. For footage
    whose colour a network gets wrong; the sample stage 1's colour changes
    are most of its gain on the corpus validation split (README, ASTF
    details).

    Args:
        frames (Tensor): A network's output ``(..., 3, h, w)``, RGB.
        lqs (Tensor): Its input, the same shape.
        data_range (float): Value of white. Default: 1.0.

    Returns:
        Tensor: ``lqs`` plus the luma change, clamped to
        ``[0, data_range]``; the shape and dtype of ``frames``.
    """
    if frames.shape != lqs.shape or frames.dim() < 3 or \
            frames.size(-3) != 3:
        raise ValueError('keep_input_chroma expects RGB output and input of '
                         'one shape (..., 3, h, w), got '
                         f'{tuple(frames.shape)} and {tuple(lqs.shape)}.')
    lqs = lqs.to(frames.dtype)
    weights = frames.new_tensor(LUMA_WEIGHTS).view(3, 1, 1)
    change = ((frames - lqs) * weights).sum(dim=-3, keepdim=True)
    return (lqs + change).clamp_(0.0, data_range)


def is_chroma_420(frames: Tensor,
                  tolerance: float = CHROMA_420_TOLERANCE,
                  data_range: float = 1.0) -> bool:
    """Whether frames already have 4:2:0 chroma (as decoded yuv420p video).

    Blocks holding a clipped value (a channel at 0 or ``data_range``) are
    left out: a decoder clips colours outside the RGB cube, which breaks a
    block's shared chroma (saturated yellow flowers: 0.28 8-bit levels from
    the projection over the whole frame, 0.01 without those blocks).

    Args:
        frames (Tensor): ``(..., 3, h, w)`` RGB frames in
            ``[0, data_range]``.
        tolerance (float): Largest mean absolute distance to their
            projection over unclipped blocks, as a fraction of
            ``data_range``. Default: :data:`CHROMA_420_TOLERANCE`.
        data_range (float): Value of white. Default: 1.0.

    Returns:
        bool: True when the frames are (to rounding) their own projection.
    """
    distance = (project_chroma_420(frames, data_range) - frames).abs()
    # half an 8-bit level from either end counts as clipped
    margin = 0.5 / 255 * data_range
    clipped = ((frames <= margin) | (frames >= data_range - margin)).any(
        dim=-3, keepdim=True).to(distance.dtype)
    h, w = frames.shape[-2:]
    in_block = F.max_pool2d(
        clipped.reshape(-1, 1, h, w), 2, ceil_mode=True).repeat_interleave(
            2, dim=-2).repeat_interleave(2, dim=-1)[..., :h, :w]
    keep = (in_block.reshape(clipped.shape) == 0).expand_as(distance)
    if not keep.any():  # every block clipped: nothing to tell them by
        return True
    return bool(distance[keep].float().mean() <= tolerance * data_range)


def _identity(frames: Tensor) -> Tensor:
    return frames


class Chroma420Projection:
    """Which projection an output of a given input gets.

    The one rule that the ASTF model and the tools that run its networks
    alone (``export_stage1.py``, ``eval_network.py``) share: with
    ``enabled``, the outputs of a 4:2:0 input are clamped and projected
    (:func:`project_chroma_420`); the outputs of a full-chroma input are
    left as they are, with one warning per instance, since projecting them
    would throw away chroma the input really has.

    Args:
        enabled (bool): Project at all. Default: True.
        data_range (float): Value of white. Default: 1.0.
    """

    def __init__(self, enabled: bool = True, data_range: float = 1.0) -> None:
        self.enabled = enabled
        self.data_range = data_range
        self.warned_full_chroma = False

    def _project(self, frames: Tensor) -> Tensor:
        return project_chroma_420(
            frames.clamp(0, self.data_range), self.data_range)

    def for_input(self, lqs: Tensor) -> Callable[[Tensor], Tensor]:
        """The function to apply to every output computed from ``lqs``."""
        if not self.enabled:
            return _identity
        if is_chroma_420(lqs, data_range=self.data_range):
            return self._project
        if not self.warned_full_chroma:
            print_log(
                'chroma_420: the input has full-resolution chroma (not a '
                '4:2:0 decode), so the outputs are not projected',
                logger='current',
                level=logging.WARNING)
            self.warned_full_chroma = True
        return _identity
