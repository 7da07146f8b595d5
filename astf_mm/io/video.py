"""Video file input/output through the ffmpeg binary.

One module for every tool that reads or writes video: frames travel as
``rgb24`` rawvideo through subprocess pipes, so memory stays bounded
whatever the length of the video.

The ffmpeg binary is found in this order: the ``ASTF_FFMPEG`` environment
variable, ``imageio_ffmpeg.get_ffmpeg_exe()`` (a static ffmpeg with libx265),
then ``ffmpeg`` on ``PATH``. ffprobe is not needed.

Errors name the file: a corrupt or truncated input raises
:class:`VideoReadError` instead of quietly yielding fewer frames, and the
writers leave nothing that looks complete when they fail.
"""
import contextlib
import errno
import functools
import hashlib
import json
import os
import os.path as osp
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple, Union)

import cv2
import numpy as np

FFMPEG_ENV = 'ASTF_FFMPEG'
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
RAW_EXTENSIONS = ('.yuv', '.rgb', '.raw')

# Fixed QP, low-delay P, no B-frames, no adaptive quantisation: every frame,
# the first I-frame included, is coded at ``qp`` (without ``ipratio=1`` x265
# codes the I-frame at QP 34 for QP 37).
X265_FIXED_QP_PARAMS = ('qp={qp}:bframes=0:ipratio=1:aq-mode=0:no-cutree=1:'
                        'keyint=-1:scenecut=0:rc-lookahead=0')

# How much of ffmpeg's stderr an error message quotes (its end).
_STDERR_TAIL = 2000

PathLike = Union[str, os.PathLike]
Size = Tuple[int, int]


class VideoReadError(RuntimeError):
    """A video (or frame folder) is missing, corrupt, truncated or
    unreadable."""


class VideoWriteError(RuntimeError):
    """ffmpeg failed while writing a video."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learnt about a video.

    Attributes:
        path (str): The probed path.
        width (int): Frame width in pixels.
        height (int): Frame height in pixels.
        fps (float | None): Frame rate, None when the input has none (raw
            ``.yuv``, frame folders, raw bitstreams without timing).
        num_frames (int | None): Number of frames when cheaply known (raw
            ``.yuv``, frame folders, or ``count_frames=True``), else None.
        codec (str): Codec name as ffmpeg reports it (``'h264'``,
            ``'hevc'``, ...), ``'rawvideo'`` or ``'images'``.
        pix_fmt (str): Pixel format of the stored frames.
    """
    path: str
    width: int
    height: int
    fps: Optional[float]
    num_frames: Optional[int]
    codec: str
    pix_fmt: str


# ---------------------------------------------------------------------------
# ffmpeg discovery


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
def _ffmpeg_version(exe: str) -> str:
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
    return _ffmpeg_version(get_ffmpeg_exe())


# ---------------------------------------------------------------------------
# helpers


def _is_raw(path: str) -> bool:
    return osp.splitext(path)[1].lower() in RAW_EXTENSIONS


def list_frame_files(folder: PathLike) -> List[str]:
    """List the image files of a frame folder, sorted by name.

    Args:
        folder (str | PathLike): Folder of ``png``/``jpg``/... frames.

    Returns:
        list[str]: Full paths, sorted by file name.
    """
    folder = os.fspath(folder)
    names = sorted(n for n in os.listdir(folder)
                   if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS
                   and not n.startswith('.'))
    return [osp.join(folder, n) for n in names]


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


def _check_size(size: Optional[Size], path: str) -> Size:
    if size is None:
        raise ValueError(
            f'{path}: a raw video has no header; pass its frame size as '
            'size=(width, height) (and its pix_fmt, default yuv420p).')
    w, h = (int(v) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f'{path}: invalid size {size}.')
    return w, h


def _stderr_tail(text: str) -> str:
    text = text.strip()
    if len(text) > _STDERR_TAIL:
        text = '...' + text[-_STDERR_TAIL:]
    return text


def _is_benign(line: str) -> bool:
    # x265 writes its own log lines straight to stderr at every ffmpeg level.
    return (not line.strip() or line.startswith('x265 [info]')
            or line.startswith('x265 [warning]'))


def _input_args(path: str, size: Optional[Size], pix_fmt: str,
                fps: Optional[float]) -> List[str]:
    if _is_raw(path):
        w, h = _check_size(size, path)
        args = ['-f', 'rawvideo', '-pix_fmt', pix_fmt, '-s', f'{w}x{h}']
        if fps is not None:
            args += ['-framerate', str(fps)]
        return args + ['-i', path]
    return ['-i', path]


class _StderrReader(threading.Thread):
    """Drains a pipe in the background so that ffmpeg never blocks on it."""

    def __init__(self, pipe) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.chunks: List[bytes] = []

    def run(self) -> None:
        for chunk in iter(lambda: self.pipe.read(4096), b''):
            self.chunks.append(chunk)

    @property
    def text(self) -> str:
        return b''.join(self.chunks).decode('utf-8', 'replace')


# ---------------------------------------------------------------------------
# probing

_STREAM_RE = re.compile(r'Stream #\d+:\d+.*?: Video: (?P<rest>.*)')
_SIZE_RE = re.compile(r'(?<![0-9a-zA-Z])(\d{1,5})x(\d{1,5})(?![0-9a-zA-Z])')
_FPS_RE = re.compile(r'([\d.]+)(k?) (fps|tbr)')


def _parse_stream_line(rest: str) -> Tuple[str, str, Size, Optional[float]]:
    codec = rest.split(',')[0].split(' ')[0].strip()
    # The pixel format follows the codec, possibly with "(tv, ...)" details.
    parts = re.split(r',\s*(?![^()]*\))', rest)
    pix_fmt = parts[1].split('(')[0].strip() if len(parts) > 1 else ''
    size = (0, 0)
    for m in _SIZE_RE.finditer(rest):
        if int(m.group(1)) > 0 and int(m.group(2)) > 0:
            size = (int(m.group(1)), int(m.group(2)))
            break
    fps = None
    for value, kilo, _ in _FPS_RE.findall(rest):
        fps = float(value) * (1000 if kilo else 1)
        break
    return codec, pix_fmt, size, fps


