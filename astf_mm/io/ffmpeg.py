"""The ffmpeg binary: finding it, its version, running it through pipes.

The binary is found in this order: the ``ASTF_FFMPEG`` environment
variable, ``imageio_ffmpeg.get_ffmpeg_exe()`` (a static ffmpeg with libx265),
then ``ffmpeg`` on ``PATH``. ffprobe is not needed.

Also here: the errors every reader and writer raises, the file extensions
of videos, and the input arguments of raw video files (which carry no
header).
"""
import functools
import os
import os.path as osp
import shutil
import subprocess
import threading
from typing import List, Optional, Tuple, Union

FFMPEG_ENV = 'ASTF_FFMPEG'
RAW_EXTENSIONS = ('.yuv', '.rgb', '.raw')
# What a folder of videos is searched for: files ffmpeg decodes on its own
# (containers, .y4m, Annex-B bitstreams) and raw .yuv, which also needs a
# size; a tool that takes no size leaves the raw ones out (is_raw).
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.mov', '.avi', '.webm', '.y4m', '.yuv',
                    '.hevc', '.h265', '.265', '.h264', '.264', '.m4v')

# How much of ffmpeg's stderr an error message quotes (its end).
_STDERR_TAIL = 2000

PathLike = Union[str, os.PathLike]
Size = Tuple[int, int]


class VideoReadError(RuntimeError):
    """A video (or frame folder) is missing, corrupt, truncated or
    unreadable."""


class VideoWriteError(RuntimeError):
    """ffmpeg failed while writing a video."""


def get_ffmpeg_exe() -> str:
    """Return the ffmpeg binary to use.

    Returns:
        str: ``$ASTF_FFMPEG`` if set, else imageio-ffmpeg's bundled binary,
        else ``ffmpeg`` found on ``PATH``.

    Raises:
        FileNotFoundError: If no ffmpeg can be found.
    """
    env = os.environ.get(FFMPEG_ENV)
    if env:
        if not (osp.isfile(env) and os.access(env, os.X_OK)):
            raise FileNotFoundError(
                f'{FFMPEG_ENV}={env} is not an executable file; unset it or '
                'point it at an ffmpeg binary.')
        return env
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or it found no binary
        pass
    exe = shutil.which('ffmpeg')
    if exe is None:
        raise FileNotFoundError(
            'ffmpeg not found: install imageio-ffmpeg (pip install '
            f'imageio-ffmpeg), put ffmpeg on PATH, or set {FFMPEG_ENV}.')
    return exe


@functools.lru_cache(maxsize=8)
def ffmpeg_version_of(exe: str) -> str:
    """The first line of ``EXE -version`` (cached per binary).

    Args:
        exe (str): An ffmpeg binary.

    Returns:
        str: e.g. ``'ffmpeg version 7.0.2-static ...'``, or ``'unknown'``.
    """
    out = subprocess.run([exe, '-hide_banner', '-version'],
                         capture_output=True,
                         text=True,
                         check=False).stdout
    return out.splitlines()[0].strip() if out else 'unknown'


def ffmpeg_version() -> str:
    """Return the first line of ``ffmpeg -version`` of the binary in use.

    Returns:
        str: e.g. ``'ffmpeg version 7.0.2-static ...'``.
    """
    return ffmpeg_version_of(get_ffmpeg_exe())


# ---------------------------------------------------------------------------
# ffmpeg's stderr


def stderr_tail(text: str) -> str:
    """The end of ffmpeg's stderr, as error messages quote it.

    Args:
        text (str): Everything ffmpeg wrote to stderr.

    Returns:
        str: The stripped text, cut to its last 2000 characters.
    """
    text = text.strip()
    if len(text) > _STDERR_TAIL:
        text = '...' + text[-_STDERR_TAIL:]
    return text


def is_benign(line: str) -> bool:
    """Whether a stderr line is not an error (blank, or x265's own log)."""
    # x265 writes its own log lines straight to stderr at every ffmpeg level.
    return (not line.strip() or line.startswith('x265 [info]')
            or line.startswith('x265 [warning]'))


