"""Run a video network over a frame stream in chunks with temporal context.

Peak memory is bounded by the chunk length, whatever the video's length:
frames are read lazily, processed ``max_seq_len`` at a time with
``overlap`` context frames on each side, and yielded one by one.
"""
import argparse
import re
from collections import deque
from typing import Callable, Dict, Iterable, Iterator, Optional, Tuple, Union

import numpy as np
import torch

ChunkFn = Callable[[torch.Tensor], Dict[str, torch.Tensor]]


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--device`` (CUDA when available) to a tool's parser."""
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda[:N]')


def add_cfg_options_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options key=value ...`` (mmengine's ``DictAction``)."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')


def _sha256_arg(text: str) -> str:
    if not re.fullmatch(r'[0-9a-fA-F]{64}', text):
        raise argparse.ArgumentTypeError(
            f'a sha256 is 64 hex digits, got "{text}" ({len(text)} '
            'characters)')
    return text.lower()


def add_astf_model_args(parser: argparse.ArgumentParser) -> None:
    """Add what :meth:`ASTF.from_config` takes besides the config.

    ``--checkpoints STAGE1 ENHANCENET1 ENHANCENET2``, ``--sha256 S1 E1 E2``
    (pins of those files, checked before loading), ``--cfg-options`` and
    ``--device``, shared by the tools that run the end-to-end model.
    """
    parser.add_argument(
        '--checkpoints',
        nargs=3,
        metavar=('STAGE1', 'ENHANCENET1', 'ENHANCENET2'),
        help='checkpoints of the three networks (default: the config\'s)')
    parser.add_argument(
        '--sha256',
        nargs=3,
        type=_sha256_arg,
        metavar=('S1', 'E1', 'E2'),
        help='refuse to run unless the three checkpoints have these sha256 '
        'digests (each run logs the digest of every checkpoint it loads)')
    add_cfg_options_arg(parser)
    add_device_arg(parser)


def _at_least_one(text: str) -> int:
    """argparse type: an integer >= 1 (chunks need a frame and context)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'must be an integer >= 1, got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'must be >= 1, got {value} (chunks keep at least one frame and '
            'see at least one context frame per side)')
    return value


def add_stream_args(parser: argparse.ArgumentParser) -> None:
    """Add the options of :func:`stream_enhance` to a tool's parser.

    ``--max-seq-len`` and ``--overlap`` (both at least 1, as
    :func:`chunk_windows` needs), shared by the tools that run networks
    over whole videos (they add ``--device`` themselves, e.g. with
    :func:`add_astf_model_args`).
    """
    parser.add_argument(
        '--max-seq-len',
        type=_at_least_one,
        default=30,
        help='frames per chunk: bounds memory')
    parser.add_argument(
        '--overlap',
        type=_at_least_one,
        default=2,
        help='context frames per side (>= 1)')


def chunk_windows(num_frames: int,
                  max_seq_len: Optional[int],
                  overlap: int = 2) -> Iterator[Tuple[int, int, int, int]]:
    """Split a clip of known length into chunks with temporal context.

    Args:
        num_frames (int): Frames in the clip.
        max_seq_len (int, optional): Frames kept per chunk; None for one
            chunk.
        overlap (int): Context frames on each side of a chunk, at least 1
            so that the fusion of a chunk's border frames sees their
            neighbours. Default: 2.

    Yields:
        tuple[int]: ``(ctx_start, ctx_end, keep_start, keep_end)``.
    """
    if max_seq_len is None or max_seq_len >= num_frames:
        yield 0, num_frames, 0, num_frames
        return
    if max_seq_len < 1 or overlap < 1:
        raise ValueError('max_seq_len and overlap must be >= 1, got '
                         f'{max_seq_len} and {overlap}.')
    for start in range(0, num_frames, max_seq_len):
        end = min(start + max_seq_len, num_frames)
        yield (max(start - overlap, 0), min(end + overlap, num_frames), start,
               end)


def frames_to_tensor(frames: Iterable[np.ndarray],
                     device: Union[str, torch.device] = 'cpu'
                     ) -> torch.Tensor:
    """HxWx3 uint8 RGB frames -> a (1, t, 3, h, w) float tensor in [0, 1]."""
    array = np.stack(list(frames))
    tensor = torch.from_numpy(array).to(device)
    return tensor.permute(0, 3, 1, 2).unsqueeze(0).float().div_(255.)


def tensor_to_frames(tensor: torch.Tensor) -> np.ndarray:
    """A (t, c, h, w) tensor in [0, 1] -> (t, h, w, c) uint8 (rounded)."""
    tensor = tensor.detach().clamp(0, 1).mul(255.).round_()
    return tensor.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def stream_enhance(frames: Iterable[np.ndarray],
                   chunk_fn: ChunkFn,
                   max_seq_len: Optional[int] = 30,
                   overlap: int = 2,
                   device: Union[str, torch.device] = 'cpu'
                   ) -> Iterator[Dict[str, np.ndarray]]:
    """Apply ``chunk_fn`` to a frame stream, chunk by chunk.

    Args:
        frames (Iterable[np.ndarray]): HxWx3 uint8 RGB frames (a
            generator is read lazily).
        chunk_fn (Callable): Maps a (1, t, 3, h, w) tensor in [0, 1] to a
            dict of (1, t, c, h, w) tensors in [0, 1].
        max_seq_len (int, optional): Frames kept per chunk; None reads the
            whole stream first (memory grows with length). Default: 30.
        overlap (int): Context frames on each side. Default: 2.
        device (str | torch.device): Where ``chunk_fn`` runs.
            Default: ``'cpu'``.

    Yields:
        dict[str, np.ndarray]: For each frame in order, ``chunk_fn``'s
        outputs as (h, w, c) uint8 arrays.
    """
    if max_seq_len is None:
        frames = list(frames)
        max_seq_len = max(len(frames), 1)
    if max_seq_len < 1 or overlap < 0:
        raise ValueError('max_seq_len must be >= 1 and overlap >= 0, got '
                         f'{max_seq_len} and {overlap}.')
    iterator = iter(frames)
    # ``window`` holds frames from index ``window_start`` on
    window: deque = deque()
    window_start = 0
    start = 0
    exhausted = False
    while True:
        end = start + max_seq_len
        while not exhausted and window_start + len(window) < end + overlap:
            try:
                window.append(next(iterator))
            except StopIteration:
                exhausted = True
        available = window_start + len(window)
        if start >= available:
            return
        end = min(end, available)
        ctx_start = max(start - overlap, window_start)
        ctx = list(window)[ctx_start - window_start:]
        with torch.inference_mode():
            outputs = chunk_fn(frames_to_tensor(ctx, device))
        lo, hi = start - ctx_start, end - ctx_start
        arrays = {k: tensor_to_frames(v[0, lo:hi]) for k, v in outputs.items()}
        for i in range(hi - lo):
            yield {k: v[i] for k, v in arrays.items()}
        start = end
        while window_start < start - overlap:
            window.popleft()
            window_start += 1