def probe_video(path: PathLike,
                size: Optional[Size] = None,
                pix_fmt: str = 'yuv420p',
                count_frames: bool = False) -> VideoInfo:
    """Describe a video file, a raw ``.yuv`` file or a folder of frames.

    Containers and bitstreams are probed by parsing ``ffmpeg -i`` output;
    raw files from their size; folders from their first frame.

    Args:
        path (str | PathLike): Video file, raw video, or frame folder.
        size (tuple[int, int], optional): ``(width, height)``; required for
            raw ``.yuv``/``.rgb`` files. Default: None.
        pix_fmt (str): Pixel format of a raw file. Default: 'yuv420p'.
        count_frames (bool): Count the frames of a container or bitstream
            by demuxing it (costs a pass over the file). Default: False.

    Returns:
        VideoInfo: Size, frame rate, frame count (if known), codec.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        VideoReadError: If the file is not a readable video, or a raw file's
            size is not a whole number of frames.
    """
    path = os.fspath(path)
    if not osp.exists(path):
        raise FileNotFoundError(f'Video not found: {path}')
    if osp.isdir(path):
        files = list_frame_files(path)
        if not files:
            raise VideoReadError(
                f'{path}: folder has no image frames '
                f'({", ".join(IMAGE_EXTENSIONS)}).')
        first = _read_image(files[0])
        return VideoInfo(path, first.shape[1], first.shape[0], None,
                         len(files), 'images', 'rgb24')
    if _is_raw(path):
        w, h = _check_size(size, path)
        frame_bytes = raw_frame_bytes(w, h, pix_fmt)
        total = osp.getsize(path)
        if total == 0 or total % frame_bytes:
            raise VideoReadError(
                f'{path}: {total} bytes is not a whole number of {w}x{h} '
                f'{pix_fmt} frames ({frame_bytes} bytes each): wrong size/'
                'pix_fmt, or the file is truncated.')
        return VideoInfo(path, w, h, None, total // frame_bytes, 'rawvideo',
                         pix_fmt)

    exe = get_ffmpeg_exe()
    proc = subprocess.run([exe, '-hide_banner', '-nostdin', '-i', path],
                          capture_output=True,
                          text=True,
                          errors='replace',
                          check=False)
    stream = None
    for line in proc.stderr.splitlines():
        m = _STREAM_RE.search(line)
        if m:
            stream = m.group('rest')
            break
    if stream is None:
        raise VideoReadError(f'{path}: cannot be opened as a video (corrupt,'
                             ' truncated, or not a video file). ffmpeg said:'
                             f'\n{_stderr_tail(proc.stderr)}')
    codec, fmt, (w, h), fps = _parse_stream_line(stream)
    if w == 0:
        raise VideoReadError(f'{path}: no frame size in its video stream '
                             f'("{stream}"): the file is corrupt or '
                             'truncated.')
    num_frames = None
    if count_frames:
        num_frames = _count_frames(exe, path)
    return VideoInfo(path, w, h, fps, num_frames, codec, fmt)


def _count_frames(exe: str, path: str) -> int:
    # One framecrc line per video packet: counts without decoding.
    proc = subprocess.run([
        exe, '-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-map',
        '0:v:0', '-c', 'copy', '-f', 'framecrc', 'pipe:1'
    ],
                          capture_output=True,
                          text=True,
                          errors='replace',
                          check=False)
    if proc.returncode != 0:
        raise VideoReadError(f'{path}: could not count frames. ffmpeg said:'
                             f'\n{_stderr_tail(proc.stderr)}')
    return sum(1 for ln in proc.stdout.splitlines()
               if ln.strip() and not ln.startswith('#'))


# ---------------------------------------------------------------------------
# completeness checks

# Raw Annex-B bitstreams: no index, no declared frame count.
ANNEXB_FORMATS = {
    '.hevc': 'hevc',
    '.h265': 'hevc',
    '.265': 'hevc',
    '.h264': 'h264',
    '.264': 'h264'
}

_DURATION_RE = re.compile(r'(\d+):(\d{2}):(\d{2}(?:\.\d+)?)')


def _seconds(text: str) -> Optional[float]:
    m = _DURATION_RE.search(text)
    if not m:
        return None
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def declared_frames(path: PathLike) -> Optional[Tuple[int, bool]]:
    """The number of frames a container says its video stream holds.

    From the stream's ``NUMBER_OF_FRAMES`` tag (mkvmerge writes it:
    exact), else its ``DURATION`` tag (ffmpeg's Matroska muxer) or the
    container's duration when the file has a single stream, times the frame
    rate (approximate).

    Args:
        path (str | PathLike): A video file.

    Returns:
        tuple[int, bool] | None: ``(frames, exact)``, or None when the file
        declares nothing usable (raw bitstreams, variable frame rate
        without a tag, ...).
    """
    path = os.fspath(path)
    proc = subprocess.run(
        [get_ffmpeg_exe(), '-hide_banner', '-nostdin', '-i', path],
        capture_output=True,
        text=True,
        errors='replace',
        check=False)
    lines = proc.stderr.splitlines()
    streams = [i for i, ln in enumerate(lines) if 'Stream #' in ln]
    video = [i for i in streams if _STREAM_RE.search(lines[i])]
    if not video:
        return None
    first = video[0]
    _, _, _, fps = _parse_stream_line(_STREAM_RE.search(lines[first])['rest'])
    following = [i for i in streams if i > first]
    tags = lines[first + 1:following[0] if following else len(lines)]
    duration = None
    for ln in tags:
        key, _, value = ln.strip().partition(':')
        key = key.strip().upper()
        if key.startswith('NUMBER_OF_FRAMES') and value.strip().isdigit():
            return int(value), True
        if key == 'DURATION':
            duration = _seconds(value)
    if duration is None and len(streams) == 1:
        for ln in lines:
            if ln.strip().startswith('Duration:'):
                duration = _seconds(ln.split(',')[0])
    if duration is None or not fps:
        return None
    return int(round(duration * fps)), False


def _check_frame_count(path: str, decoded: int) -> None:
    declared = declared_frames(path)
    if declared is None:
        return
    count, exact = declared
    # a duration times a frame rate is approximate (rounding, variable
    # frame rate): 2% and 2 frames of slack
    missing = count - decoded
    if (exact and missing) or (not exact and missing > max(2, 0.02 * count)):
        how = 'declares' if exact else 'declares (duration x frame rate)'
        raise VideoReadError(
            f'{path}: decoded {decoded} frames but the file {how} {count}: '
            'it is truncated or corrupt.')


def _annexb_last_frame_md5(path: str, fmt: str, suffix: bytes) -> str:
    """md5 of the last decoded rgb24 frame of a raw bitstream + suffix."""
    proc = subprocess.Popen([
        get_ffmpeg_exe(), '-hide_banner', '-nostdin', '-v', 'quiet', '-f',
        fmt, '-i', 'pipe:0', '-map', '0:v:0', '-fps_mode', 'passthrough',
        '-pix_fmt', 'rgb24', '-f', 'framemd5', 'pipe:1'
    ],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)

    def feed() -> None:
        try:
            with open(path, 'rb') as f:
                for block in iter(lambda: f.read(1 << 20), b''):
                    proc.stdin.write(block)
            proc.stdin.write(suffix)
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    out = proc.stdout.read().decode('ascii', 'replace')
    proc.wait()
    feeder.join()
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith('#')]
    return lines[-1].split(',')[-1].strip() if lines else ''


def _check_annexb_tail(path: str, last_frame: np.ndarray) -> None:
    """Refuse a raw bitstream cut inside its last frame.

    FFmpeg's decoders do not report a slice whose data ends early: the
    arithmetic decoder reads the zero padding past the end instead. So the
    stream is decoded once more with junk bytes appended (inside the last
    NAL unit, as no start code precedes them): a complete slice stops at
    its end and decodes the same; a cut one reads the junk and changes.
    """
    fmt = ANNEXB_FORMATS[osp.splitext(path)[1].lower()]
    with open(path, 'rb') as f:
        f.seek(max(osp.getsize(path) - 8, 0))
        tail = f.read()
    start = tail.rfind(b'\x00\x00\x01')
    if start >= 0 and len(tail) - start - 3 < 3:
        raise VideoReadError(
            f'{path}: truncated bitstream: it ends inside the header of its '
            'last NAL unit (the last frame is incomplete).')
    ours = hashlib.md5(np.ascontiguousarray(last_frame).tobytes()).hexdigest()
    if _annexb_last_frame_md5(path, fmt, b'\xa5' * 64) != ours:
        raise VideoReadError(
            f'{path}: truncated bitstream: its last frame is cut short (its '
            'decoding depends on bytes past the end of the file), so it '
            'would come out damaged. Re-copy the file, or cut the stream '
            'at a frame boundary.')


