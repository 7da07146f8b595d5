"""Run a video network over a frame stream in chunks with temporal context.

Peak memory is bounded by the chunk length, whatever the video's length:
frames are read lazily, processed ``max_seq_len`` at a time with
``overlap`` context frames on each side, and yielded one by one.
"""
from collections import deque
from typing import Callable, Dict, Iterable, Iterator, Optional, Union

import numpy as np
import torch

from astf_mm.models.chunking import check_chunking

ChunkFn = Callable[[torch.Tensor], Dict[str, torch.Tensor]]


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
    check_chunking(max_seq_len, overlap)
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
