"""Padding clips at the bottom and right, cropped off after the network."""
import torch
import torch.nn.functional as F


def pad_bottom_right(frames: torch.Tensor, pad_h: int,
                     pad_w: int) -> torch.Tensor:
    """Pad a clip's h and w at the bottom and right by reflection.

    Reflection, so that the padded border looks like image content to the
    network; a padding larger than a side is reflected again from the
    padded border. Once a side to pad is one pixel, the rest of both
    paddings is replicated.

    Args:
        frames (Tensor): Shape (n, t, c, h, w).
        pad_h (int): Rows added at the bottom (>= 0).
        pad_w (int): Columns added at the right (>= 0).

    Returns:
        Tensor: Shape (n, t, c, h + pad_h, w + pad_w); the input itself
        when nothing is added. Crop the network's output with
        ``[..., :h, :w]``.
    """
    if pad_h == 0 and pad_w == 0:
        return frames
    n, t, c, h, w = frames.shape
    flat = frames.reshape(n * t, c, h, w)
    while pad_h > 0 or pad_w > 0:
        side_h, side_w = flat.shape[-2:]
        if (pad_h and side_h == 1) or (pad_w and side_w == 1):
            flat = F.pad(flat, (0, pad_w, 0, pad_h), mode='replicate')
            break
        step_h, step_w = min(pad_h, side_h - 1), min(pad_w, side_w - 1)
        flat = F.pad(flat, (0, step_w, 0, step_h), mode='reflect')
        pad_h, pad_w = pad_h - step_h, pad_w - step_w
    return flat.view(n, t, c, *flat.shape[-2:])


def pad_to_multiple(frames: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad a clip's h and w up to a multiple (see :func:`pad_bottom_right`).

    Args:
        frames (Tensor): Shape (n, t, c, h, w).
        multiple (int): What h and w are padded up to a multiple of.

    Returns:
        Tensor: Shape (n, t, c, h', w').
    """
    h, w = frames.shape[-2:]
    return pad_bottom_right(frames, (-h) % multiple, (-w) % multiple)
