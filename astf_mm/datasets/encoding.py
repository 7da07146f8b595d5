"""HEVC dataset encoding: x265 at a fixed QP, lossless intermediates.

Used by the data tools (``tools/data/``) through
:mod:`astf_mm.datasets.frame_pairs`: every frame of the compressed half of
a training pair is coded at one QP, and its clean half is stored
losslessly. Outputs are written atomically and bit-exactly (equal input
gives equal files).
"""
import os
import os.path as osp
import re
import subprocess
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np

from astf_mm.io import (VideoInfo, VideoWriteError, atomic_write,
                        get_ffmpeg_exe, probe_video, read_frames)
from astf_mm.io.ffmpeg import (PathLike, Size, StderrReader, ffmpeg_version_of,
                               input_args, is_raw, stderr_tail)
from astf_mm.io.frames import check_rgb_frame

# Fixed QP, low-delay P, no B-frames, no adaptive quantisation: every frame,
# the first I-frame included, is coded at ``qp`` (without ``ipratio=1`` x265
# codes the I-frame at QP 34 for QP 37).
X265_FIXED_QP_PARAMS = ('qp={qp}:bframes=0:ipratio=1:aq-mode=0:no-cutree=1:'
                        'keyint=-1:scenecut=0:rc-lookahead=0')

_X265_VERSION_RE = re.compile(r'x265 \[info\]: HEVC encoder version (\S+)')
_X265_AVG_QP_RE = re.compile(
    r'x265 \[info\]: frame (?P<type>[IPB]):\s*(?P<n>\d+),\s*Avg QP:\s*'
    r'(?P<qp>[\d.]+)')


def _run_encoder(cmd: List[str], dst: str,
                 frames: Optional[Iterable[np.ndarray]]) -> str:
    """Run an ffmpeg encode to ``dst`` atomically; return its stderr."""
    result = {}

    def encode(tmp: str) -> None:
        # bitexact: no random container UIDs, so equal input gives equal
        # files.
        full = cmd + ['-fflags', '+bitexact', '-y', tmp]
        if frames is None:
            proc = subprocess.run(full,
                                  stdin=subprocess.DEVNULL,
                                  capture_output=True,
                                  check=False)
            stderr = proc.stderr.decode('utf-8', 'replace')
            rc = proc.returncode
        else:
            proc = subprocess.Popen(full,
                                    stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            err = StderrReader(proc.stderr)
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
                                  f'\n{stderr_tail(stderr)}')
        result['stderr'] = stderr

    atomic_write(dst, encode)
    return result['stderr']


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
            args = ['-noautorotate'] + input_args(path, size, pix_fmt, fps)
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
    first = check_rgb_frame(first, 'Frames')
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
        ffmpeg_version=ffmpeg_version_of(exe),
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
        raw_fps = fps if is_raw(src_path) else None
        in_args = ['-noautorotate'] + input_args(src_path, size, pix_fmt,
                                                 raw_fps)
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
