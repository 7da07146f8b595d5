"""Writers: RGB frames to a video file (ffmpeg pipe) or a PNG folder.

Both writers share :class:`_FrameWriter`: frames are checked, written under
a marked temporary folder beside the output (:func:`make_temp_dir`), moved
into place by ``close`` and removed by ``abort`` or an exception in a
``with`` block, so whatever exists at the output path is complete.
"""
import os
import os.path as osp
import shutil
import subprocess
from typing import Iterable, List, Optional, Tuple

import numpy as np

from .ffmpeg import (PathLike, StderrReader, VideoWriteError, get_ffmpeg_exe,
                     stderr_tail)
from .frames import check_rgb_frame, write_png
from .output_safety import (atomic_write, check_output_path, commit_file,
                            commit_temp_dir, make_temp_dir)

_DEFAULT_CODECS = {'.mkv': 'ffv1', '.mp4': 'libx264', '.mov': 'libx264'}
# Containers meant for sharing: a lossy 4:2:0 file that browsers play.
_SHAREABLE = ('.mp4', '.mov')
# CRF of a shareable file when none is given: near-lossless. On the demo
# clip (benchmarks/results/output_encoding.md) it costs 0.16 dB against
# the source, CRF 18 0.25 dB; 4:2:0 itself costs 0.14 dB at any CRF.
SHAREABLE_CRF = 10


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


def default_crf(path: PathLike, codec: Optional[str] = None) -> Optional[int]:
    """The CRF a user-named video file gets when none is given.

    Args:
        path (str | PathLike): Output file.
        codec (str, optional): An explicit codec; None picks by extension
            (:func:`video_codec`). Default: None.

    Returns:
        int | None: :data:`SHAREABLE_CRF` for a ``.mp4``/``.mov`` file in
        libx264/libx265 (lossy 4:2:0, plays in browsers), None (lossless)
        otherwise (``.mkv``: FFV1).
    """
    ext = osp.splitext(os.fspath(path))[1].lower()
    if ext in _SHAREABLE and video_codec(path, codec) in ('libx264',
                                                          'libx265'):
        return SHAREABLE_CRF
    return None


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


class _FrameWriter:
    """What every writer shares: checked frames, a temporary output that
    ``close`` moves into place and ``abort`` removes, the ``with`` protocol.

    Args:
        path (str): The output path (as messages name it).
        overwrite (bool): Whether an existing output may be replaced
            (a file) or written into (a folder).
    """

    def __init__(self, path: str, overwrite: bool) -> None:
        self.path = path
        self.overwrite = overwrite
        self.num_frames = 0
        self._tmp_dir: Optional[str] = None

    def write(self, frame: np.ndarray) -> None:
        """Append one frame.

        Args:
            frame (np.ndarray): ``(H, W, 3)`` uint8 RGB.
        """
        frame = check_rgb_frame(frame,
                                f'{self.path}: frame {self.num_frames}')
        self._write(frame)
        self.num_frames += 1

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the output and move it to its final path."""
        raise NotImplementedError

    def abort(self) -> None:
        """Stop writing and remove the temporary output."""
        self._discard()

    def _discard(self) -> None:
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
        self._tmp_dir = None

    def __enter__(self) -> '_FrameWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class VideoWriter(_FrameWriter):
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
    YUV conversion, but yuv444p H.264 does not play in browsers). Pass
    ``crf`` (near-lossless: :data:`SHAREABLE_CRF`, what
    :func:`default_crf` gives tools) for a lossy ``yuv420p`` file that
    plays everywhere.

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
        super().__init__(os.fspath(path), overwrite)
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
        self._proc: Optional[subprocess.Popen] = None
        self._err: Optional[StderrReader] = None
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
            if self.codec == 'libx265':
                # Safari and QuickTime play HEVC in MP4 only as 'hvc1'
                # (ffmpeg's default tag is 'hev1')
                cmd += ['-tag:v', 'hvc1']
        cmd += [self._tmp]
        self._proc = subprocess.Popen(cmd,
                                      stdin=subprocess.PIPE,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        self._err = StderrReader(self._proc.stderr)
        self._err.start()

    def _write(self, frame: np.ndarray) -> None:
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
                                  f'{stderr_tail(self._err.text)}')

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
                                  f'{rc}):\n{stderr_tail(self._err.text)}')
        try:
            commit_file(self._tmp, osp.abspath(self.path), self.overwrite)
        finally:
            self._discard()

    def abort(self) -> None:
        """Stop ffmpeg and remove the temporary file."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._discard()


class FrameFolderWriter(_FrameWriter):
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
        super().__init__(
            check_output_path(
                os.fspath(path), kind='folder', overwrite=overwrite),
            overwrite)
        self.filename_tmpl = filename_tmpl
        self.start_idx = start_idx
        self._tmp_dir = make_temp_dir(self.path)

    def _write(self, frame: np.ndarray) -> None:
        name = self.filename_tmpl.format(self.start_idx + self.num_frames)
        write_png(osp.join(self._tmp_dir, name), frame)

    def close(self) -> None:
        """Move the finished folder into place."""
        tmp, self._tmp_dir = self._tmp_dir, None
        commit_temp_dir(tmp, self.path, self.overwrite)


def save_frame_png(path: PathLike, frame: np.ndarray) -> None:
    """Save one RGB frame as PNG atomically (temporary name, then rename).

    Args:
        path (str | PathLike): Destination ``.png`` file.
        frame (np.ndarray): ``(H, W, 3)`` uint8 RGB frame.
    """
    path = os.fspath(path)
    frame = check_rgb_frame(frame, f'{path}: frames')
    # no fsync: callers write frames into folders renamed when complete
    atomic_write(path, lambda tmp: write_png(tmp, frame), sync=False)


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
    return writer.num_frames


def open_writer(path: PathLike,
                fps: float = 25,
                codec: Optional[str] = None,
                crf: Optional[int] = None,
                overwrite: bool = False) -> _FrameWriter:
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
