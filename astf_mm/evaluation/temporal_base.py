"""What the temporal-consistency (flicker) metrics share.

Three metrics, each a plain function on uint8 RGB frames and a metric
registered in mmagic's ``METRICS``: tOF (:mod:`.tof`), tLP (:mod:`.tlp`)
and the warping error (:mod:`.warping_error`). Their shared conventions:

* Flow is OpenCV Farneback on grayscale frames (:mod:`.flow`).
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
"""
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .base import PerVideoMetric, to_rgb_frames

Frames = Union[np.ndarray, Sequence[np.ndarray]]


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


def prepare_videos(out_frames: Frames, ref_frames: Frames, ref_name: str,
                   skip_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Check an output and a reference video and drop their end frames.

    Args:
        out_frames (np.ndarray | Sequence[np.ndarray]): Output frames.
        ref_frames (np.ndarray | Sequence[np.ndarray]): Reference frames
            of the same shape.
        ref_name (str): Name of the reference in error messages.
        skip_frames (int): Frames dropped at each end.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(t', h, w, 3)`` uint8 output and
        reference, ``t' >= 2``.
    """
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
    _check_whole_video(frames, name)
    return to_uint8_rgb(to_rgb_frames(frames, channel_order, name))


def _check_whole_video(frames: Union[torch.Tensor, np.ndarray],
                       name: str) -> None:
    if frames.ndim != 4:
        raise ValueError(
            f'{name}: temporal metrics need a whole video per sample, a '
            f'(t, 3, h, w) tensor; got shape {tuple(frames.shape)}. Use a '
            'video dataset whose samples are sequences (batch size 1).')


def to_uint8_rgb(frames: torch.Tensor) -> np.ndarray:
    """``(t, 3, h, w)`` rounded RGB floats -> ``(t, h, w, 3)`` uint8."""
    return frames.permute(0, 2, 3,
                          1).to(torch.uint8).contiguous().cpu().numpy()


class PairMetric(PerVideoMetric):
    """A metric of consecutive frame pairs, averaged per video.

    Each sample holds a whole video; its entry keeps the ``sum`` and
    ``count`` of its pair values (see :class:`.base.PerVideoMetric`).

    Args:
        gt_key (str): Key of the ground-truth video. Default: 'gt_img'.
        pred_key (str): Key of the predicted video in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric
            (mmagic's test-stage data preprocessor gives BGR).
            Default: 'BGR'.
        skip_frames (int): Frames dropped at each end. Default: 0.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the metric name (one per table
            row). Default: None.
        device (str): Device of the computation. Default: 'cpu'.
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
            channel_order=channel_order,
            device=device,
            collect_device=collect_device,
            prefix=prefix)
        if skip_frames < 0:
            raise ValueError(f'skip_frames must be >= 0, got {skip_frames}.')
        self.skip_frames = skip_frames

    def to_frames(self, frames: Union[torch.Tensor, np.ndarray],
                  name: str) -> torch.Tensor:
        _check_whole_video(frames, name)
        return super().to_frames(frames, name)

    def pair_values(self, pred: np.ndarray, gt: np.ndarray,
                    data_sample: dict) -> np.ndarray:
        """Per-pair values of one video (uint8 RGB ``(t, h, w, 3)``)."""
        raise NotImplementedError

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor,
                      data_sample: dict) -> dict:
        pred_np, gt_np = prepare_videos(
            to_uint8_rgb(pred), to_uint8_rgb(gt), self.gt_key,
            self.skip_frames)
        values = self.pair_values(pred_np, gt_np, data_sample)
        return dict(sum=float(values.sum()), count=int(len(values)))
