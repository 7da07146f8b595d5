"""Reading: the frames of a video, raw file or frame folder, one at a time.

Frames travel as ``rgb24`` rawvideo through an ffmpeg pipe, so memory stays
bounded whatever the length of the video. A corrupt or truncated input
raises :class:`VideoReadError` naming the file instead of quietly yielding
fewer frames.
"""
import hashlib
import os
import os.path as osp
import subprocess
import threading
import warnings
from typing import (Callable, Iterable, Iterator, List, Optional, Sequence,
                    Tuple)

import numpy as np

from .ffmpeg import (RAW_EXTENSIONS, PathLike, Size, StderrReader,
                     VideoReadError, get_ffmpeg_exe, input_args, is_benign,
                     is_raw, read_exact, stderr_tail)
from .frames import list_frame_files, read_image
from .probe import check_frame_count, probe_video

# Raw Annex-B bitstreams: no index, no declared frame count.
ANNEXB_FORMATS = {
    '.hevc': 'hevc',
    '.h265': 'hevc',
    '.265': 'hevc',
    '.h264': 'h264',
    '.264': 'h264'
}


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


def _read_folder(path: str, start: int,
                 max_frames: Optional[int]) -> Iterator[np.ndarray]:
    files = list_frame_files(path)
    if not files:
        raise VideoReadError(f'{path}: folder has no image frames.')
    stop = len(files) if max_frames is None else start + max_frames
    shape = None
    notes: set = set()  # warn once per folder about 16-bit/alpha frames
    for file in files[start:stop]:
        frame = read_image(file, notes)
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
    if size is not None and not is_raw(path):
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
    cmd += input_args(path, size, pix_fmt, None)
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
        elif not is_raw(path):
            check_frame_count(path, count)

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
    err = StderrReader(proc.stderr)
    err.start()
    finished = False
    try:
        while True:
            buf = read_exact(proc.stdout, frame_bytes)
            if not buf:
                break
            if len(buf) < frame_bytes:
                proc.wait()
                err.join()
                raise VideoReadError(
                    f'{path}: truncated or corrupt video: the last frame '
                    f'is incomplete ({len(buf)} of {frame_bytes} bytes).\n'
                    f'{stderr_tail(err.text)}')
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
            f'truncated or not a video.\n{stderr_tail(err.text)}')
    errors = '\n'.join(ln for ln in err.text.splitlines()
                       if not is_benign(ln))
    if errors:
        message = (f'{path}: decoding errors (corrupt or truncated file):\n'
                   f'{stderr_tail(errors)}')
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