class StderrReader(threading.Thread):
    """Drains a pipe in the background so that ffmpeg never blocks on it.

    Args:
        pipe: A binary pipe (``Popen.stderr``).
    """

    def __init__(self, pipe) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.chunks: List[bytes] = []

    def run(self) -> None:
        for chunk in iter(lambda: self.pipe.read(4096), b''):
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        """Everything read so far, decoded (undecodable bytes replaced)."""
        return b''.join(self.chunks).decode('utf-8', 'replace')


def read_exact(stream, n: int) -> bytes:
    """Read ``n`` bytes from a pipe; fewer only at its end.

    Args:
        stream: A binary stream.
        n (int): The number of bytes wanted.

    Returns:
        bytes: ``n`` bytes, or fewer (possibly none) when the stream ended.
    """
    chunks = []
    remaining = n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


# ---------------------------------------------------------------------------
# raw video files: no header, so their size and pixel format are given


def is_raw(path: str) -> bool:
    """Whether ``path`` names a raw video file (``.yuv``/``.rgb``/``.raw``).
    """
    return osp.splitext(path)[1].lower() in RAW_EXTENSIONS


def raw_frame_bytes(width: int, height: int, pix_fmt: str) -> int:
    """Bytes per frame of a raw video in a common pixel format.

    Args:
        width (int): Frame width.
        height (int): Frame height.
        pix_fmt (str): ffmpeg pixel format, one of ``yuv420p``, ``nv12``,
            ``yuv422p``, ``yuv444p``, their ``10le`` variants, ``rgb24``,
            ``bgr24``, ``gray``.

    Returns:
        int: The size of one frame in bytes.
    """
    cw, ch = (width + 1) // 2, (height + 1) // 2
    luma = width * height
    per_sample = 1
    fmt = pix_fmt
    if fmt.endswith('10le') or fmt.endswith('16le'):
        per_sample = 2
        fmt = fmt[:-4]
    planes = {
        'yuv420p': luma + 2 * cw * ch,
        'nv12': luma + 2 * cw * ch,
        'yuv422p': luma + 2 * cw * height,
        'yuv444p': 3 * luma,
        'rgb24': 3 * luma,
        'bgr24': 3 * luma,
        'gray': luma,
    }
    if fmt not in planes:
        raise ValueError(f'Unsupported raw pix_fmt "{pix_fmt}"; use one of '
                         f'{sorted(planes)} (optionally with 10le).')
    return planes[fmt] * per_sample


def check_raw_size(size: Optional[Size], path: str) -> Size:
    """The ``(width, height)`` of a raw file, checked.

    Args:
        size (tuple[int, int] | None): The size the caller gave.
        path (str): The raw file, for the message.

    Returns:
        tuple[int, int]: ``(width, height)``, both positive.

    Raises:
        ValueError: If ``size`` is missing or not positive.
    """
    if size is None:
        raise ValueError(
            f'{path}: a raw video has no header; pass its frame size as '
            'size=(width, height) (and its pix_fmt, default yuv420p).')
    w, h = (int(v) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f'{path}: invalid size {size}.')
    return w, h


def input_args(path: str, size: Optional[Size], pix_fmt: str,
               fps: Optional[float]) -> List[str]:
    """ffmpeg's arguments to open ``path`` as its input.

    Args:
        path (str): A video file, or a raw file (then ``size`` and
            ``pix_fmt`` describe it).
        size (tuple[int, int], optional): Size of a raw file.
        pix_fmt (str): Pixel format of a raw file.
        fps (float, optional): Frame rate of a raw file.

    Returns:
        list[str]: The arguments, ending with ``-i PATH``.
    """
    if is_raw(path):
        w, h = check_raw_size(size, path)
        args = ['-f', 'rawvideo', '-pix_fmt', pix_fmt, '-s', f'{w}x{h}']
        if fps is not None:
            args += ['-framerate', str(fps)]
        return args + ['-i', path]
    return ['-i', path]