# ---------------------------------------------------------------------------
# reading


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


def _read_image(path: str, notes: Optional[set] = None) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB.

    16-bit images are scaled to 8 bits as PNG defines their samples (full
    scale 65535: ``round(v * 255 / 65535)``); an alpha channel is dropped
    with a warning. A 16-bit image whose values all lie in 1..1023 is
    most likely 10-bit video stored without scaling (non-conformant: PNG
    asks for the samples to be scaled to 16 bits, with ``sBIT`` recording
    the real depth); it is converted as PNG says, which makes it nearly
    black, and a warning says how to convert it. ``notes`` collects the
    kinds already warned about, so that a folder warns once per kind.
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


def _read_folder(path: str, start: int,
                 max_frames: Optional[int]) -> Iterator[np.ndarray]:
    files = list_frame_files(path)
    if not files:
        raise VideoReadError(f'{path}: folder has no image frames.')
    stop = len(files) if max_frames is None else start + max_frames
    shape = None
    notes: set = set()  # warn once per folder about 16-bit/alpha frames
    for file in files[start:stop]:
        frame = _read_image(file, notes)
        if shape is None:
            shape = frame.shape
        elif frame.shape != shape:
            raise VideoReadError(
                f'{file}: frame size {frame.shape[1]}x{frame.shape[0]} '
                f'differs from the first frame\'s {shape[1]}x{shape[0]}.')
        yield frame


def read_frames(path: PathLike,
                size: Optional[Size] = None,
                pix_fmt: str = 'yuv420p',
                fps: Optional[float] = None,
                start: int = 0,
                max_frames: Optional[int] = None,
                strict: bool = True) -> Iterator[np.ndarray]:
    """Yield the frames of a video one at a time as RGB arrays.

    Memory is bounded whatever the length: frames stream from an ffmpeg
    pipe. Every decoded frame is returned (``-fps_mode passthrough``: no
    frame is duplicated or dropped to fit a frame rate) and rotation
    metadata is ignored, so frame ``i`` is the ``i``-th coded frame.

    Args:
        path (str | PathLike): mp4/mkv/... file, raw ``.hevc``/``.h265``/
            ``.h264`` bitstream, raw ``.yuv`` file (``size`` required), or a
            folder of image frames (read in file-name order).
        size (tuple[int, int], optional): ``(width, height)`` of a raw
            ``.yuv`` file; must be None for other inputs. Default: None.
        pix_fmt (str): Pixel format of a raw ``.yuv`` file.
            Default: 'yuv420p'.
        fps (float, optional): Resample to this frame rate with ffmpeg's
            ``fps`` filter (drops/duplicates frames). None keeps every frame.
            Not supported for frame folders. Default: None.
        start (int): Index of the first source frame to return.
            Default: 0.
        max_frames (int, optional): Return at most this many frames.
            Default: None.
        strict (bool): Make the decoder stop on damaged data
            (``-err_detect explode``) and treat any error ffmpeg reports as
            fatal. False decodes what it can and turns reported errors into
            a warning (a non-zero ffmpeg exit still raises). Default: True.

    Note:
        With ``strict`` and the whole video read (no ``start``,
        ``max_frames`` or ``fps``), two more checks run when the frames
        are exhausted: a container that declares its frame count (or a
        duration and frame rate) must have yielded that many frames; and
        a raw Annex-B bitstream (``.hevc``, ``.h264``, ...), which has no
        index, is decoded once more with junk appended to find a last
        frame cut short (FFmpeg's decoders do not report a slice whose
        data ends early). Streams carrying decoded-picture hash SEI have
        every frame verified.

    Returns:
        Iterator[np.ndarray]: ``(H, W, 3)`` uint8 RGB frames. Arguments and
        the file's header are checked when called; decoding errors surface
        while iterating.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: For a raw file without ``size``, or bad arguments.
        VideoReadError: If the file is corrupt or truncated (ffmpeg exits
            with an error, reports decoding errors, or a partial frame
            arrives); the message names the file.
    """
    path = os.fspath(path)
    if start < 0 or (max_frames is not None and max_frames < 0):
        raise ValueError(f'start ({start}) and max_frames ({max_frames}) '
                         'must be >= 0.')
    if not osp.exists(path):
        raise FileNotFoundError(f'Video not found: {path}')
    if osp.isdir(path):
        if fps is not None:
            raise ValueError(f'{path}: fps resampling is not supported for '
                             'frame folders.')
        if not list_frame_files(path):
            raise VideoReadError(f'{path}: folder has no image frames.')
        return _read_folder(path, start, max_frames)
    if size is not None and not _is_raw(path):
        raise ValueError(f'{path}: size is only for raw {RAW_EXTENSIONS} '
                         'files; other inputs carry their own size.')
    info = probe_video(path, size=size, pix_fmt=pix_fmt)
    filters = []
    if start:
        filters.append(f'trim=start_frame={start},setpts=PTS-STARTPTS')
    if fps is not None:
        filters.append(f'fps={fps}')
    cmd = [
        get_ffmpeg_exe(), '-hide_banner', '-nostdin', '-v', 'error',
        '-noautorotate'
    ]
    if strict:
        # Makes the decoders stop on damaged data (e.g. a raw HEVC stream
        # cut inside its I-frame decodes "successfully" without it), and
        # verify the decoded-picture hashes of streams that carry them.
        cmd += ['-err_detect', 'explode+crccheck']
    cmd += _input_args(path, size, pix_fmt, None)
    cmd += ['-map', '0:v:0', '-an', '-sn']
    if filters:
        cmd += ['-vf', ','.join(filters)]
    if max_frames is not None:
        cmd += ['-frames:v', str(max_frames)]
    cmd += [
        '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24',
        'pipe:1'
    ]

    def check_complete(count: int, last: Optional[np.ndarray]) -> None:
        if osp.splitext(path)[1].lower() in ANNEXB_FORMATS:
            if last is not None:
                _check_annexb_tail(path, last)
        elif not _is_raw(path):
            _check_frame_count(path, count)

    whole = strict and not start and max_frames is None and fps is None
    return _iter_ffmpeg(cmd, path, info.width, info.height, max_frames,
                        strict, check_complete if whole else None)


