"""Frame folders and single frames: listing in temporal order, reading an
image file as RGB, checking a frame's shape.

Frame files are ordered by their numbers (natural order: ``2.png`` before
``10.png``), the order mmagic's datasets read them in (``GenerateSegment
Indices`` names frame ``i`` ``filename_tmpl.format(i)``); for zero-padded
names (``00000000.png``, what every writer of this package makes) it is
also the plain name order.
"""
import os
import os.path as osp
import re
import warnings
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .ffmpeg import PathLike, VideoReadError

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')

_DIGITS = re.compile(r'(\d+)')


def natural_key(name: str) -> Tuple[list, str]:
    """Sort key of a file name by its numbers, then by the name itself.

    ``re.split`` with a captured group alternates text and digits, so the
    parts compared at one position are always of the same type. Names
    with equal numbers (``1.png`` and ``00000001.png``) fall back to name
    order, so the order never depends on the file system's.

    Args:
        name (str): A file name.

    Returns:
        tuple[list, str]: The key.
    """
    return [int(p) if p.isdigit() else p for p in _DIGITS.split(name)], name


def list_frame_files(folder: PathLike,
                     extensions: Sequence[str] = IMAGE_EXTENSIONS
                     ) -> List[str]:
    """List the image files of a frame folder in temporal order.

    Hidden files (``.name``) and sub-folders are skipped; the order is
    :func:`natural_key` (numeric: ``1.png``, ``2.png``, ``10.png``).

    Args:
        folder (str | PathLike): Folder of ``png``/``jpg``/... frames.
        extensions (Sequence[str]): Lower-case extensions of the files
            listed. Default: :data:`IMAGE_EXTENSIONS`.

    Returns:
        list[str]: Full paths, in natural order of their names.
    """
    folder = os.fspath(folder)
    names = sorted((n for n in os.listdir(folder)
                    if osp.splitext(n)[1].lower() in extensions
                    and not n.startswith('.')
                    and osp.isfile(osp.join(folder, n))),
                   key=natural_key)
    return [osp.join(folder, n) for n in names]


def check_rgb_frame(frame: np.ndarray, what: str) -> np.ndarray:
    """Return ``frame`` as an array if it is ``(H, W, 3)`` uint8 RGB.

    Args:
        frame (np.ndarray): The frame.
        what (str): How the message names it (e.g. ``'out.mkv: frame 3'``).

    Returns:
        np.ndarray: ``np.asarray(frame)``.

    Raises:
        ValueError: ``'{what} must be (H, W, 3) uint8 RGB, got ...'``.
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'{what} must be (H, W, 3) uint8 RGB, got '
                         f'{frame.shape} {frame.dtype}.')
    return frame


def write_png(path: str, frame: np.ndarray) -> None:
    """Encode one ``(H, W, 3)`` uint8 RGB frame as a PNG file at ``path``.

    Not atomic by itself: callers write into a temporary name or folder.

    Args:
        path (str): Destination.
        frame (np.ndarray): A frame checked by :func:`check_rgb_frame`.

    Raises:
        OSError: If OpenCV cannot write the file.
    """
    if not cv2.imwrite(path, np.ascontiguousarray(frame[..., ::-1])):
        raise OSError(f'{path}: OpenCV could not write the image.')


def _has_alpha(path: str) -> bool:
    """Whether an image file stores an alpha channel (PNG: from its header;
    TIFF: by decoding it)."""
    ext = osp.splitext(path)[1].lower()
    if ext == '.png':
        with open(path, 'rb') as f:
            head = f.read(26)
        # IHDR colour type 4 (grey + alpha) or 6 (RGBA)
        return len(head) == 26 and head[25] in (4, 6)
    if ext in ('.tif', '.tiff'):
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        return img is not None and img.ndim == 3 and img.shape[2] == 4
    return False


def read_image(path: str, notes: Optional[set] = None) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB.

    16-bit images are scaled to 8 bits as PNG defines their samples (full
    scale 65535: ``round(v * 255 / 65535)``); an alpha channel is dropped
    with a warning. A 16-bit image whose values all lie in 1..1023 is
    most likely 10-bit video stored without scaling (non-conformant: PNG
    asks for the samples to be scaled to 16 bits, with ``sBIT`` recording
    the real depth); it is converted as PNG says, which makes it nearly
    black, and a warning says how to convert it.

    Args:
        path (str): The image file.
        notes (set, optional): The kinds of warning already given (so that
            a folder warns once per kind); updated. Default: None.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.

    Raises:
        VideoReadError: If the file is unreadable or of an unsupported
            sample type.
    """
    # IMREAD_COLOR applies EXIF orientation; ANYDEPTH keeps 16 bits.
    img = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if img is None:
        raise VideoReadError(f'{path}: unreadable or corrupt image.')
    notes = set() if notes is None else notes
    if img.dtype == np.uint16:
        peak = int(img.max())
        if 0 < peak <= 1023 and 'low16' not in notes:
            notes.add('low16')
            warnings.warn(
                f'{path}: 16-bit image whose largest value is {peak} '
                '(<= 1023): it looks like 10-bit samples stored without '
                'scaling. It is read as PNG defines 16-bit samples (full '
                'scale 65535), so it comes out nearly black. Scale the '
                'samples to 16 bits first (10-bit: multiply by 64, e.g. '
                'numpy `img << 6`), or store 8-bit frames.')
        img = ((img.astype(np.uint32) * 255 + 32767) // 65535).astype(
            np.uint8)
    elif img.dtype != np.uint8:
        raise VideoReadError(f'{path}: {img.dtype} images are not supported;'
                             ' store 8- or 16-bit frames.')
    if 'alpha' not in notes and _has_alpha(path):
        notes.add('alpha')
        warnings.warn(f'{path}: its alpha channel is dropped (frames are '
                      'read as RGB; transparent pixels keep the colour '
                      'values they store).')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
