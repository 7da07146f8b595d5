"""Probing: what a video file, raw file or frame folder holds.

Containers and bitstreams are probed by parsing ``ffmpeg -i`` output (no
ffprobe); raw files from their size; folders from their first frame. Also
the frame count a container declares, which the readers check.
"""
import os
import os.path as osp
import re
import subprocess
from dataclasses import dataclass
from typing import Optional, Tuple

from .ffmpeg import (PathLike, Size, VideoReadError, check_raw_size,
                     get_ffmpeg_exe, is_raw, raw_frame_bytes, stderr_tail)
from .frames import IMAGE_EXTENSIONS, list_frame_files, read_image


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
        first = read_image(files[0])
        return VideoInfo(path, first.shape[1], first.shape[0], None,
                         len(files), 'images', 'rgb24')
    if is_raw(path):
        w, h = check_raw_size(size, path)
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
                             f'\n{stderr_tail(proc.stderr)}')
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
                             f'\n{stderr_tail(proc.stderr)}')
    return sum(1 for ln in proc.stdout.splitlines()
               if ln.strip() and not ln.startswith('#'))


# ---------------------------------------------------------------------------
# declared frame counts

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


def check_frame_count(path: str, decoded: int) -> None:
    """Refuse a video that decoded fewer frames than it declares.

    Args:
        path (str): The video file.
        decoded (int): The number of frames decoded from it.

    Raises:
        VideoReadError: If :func:`declared_frames` gives more frames
            (exactly, or beyond a 2%/2-frame slack for an estimate).
    """
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