def _iter_ffmpeg(cmd: List[str],
                 path: str,
                 width: int,
                 height: int,
                 max_frames: Optional[int],
                 strict: bool,
                 on_end: Optional[Callable[[int, Optional[np.ndarray]],
                                           None]] = None
                 ) -> Iterator[np.ndarray]:
    if max_frames == 0:
        return
    count = 0
    last = None
    frame_bytes = width * height * 3
    proc = subprocess.Popen(cmd,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            bufsize=frame_bytes)
    err = _StderrReader(proc.stderr)
    err.start()
    finished = False
    try:
        while True:
            buf = _read_exact(proc.stdout, frame_bytes)
            if not buf:
                break
            if len(buf) < frame_bytes:
                proc.wait()
                err.join()
                raise VideoReadError(
                    f'{path}: truncated or corrupt video: the last frame '
                    f'is incomplete ({len(buf)} of {frame_bytes} bytes).\n'
                    f'{_stderr_tail(err.text)}')
            last = np.frombuffer(buf, np.uint8).reshape(height, width, 3)
            count += 1
            yield last
        finished = True
    finally:
        if not finished and proc.poll() is None:
            # The consumer stopped early: end ffmpeg quietly.
            proc.kill()
        proc.stdout.close()
        rc = proc.wait()
        err.join()
    if rc != 0:
        raise VideoReadError(
            f'{path}: ffmpeg failed (exit code {rc}); the file is corrupt, '
            f'truncated or not a video.\n{_stderr_tail(err.text)}')
    errors = '\n'.join(ln for ln in err.text.splitlines()
                       if not _is_benign(ln))
    if errors:
        message = (f'{path}: decoding errors (corrupt or truncated file):\n'
                   f'{_stderr_tail(errors)}')
        if strict:
            raise VideoReadError(message + '\nRefusing to return a partial '
                                 'video (strict=False accepts it).')
        warnings.warn(message)
    if on_end is not None:
        on_end(count, last)


def verify_video(path: PathLike,
                 size: Optional[Size] = None,
                 pix_fmt: str = 'yuv420p') -> int:
    """Decode a whole video with every check of :func:`read_frames`.

    Args:
        path (str | PathLike): Any input of :func:`read_frames`.
        size (tuple[int, int], optional): Size of a raw ``.yuv`` file.
            Default: None.
        pix_fmt (str): Pixel format of a raw ``.yuv`` file.
            Default: 'yuv420p'.

    Returns:
        int: The number of frames.

    Raises:
        VideoReadError: If the video is corrupt or truncated (decoding
            errors, fewer frames than declared, a raw bitstream cut inside
            its last frame); the message names the file.
    """
    return sum(1 for _ in read_frames(path, size=size, pix_fmt=pix_fmt))


def _read_exact(stream, n: int) -> bytes:
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
# writing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_sibling(path: PathLike) -> str:
    """Create an empty temporary file beside ``path``, keeping its extension.

    The name is ``.<stem>.tmp-XXXX<ext>`` in the same folder (so that a
    later ``os.replace`` is atomic and ffmpeg/OpenCV still see the right
    extension), with the permissions a normal new file would get.

    Args:
        path (str | PathLike): The final path.

    Returns:
        str: The temporary file's path.
    """
    folder, name = osp.split(osp.abspath(os.fspath(path)))
    stem, ext = osp.splitext(name)
    fd, tmp = tempfile.mkstemp(prefix=f'.{stem}.tmp-', suffix=ext, dir=folder)
    os.close(fd)
    # mkstemp makes 0600 files; datasets are shared, so use the umask.
    os.chmod(tmp, 0o666 & ~_umask())
    return tmp


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write a text file atomically: a temporary sibling, then a rename.

    A crash leaves either the old file or the complete new one, never a
    truncated file under the final name.

    Args:
        path (str | PathLike): Destination; its folder is created.
        text (str): Content.
    """
    folder = osp.dirname(osp.abspath(os.fspath(path)))
    os.makedirs(folder, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


# ---------------------------------------------------------------------------
# output safety: refused paths, marked temporaries, commits that never
# delete what the writer did not write

# Every temporary output folder of this package holds this marker file (its
# writer's host and pid, as JSON). A later run removes a leftover temporary
# only when it carries the marker and its writer is gone; a look-alike
# without the marker is never touched.
PARTIAL_MARKER = '.astf_mm-partial'

OUTPUT_KINDS = ('file', 'folder', 'container')


class OutputPathError(ValueError):
    """An output path is refused: it is (or holds, or lies inside) an input,
    it exists, or it is of the wrong kind (a folder where a file goes)."""


def _is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (real paths)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_path(path: PathLike,
                      inputs: Iterable[Optional[PathLike]] = (),
                      kind: str = 'file',
                      overwrite: bool = False,
                      name: str = 'output') -> str:
    """Refuse an output path that could destroy data the caller did not
    write.

    Refused whatever ``overwrite``: a path equal to or inside one of
    ``inputs``; a folder output that holds an input; an existing folder
    where a file goes, or an existing file where a folder goes. Refused
    unless ``overwrite``: an existing file (``kind='file'``) or a non-empty
    frame folder (``kind='folder'``; the writer then replaces only the
    files it writes). A ``'container'`` (a folder holding outputs that are
    checked one by one) may exist.

    Args:
        path (str | PathLike): The output.
        inputs (Iterable[str | PathLike | None]): Input files/folders and
            dataset sources; None entries are skipped. Default: ().
        kind (str): ``'file'``, ``'folder'`` or ``'container'``.
            Default: 'file'.
        overwrite (bool): Allow an existing file / non-empty folder.
            Default: False.
        name (str): How the message names the output (an option such as
            ``'--output'``). Default: 'output'.

    Returns:
        str: The absolute output path.

    Raises:
        OutputPathError: Naming the path and what is wrong with it.
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f'kind must be one of {OUTPUT_KINDS}, got {kind!r}.')
    raw = os.fspath(path)
    if not raw.strip():
        raise OutputPathError(f'{name}: the path is empty.')
    final = osp.abspath(raw)
    label = f'{name} {raw}'
    for src in inputs:
        if src is None:
            continue
        src = os.fspath(src)
        if _is_within(final, src):
            raise OutputPathError(
                f'{label}: is the input {src} or lies inside it; refusing '
                'to write into an input. Choose an output elsewhere.')
        if kind != 'file' and _is_within(src, final):
            raise OutputPathError(
                f'{label}: holds the input {src}; refusing to write outputs '
                'into a folder that holds an input. Choose a new folder.')
    if not osp.lexists(final):
        return final
    if kind == 'file':
        if osp.isdir(final):
            raise OutputPathError(
                f'{label}: is a folder; a file output never replaces a '
                'folder. Give a file name (with an extension).')
        if not overwrite:
            raise OutputPathError(
                f'{label}: exists; refusing to replace it (pass --overwrite, '
                'or overwrite=True, to replace this file).')
    elif not osp.isdir(final):
        raise OutputPathError(
            f'{label}: exists and is not a folder; refusing to replace it.')
    elif kind == 'folder' and not overwrite and os.listdir(final):
        raise OutputPathError(
            f'{label}: is a folder that is not empty; refusing to write into '
            'it (pass --overwrite, or overwrite=True, to write into it: only '
            'the files written now are replaced, nothing is deleted).')
    return final


def _partial_owner(tmp: str, final: str) -> Optional[Tuple[str, int]]:
    """``(host, pid)`` from the marker of a temporary folder of ``final``,
    None when it has no valid marker (not one of ours)."""
    marker = osp.join(tmp, PARTIAL_MARKER)
    if osp.islink(tmp) or not osp.isdir(tmp) or not osp.isfile(marker):
        return None
    try:
        with open(marker) as f:
            data = json.load(f)
        owner = str(data['host']), int(data['pid'])
        target = str(data['target'])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return owner if target == final else None


def _process_gone(host: str, pid: int) -> bool:
    if host != socket.gethostname() or pid == os.getpid():
        return False  # another machine's process cannot be checked
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by another user
        return False
    return False


