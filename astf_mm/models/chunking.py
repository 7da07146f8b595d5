"""Chunks of a clip with temporal context, so memory stays bounded."""
from typing import Iterator, Optional, Tuple


def check_chunking(max_seq_len: Optional[int], overlap: int) -> None:
    """Refuse chunk settings that would cut the fusion's temporal context.

    Raises:
        ValueError: If ``max_seq_len`` (when given) or ``overlap`` is below
            1: a chunk keeps at least one frame, and the fusion of its
            border frames needs at least one neighbour on each side.
    """
    if (max_seq_len is not None and max_seq_len < 1) or overlap < 1:
        raise ValueError('max_seq_len and overlap must be >= 1, got '
                         f'{max_seq_len} and {overlap}.')


def chunk_windows(num_frames: int,
                  max_seq_len: Optional[int],
                  overlap: int = 2) -> Iterator[Tuple[int, int, int, int]]:
    """Split a clip of known length into chunks with temporal context.

    Args:
        num_frames (int): Frames in the clip.
        max_seq_len (int, optional): Frames kept per chunk; None for one
            chunk.
        overlap (int): Context frames on each side of a chunk (>= 1).
            Default: 2.

    Yields:
        tuple[int]: ``(ctx_start, ctx_end, keep_start, keep_end)``.
    """
    check_chunking(max_seq_len, overlap)
    if max_seq_len is None or max_seq_len >= num_frames:
        yield 0, num_frames, 0, num_frames
        return
    for start in range(0, num_frames, max_seq_len):
        end = min(start + max_seq_len, num_frames)
        yield (max(start - overlap, 0), min(end + overlap, num_frames), start,
               end)