def remove_stale_temps(path: PathLike) -> List[str]:
    """Remove the temporaries of ``path`` left by a killed writer.

    A sibling ``.NAME.tmp-*`` folder is removed only when it holds the
    :data:`PARTIAL_MARKER` of this package naming ``path``, written on this
    host by a process that no longer exists. Each removal is reported on
    stderr.

    Args:
        path (str | PathLike): The final output path.

    Returns:
        list[str]: The removed folders.
    """
    final = osp.abspath(os.fspath(path))
    parent, name = osp.split(final)
    if not osp.isdir(parent):
        return []
    removed = []
    for entry in sorted(os.listdir(parent)):
        if not entry.startswith(f'.{name}.tmp-'):
            continue
        tmp = osp.join(parent, entry)
        owner = _partial_owner(tmp, final)
        if owner is None or not _process_gone(*owner):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        print(
            f'Removed {tmp}: a partial output of {final} left by process '
            f'{owner[1]} on {owner[0]}, which has ended.',
            file=sys.stderr,
            flush=True)
        removed.append(tmp)
    return removed


def make_temp_dir(path: PathLike) -> str:
    """Create the marked temporary folder of an output, beside it.

    Stale temporaries of ``path`` are removed first
    (:func:`remove_stale_temps`). The folder is ``.NAME.tmp-XXXX`` with
    the permissions of a normal new folder (umask, not ``mkdtemp``'s 0700)
    and holds :data:`PARTIAL_MARKER`.

    Args:
        path (str | PathLike): The final output path; its parent is
            created.

    Returns:
        str: The temporary folder.
    """
    final = osp.abspath(os.fspath(path))
    parent, name = osp.split(final)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temps(final)
    tmp = tempfile.mkdtemp(prefix=f'.{name}.tmp-', dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        with open(osp.join(tmp, PARTIAL_MARKER), 'w') as f:
            json.dump(
                dict(host=socket.gethostname(), pid=os.getpid(),
                     target=final), f)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _appeared(final: str) -> OutputPathError:
    return OutputPathError(
        f'{final}: appeared while this output was being written (another '
        'writer finished first); refusing to replace it. This output was '
        'discarded.')


def _merge_dir(tmp: str, final: str) -> None:
    """Move the files of ``tmp`` into the folder ``final``, replacing only
    files of the same names; nothing else in ``final`` is touched."""
    if not osp.isdir(final):
        raise OutputPathError(f'{final}: is not a folder; refusing to '
                              'replace it.')
    names = sorted(os.listdir(tmp))
    for name in names:
        dst = osp.join(final, name)
        if osp.isdir(dst) and not osp.islink(dst):
            raise OutputPathError(f'{dst}: is a folder; refusing to replace '
                                  'it with a file.')
    for name in names:
        os.replace(osp.join(tmp, name), osp.join(final, name))
    os.rmdir(tmp)


def commit_temp_dir(tmp: str, path: PathLike, overwrite: bool = False) -> None:
    """Move a finished temporary folder (:func:`make_temp_dir`) to ``path``.

    When ``path`` does not exist the folder is renamed (atomic); when it is
    an existing folder (empty, or any with ``overwrite``) the files are
    moved into it, replacing only files of the same names. If ``path``
    appears while the output is written (two writers of one path), the
    first rename wins: the second writer merges into it with
    ``overwrite``, and raises :class:`OutputPathError` without it. On any
    error the temporary folder is removed.

    Args:
        tmp (str): The temporary folder.
        path (str | PathLike): The final folder.
        overwrite (bool): Write into a non-empty folder. Default: False.
    """
    final = osp.abspath(os.fspath(path))
    try:
        os.remove(osp.join(tmp, PARTIAL_MARKER))
        if not osp.lexists(final):
            try:
                os.rename(tmp, final)
                return
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY,
                                     errno.ENOTDIR, errno.EISDIR):
                    raise
                if not overwrite:
                    raise _appeared(final) from None
        elif not overwrite and osp.isdir(final) and os.listdir(final):
            raise _appeared(final)
        _merge_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _commit_file(tmp: str, final: str, overwrite: bool) -> None:
    """Move a finished temporary file to ``final``; never onto a folder,
    and onto an existing file only with ``overwrite``."""
    if osp.isdir(final):
        raise OutputPathError(f'{final}: is a folder; a file output never '
                              'replaces a folder.')
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails if final exists: no replacement
    except FileExistsError:
        raise _appeared(final) from None
    except OSError:  # no hard links on this file system
        if osp.lexists(final):
            raise _appeared(final) from None
        os.replace(tmp, final)
    else:
        os.remove(tmp)


@contextlib.contextmanager
def atomic_folder(path: PathLike, overwrite: bool = False) -> Iterator[str]:
    """Write a folder under a temporary name, renamed when complete.

    Yields the marked temporary folder (:func:`make_temp_dir`); when the
    block ends without an exception it becomes ``path``
    (:func:`commit_temp_dir`), else it is removed. ``path`` is checked
    first (:func:`check_output_path` with ``kind='folder'``).

    Args:
        path (str | PathLike): The final folder.
        overwrite (bool): Write into a non-empty folder (replacing only the
            files written). Default: False.

    Yields:
        str: The temporary folder to write into.
    """
    check_output_path(path, kind='folder', overwrite=overwrite)
    tmp = make_temp_dir(path)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit_temp_dir(tmp, path, overwrite)


def exit_on_sigterm() -> None:
    """Handle SIGTERM like Ctrl-C: unwind (writers remove their
    temporaries) and exit with status 143 (128 + SIGTERM).

    Call it in a tool's ``main()`` (the main thread). A second SIGTERM
    during the clean-up is ignored so that the clean-up finishes.
    """

    def handler(signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('Terminated (SIGTERM): removing partial outputs.',
              file=sys.stderr,
              flush=True)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


_DEFAULT_CODECS = {'.mkv': 'ffv1', '.mp4': 'libx264', '.mov': 'libx264'}


def video_codec(path: PathLike, codec: Optional[str] = None) -> str:
    """The codec :class:`VideoWriter` uses for ``path``.

    Args:
        path (str | PathLike): Output file; its extension picks the default
            (``.mkv``: ffv1, ``.mp4``/``.mov``: libx264).
        codec (str, optional): An explicit codec, returned as is.
            Default: None.

    Returns:
        str: The codec name.
    """
    if codec is not None:
        return codec
    path = os.fspath(path)
    ext = osp.splitext(path)[1].lower()
    if ext not in _DEFAULT_CODECS:
        raise ValueError(f'{path}: no default codec for "{ext}"; pass codec='
                         f' or use one of {sorted(_DEFAULT_CODECS)}.')
    return _DEFAULT_CODECS[ext]


def _codec_args(codec: str, crf: Optional[int], lossless: bool,
                pix_fmt: Optional[str]) -> List[str]:
    if codec in ('ffv1', 'png') and not lossless:
        raise ValueError(
            f'crf={crf} does not apply to {codec}, which is always lossless '
            '(ffv1 is the default for .mkv); use codec libx264 or libx265 '
            'for a lossy file, or no crf.')
    if codec == 'ffv1':
        return ['-c:v', 'ffv1', '-level', '3', '-pix_fmt', pix_fmt or 'bgr0']
    if codec == 'png':
        return ['-c:v', 'png', '-pix_fmt', pix_fmt or 'rgb24']
    if codec in ('libx264', 'libx265'):
        if lossless:
            args = ['-c:v', codec, '-pix_fmt', pix_fmt or 'yuv444p']
            if codec == 'libx264':
                return args + ['-qp', '0']
            return args + ['-x265-params', 'lossless=1:log-level=error']
        args = ['-c:v', codec, '-crf', str(crf), '-pix_fmt', pix_fmt
                or 'yuv420p']
        if codec == 'libx265':
            args += ['-x265-params', 'log-level=error']
        return args
    raise ValueError(f'Unknown codec "{codec}"; use ffv1, png, libx264 or '
                     'libx265.')


class VideoWriter:
    """Write RGB frames to a video file through an ffmpeg pipe, atomically.

    The file is written under a temporary name in the destination folder
    (``.NAME.tmp-XXXX.EXT``, the extension kept so that ffmpeg picks the
    muxer) and renamed to ``path`` only when :meth:`close` succeeds; on an
    exception inside the ``with`` block the temporary file is removed, so a
    file at ``path`` is always complete. The temporary file lives in a
    marked temporary folder (:func:`make_temp_dir`), so that a run after a
    kill removes it. An existing folder at ``path`` is never replaced.

    Lossless defaults: ``.mkv`` -> ``ffv1`` in ``bgr0`` (bit-exact RGB);
    ``.mp4`` -> ``libx264 -qp 0`` in ``yuv444p`` (lossless after the RGB to
    YUV conversion, but yuv444p H.264 does not play in every player). Pass
    ``crf`` (e.g. 18) for a lossy ``yuv420p`` file that plays everywhere.

    Args:
        path (str | PathLike): Output file (``.mkv``, ``.mp4``, ...).
        fps (float): Frame rate. Default: 25.
        codec (str, optional): ``'ffv1'``, ``'png'``, ``'libx264'`` or
            ``'libx265'``. None picks by extension. Default: None.
        crf (int, optional): Constant rate factor for libx264/libx265;
            implies a lossy file. Default: None.
        lossless (bool, optional): Lossless coding; None means
            ``crf is None``. Default: None.
        pix_fmt (str, optional): Stored pixel format; None picks the
            codec's default described above. Default: None.
        overwrite (bool): Replace an existing file at ``path``.
            Default: True.

    Example:
        >>> with VideoWriter('out.mkv', fps=25) as writer:
        ...     for frame in frames:
        ...         writer.write(frame)
    """

    def __init__(self,
                 path: PathLike,
                 fps: float = 25,
                 codec: Optional[str] = None,
                 crf: Optional[int] = None,
                 lossless: Optional[bool] = None,
                 pix_fmt: Optional[str] = None,
                 overwrite: bool = True) -> None:
        self.path = os.fspath(path)
        codec = video_codec(self.path, codec)
        if lossless is None:
            lossless = crf is None
        if lossless and crf is not None:
            raise ValueError('crf and lossless=True exclude each other.')
        if not lossless and crf is None:
            raise ValueError('A lossy file needs crf (e.g. 18).')
        try:
            self.codec_args = _codec_args(codec, crf, lossless, pix_fmt)
        except ValueError as err:
            raise ValueError(f'{self.path}: {err}') from None
        check_output_path(self.path, kind='file', overwrite=overwrite)
        folder = osp.dirname(osp.abspath(self.path))
        if not osp.isdir(folder):
            raise FileNotFoundError(f'Output folder does not exist: {folder}')
        self.fps = fps
        self.codec = codec
        self.overwrite = overwrite
        self.num_frames = 0
        self._proc: Optional[subprocess.Popen] = None
        self._err: Optional[_StderrReader] = None
        self._tmp_dir: Optional[str] = None
        self._tmp: Optional[str] = None
        self._shape: Optional[Tuple[int, ...]] = None

    def _start(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self._tmp_dir = make_temp_dir(self.path)
        # the final name inside: ffmpeg picks the muxer by extension
        self._tmp = osp.join(self._tmp_dir, osp.basename(self.path))
        cmd = [
            get_ffmpeg_exe(), '-hide_banner', '-nostdin', '-v', 'error',
            '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}',
            '-framerate',
            str(self.fps), '-i', 'pipe:0'
        ] + self.codec_args
        if osp.splitext(self.path)[1].lower() in ('.mp4', '.mov'):
            # Index first: the file plays while it streams.
            cmd += ['-movflags', '+faststart']
        cmd += [self._tmp]
        self._proc = subprocess.Popen(cmd,
                                      stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        self._err = _StderrReader(self._proc.stderr)
        self._err.start()

    def write(self, frame: np.ndarray) -> None:
        """Append one frame.

        Args:
            frame (np.ndarray): ``(H, W, 3)`` uint8 RGB, the same size for
                every frame.
        """
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f'{self.path}: frames must be (H, W, 3) uint8 '
                             f'RGB, got {frame.shape} {frame.dtype}.')
        if self._shape is None:
            self._shape = frame.shape
            self._start(frame)
        elif frame.shape != self._shape:
            raise ValueError(f'{self.path}: frame {self.num_frames} has shape'
                             f' {frame.shape}, the first had {self._shape}.')
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            self._proc.wait()
            self._err.join()
            raise VideoWriteError(f'{self.path}: ffmpeg stopped:\n'
                                  f'{_stderr_tail(self._err.text)}')
        self.num_frames += 1

    def close(self) -> None:
        """Finish the file and move it to its final name."""
        if self._proc is None:
            raise VideoWriteError(f'{self.path}: no frames were written.')
        self._proc.stdin.close()
        rc = self._proc.wait()
        self._err.join()
        if rc != 0:
            self._discard()
            raise VideoWriteError(f'{self.path}: ffmpeg failed (exit code '
                                  f'{rc}):\n{_stderr_tail(self._err.text)}')
        try:
            _commit_file(self._tmp, osp.abspath(self.path), self.overwrite)
        finally:
            self._discard()

    def abort(self) -> None:
        """Stop ffmpeg and remove the temporary file."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._discard()

    def _discard(self) -> None:
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
        self._tmp_dir = self._tmp = None

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def save_frame_png(path: PathLike, frame: np.ndarray) -> None:
    """Save one RGB frame as PNG atomically (temporary name, then rename).

    Args:
        path (str | PathLike): Destination ``.png`` file.
        frame (np.ndarray): ``(H, W, 3)`` uint8 RGB frame.
    """
    path = os.fspath(path)
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'{path}: frames must be (H, W, 3) uint8 RGB, got '
                         f'{frame.shape} {frame.dtype}.')
    tmp = temp_sibling(path)
    try:
        if not cv2.imwrite(tmp, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise OSError(f'{path}: OpenCV could not write the image.')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_png_folder(frames: Iterable[np.ndarray],
                     out_dir: PathLike,
                     filename_tmpl: str = '{:08d}.png',
                     start_idx: int = 0,
                     overwrite: bool = False) -> int:
    """Write frames as PNG files into a folder, atomically.

    A :class:`FrameFolderWriter` over ``frames``: they go to a marked
    temporary folder beside ``out_dir`` that becomes ``out_dir`` once every
    frame is written; on an error it is removed. The default names match
    mmagic's ``GenerateSegmentIndices`` (``'{:08d}.png'`` from index 0).

    Args:
        frames (Iterable[np.ndarray]): ``(H, W, 3)`` uint8 RGB frames.
        out_dir (str | PathLike): Destination folder.
        filename_tmpl (str): File name template. Default: '{:08d}.png'.
        start_idx (int): Index of the first file. Default: 0.
        overwrite (bool): Write into an existing non-empty ``out_dir``,
            replacing only the files of the names written; other files
            stay. Default: False.

    Returns:
        int: The number of frames written.
    """
    with FrameFolderWriter(out_dir, filename_tmpl, overwrite,
                           start_idx) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.count


# ---------------------------------------------------------------------------
# HEVC at a fixed QP, lossless intermediates

_X265_VERSION_RE = re.compile(r'x265 \[info\]: HEVC encoder version (\S+)')
_X265_AVG_QP_RE = re.compile(
    r'x265 \[info\]: frame (?P<type>[IPB]):\s*(?P<n>\d+),\s*Avg QP:\s*'
    r'(?P<qp>[\d.]+)')


def _run_encoder(cmd: List[str], dst: str,
                 frames: Optional[Iterable[np.ndarray]]) -> str:
    """Run an ffmpeg encode to ``dst`` atomically; return its stderr."""
    tmp = temp_sibling(dst)
    # bitexact: no random container UIDs, so equal input gives equal files.
    cmd = cmd + ['-fflags', '+bitexact', '-y', tmp]
    try:
        if frames is None:
            proc = subprocess.run(cmd,
                                  stdin=subprocess.DEVNULL,
                                  capture_output=True,
                                  check=False)
            stderr = proc.stderr.decode('utf-8', 'replace')
            rc = proc.returncode
        else:
            proc = subprocess.Popen(cmd,
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            err = _StderrReader(proc.stderr)
            err.start()
            try:
                for frame in frames:
                    proc.stdin.write(np.ascontiguousarray(frame).tobytes())
            except BrokenPipeError:
                pass
            finally:
                proc.stdin.close()
                rc = proc.wait()
                err.join()
            stderr = err.text
        if rc != 0:
            raise VideoWriteError(f'{dst}: encoding failed (exit code {rc}):'
                                  f'\n{_stderr_tail(stderr)}')
        os.replace(tmp, dst)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return stderr


def _frames_source(src: Union[PathLike, Iterable[np.ndarray]],
                   size: Optional[Size], pix_fmt: str, fps: float,
                   start: int, max_frames: Optional[int]
                   ) -> Tuple[List[str], Optional[Iterable[np.ndarray]]]:
    """ffmpeg input arguments plus the frames to pipe (None for a path)."""
    if isinstance(src, (str, os.PathLike)):
        path = os.fspath(src)
        if not osp.exists(path):
            raise FileNotFoundError(f'Video not found: {path}')
        if osp.isdir(path):
            frames = read_frames(path, start=start, max_frames=max_frames)
            src = frames
        else:
            probe_video(path, size=size, pix_fmt=pix_fmt)
            args = ['-noautorotate'] + _input_args(path, size, pix_fmt, fps)
            args += ['-map', '0:v:0', '-an', '-sn']
            if start:
                args += ['-vf', f'trim=start_frame={start},setpts=PTS-'
                         'STARTPTS']
            if max_frames is not None:
                args += ['-frames:v', str(max_frames)]
            return args, None
    iterator = iter(src)
    try:
        first = next(iterator)
    except StopIteration:
        raise ValueError('No frames to encode.') from None
    first = np.asarray(first)
    if first.dtype != np.uint8 or first.ndim != 3 or first.shape[2] != 3:
        raise ValueError(f'Frames must be (H, W, 3) uint8 RGB, got '
                         f'{first.shape} {first.dtype}.')
    h, w = first.shape[:2]

    def frames() -> Iterator[np.ndarray]:
        yield first
        for frame in iterator:
            frame = np.asarray(frame)
            if frame.shape != first.shape or frame.dtype != np.uint8:
                raise ValueError(f'Frame shape {frame.shape} differs from '
                                 f'the first frame\'s {first.shape}.')
            yield frame

    args = [
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}',
        '-framerate',
        str(fps), '-i', 'pipe:0'
    ]
    return args, frames()


def encode_hevc_qp(src: Union[PathLike, Iterable[np.ndarray]],
                   dst_path: PathLike,
                   qp: int = 37,
                   preset: str = 'medium',
                   fps: float = 25,
                   size: Optional[Size] = None,
                   pix_fmt: str = 'yuv420p',
                   start: int = 0,
                   max_frames: Optional[int] = None) -> Dict[str, Any]:
    """Encode HEVC with x265 at a fixed QP (low-delay P, no B-frames).

    Every frame, the I-frame included, is coded at ``qp``: x265 parameters
    ``X265_FIXED_QP_PARAMS`` (``ipratio=1``, no AQ/cutree/lookahead, one
    I-frame, no scene-cut I-frames) plus ``frame-threads=1`` (output
    independent of the core count), 8-bit ``yuv420p``. This imitates the
    NTIRE 2021 LDV setting (HM low-delay P at QP 37) with x265; HM's
    hierarchical P-frame QP offsets are not reproduced.

    The bitstream is written atomically; the container follows the
    extension (``.mkv``, ``.mp4``, or raw ``.hevc``/``.h265``).

    Args:
        src (str | PathLike | Iterable[np.ndarray]): A video path (any
            input of :func:`read_frames`), or RGB uint8 frames.
        dst_path (str | PathLike): Output file.
        qp (int): Quantisation parameter. Default: 37.
        preset (str): x265 speed preset. Default: 'medium'.
        fps (float): Frame rate stored for piped frames, raw inputs and
            frame folders. Default: 25.
        size (tuple[int, int], optional): ``(width, height)`` of a raw
            ``.yuv`` source. Default: None.
        pix_fmt (str): Pixel format of a raw ``.yuv`` source.
            Default: 'yuv420p'.
        start (int): First source frame (path sources). Default: 0.
        max_frames (int, optional): Encode at most this many frames (path
            sources). Default: None.

    Returns:
        dict: The exact settings, for a manifest: ``encoder``, ``qp``,
        ``preset``, ``x265_params``, ``pix_fmt``, ``x265_version``,
        ``ffmpeg_version``, ``avg_qp`` (per frame type, from x265's
        summary) and ``num_frames``.
    """
    dst = os.fspath(dst_path)
    if not 0 <= int(qp) <= 51:
        raise ValueError(f'qp must be in [0, 51], got {qp}.')
    # One frame thread: the bitstream then does not depend on the number
    # of CPU cores of the machine that encodes it.
    params = X265_FIXED_QP_PARAMS.format(qp=int(qp)) + ':frame-threads=1'
    in_args, frames = _frames_source(src, size, pix_fmt, fps, start,
                                     max_frames)
    exe = get_ffmpeg_exe()
    cmd = [exe, '-hide_banner', '-nostdin', '-v', 'error'] + in_args + [
        '-c:v', 'libx265', '-preset', preset, '-pix_fmt', 'yuv420p',
        '-x265-params', params + ':log-level=info'
    ]
    if osp.splitext(dst)[1].lower() in ('.hevc', '.h265', '.265'):
        cmd += ['-f', 'hevc']
    stderr = _run_encoder(cmd, dst, frames)
    m = _X265_VERSION_RE.search(stderr)
    avg_qp = {}
    num_frames = 0
    for fm in _X265_AVG_QP_RE.finditer(stderr):
        avg_qp[fm.group('type')] = float(fm.group('qp'))
        num_frames += int(fm.group('n'))
    return dict(
        encoder='libx265',
        qp=int(qp),
        preset=preset,
        x265_params=params,
        pix_fmt='yuv420p',
        x265_version=m.group(1) if m else 'unknown',
        ffmpeg_version=_ffmpeg_version(exe),
        avg_qp=avg_qp,
        num_frames=num_frames)


def transcode_lossless(src: PathLike,
                       dst_path: PathLike,
                       size: Optional[Size] = None,
                       pix_fmt: str = 'yuv420p',
                       start: int = 0,
                       max_frames: Optional[int] = None,
                       resize: Optional[Size] = None,
                       out_pix_fmt: str = 'yuv420p',
                       fps: float = 25) -> VideoInfo:
    """Cut, resize and store a video losslessly (ffv1 in Matroska).

    Used to make the "raw" source of a compressed/clean pair: frames
    ``start .. start+max_frames`` are resized with area averaging (if
    ``resize``), cropped to even width and height (4:2:0 needs them), and
    stored in ``out_pix_fmt`` without further loss.

    Args:
        src (str | PathLike): Any input of :func:`read_frames`.
        dst_path (str | PathLike): Output ``.mkv`` file (written
            atomically).
        size (tuple[int, int], optional): Size of a raw ``.yuv`` source.
            Default: None.
        pix_fmt (str): Pixel format of a raw ``.yuv`` source.
            Default: 'yuv420p'.
        start (int): First source frame. Default: 0.
        max_frames (int, optional): At most this many frames.
            Default: None.
        resize (tuple[int, int], optional): Output ``(width, height)``,
            both even. Default: None.
        out_pix_fmt (str): Stored pixel format. Default: 'yuv420p'.
        fps (float): Frame rate for sources without one. Default: 25.

    Returns:
        VideoInfo: The written file's description, ``num_frames`` counted.
    """
    dst = os.fspath(dst_path)
    src_path = os.fspath(src)
    filters = []
    if resize is not None:
        w, h = (int(v) for v in resize)
        if w <= 0 or h <= 0 or w % 2 or h % 2:
            raise ValueError(f'resize must be positive even (width, height),'
                             f' got {resize}.')
        filters.append(f'scale={w}:{h}:flags=area')
    filters.append('crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0')
    if osp.isdir(src_path):
        in_args, frames = _frames_source(src_path, None, pix_fmt, fps, start,
                                         max_frames)
    else:
        probe_video(src_path, size=size, pix_fmt=pix_fmt)
        in_args = ['-noautorotate'] + _input_args(src_path, size, pix_fmt,
                                                  fps if _is_raw(src_path)
                                                  else None)
        in_args += ['-map', '0:v:0', '-an', '-sn']
        if start:
            filters.insert(0, f'trim=start_frame={start},setpts=PTS-STARTPTS')
        if max_frames is not None:
            in_args += ['-frames:v', str(max_frames)]
        frames = None
    cmd = [get_ffmpeg_exe(), '-hide_banner', '-nostdin', '-v', 'error'
           ] + in_args + [
               '-vf', ','.join(filters), '-fps_mode', 'passthrough', '-c:v',
               'ffv1', '-level', '3', '-pix_fmt', out_pix_fmt
           ]
    _run_encoder(cmd, dst, frames)
    return probe_video(dst, count_frames=True)


def iter_pairs(a: Iterable[np.ndarray], b: Iterable[np.ndarray],
               names: Sequence[str] = ('a', 'b')
               ) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Zip two frame streams, raising if their lengths differ.

    Args:
        a (Iterable[np.ndarray]): First stream.
        b (Iterable[np.ndarray]): Second stream.
        names (Sequence[str]): Names used in the error message.
            Default: ('a', 'b').

    Yields:
        tuple[np.ndarray, np.ndarray]: One frame of each.
    """
    ia, ib = iter(a), iter(b)
    count = 0
    while True:
        fa = next(ia, None)
        fb = next(ib, None)
        if fa is None and fb is None:
            return
        if fa is None or fb is None:
            longer = names[1] if fa is None else names[0]
            raise VideoReadError(
                f'Frame counts differ: {longer} has more than {count} frames'
                f', the other has {count} ({names[0]} vs {names[1]}).')
        count += 1
        yield fa, fb


class FrameFolderWriter:
    """Write RGB frames as numbered PNGs into a folder, atomically.

    Frames go to a marked temporary sibling folder (:func:`make_temp_dir`)
    that :meth:`close` renames to ``path`` (:func:`commit_temp_dir`);
    :meth:`abort` (or an exception in a ``with`` block) removes it, so a
    folder at ``path`` is always complete. Nothing at ``path`` is ever
    deleted: an existing non-empty folder is refused unless ``overwrite``,
    and then only the files of the names written are replaced. Same
    interface as :class:`VideoWriter`.

    Args:
        path (str | PathLike): Output folder.
        filename_tmpl (str): Frame file names. Default: ``'{:08d}.png'``.
        overwrite (bool): Write into an existing non-empty folder.
            Default: False.
        start_idx (int): Index of the first frame's name. Default: 0.
    """

    def __init__(self,
                 path: PathLike,
                 filename_tmpl: str = '{:08d}.png',
                 overwrite: bool = False,
                 start_idx: int = 0) -> None:
        self.path = check_output_path(
            os.fspath(path), kind='folder', overwrite=overwrite)
        self.filename_tmpl = filename_tmpl
        self.overwrite = overwrite
        self.start_idx = start_idx
        self.tmp = make_temp_dir(self.path)
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        """Write the next HxWx3 uint8 RGB frame."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f'{self.path}: frame {self.count} must be (H, '
                             f'W, 3) uint8 RGB, got {frame.shape} '
                             f'{frame.dtype}.')
        name = osp.join(self.tmp,
                        self.filename_tmpl.format(self.start_idx + self.count))
        if not cv2.imwrite(name, np.ascontiguousarray(frame[..., ::-1])):
            raise VideoWriteError(f'Could not write {name}.')
        self.count += 1

    def close(self) -> None:
        """Move the finished folder into place."""
        commit_temp_dir(self.tmp, self.path, self.overwrite)

    def abort(self) -> None:
        """Discard what was written."""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> 'FrameFolderWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(path: PathLike,
                fps: float = 25,
                codec: Optional[str] = None,
                crf: Optional[int] = None,
                overwrite: bool = False):
    """A :class:`VideoWriter` for a file name with an extension, else a
    :class:`FrameFolderWriter` for a folder of PNG frames.

    ``overwrite`` is passed to either: a file is replaced, a folder written
    into (only the frames written are replaced); neither ever replaces a
    path of the other kind.
    """
    if osp.splitext(os.fspath(path))[1]:
        return VideoWriter(
            path, fps=fps, codec=codec, crf=crf, overwrite=overwrite)
    return FrameFolderWriter(path, overwrite=overwrite)
