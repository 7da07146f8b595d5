"""Video file input/output through the ffmpeg binary, and safe outputs.

- :mod:`.ffmpeg`: finding ffmpeg, its version, pipes and stderr, raw files.
- :mod:`.frames`: frame folders (natural order), image files, frame checks.
- :mod:`.probe`: what a video, raw file or frame folder holds.
- :mod:`.readers`: frames one at a time, with completeness checks.
- :mod:`.writers`: :class:`VideoWriter`, :class:`FrameFolderWriter`.
- :mod:`.output_safety`: refused outputs, atomic files and folders, marked
  temporaries, SIGTERM.

Dataset encoding (x265 at a fixed QP) is in :mod:`astf_mm.datasets.encoding`.
"""
from .ffmpeg import (VIDEO_EXTENSIONS, VideoReadError, VideoWriteError,
                     ffmpeg_version, get_ffmpeg_exe, raw_frame_bytes)
from .frames import IMAGE_EXTENSIONS, list_frame_files, natural_key
from .output_safety import (PARTIAL_MARKER, OutputPathError, atomic_folder,
                            atomic_write, atomic_write_bytes,
                            atomic_write_text, check_output_path,
                            commit_temp_dir, exit_on_sigterm, make_temp_dir,
                            remove_stale_temps, temp_sibling)
from .probe import VideoInfo, declared_frames, probe_video
from .readers import iter_pairs, read_frames, verify_video
from .writers import (SHAREABLE_CRF, FrameFolderWriter, VideoWriter,
                      default_crf, open_writer, save_frame_png, video_codec,
                      write_png_folder)

__all__ = [
    'VIDEO_EXTENSIONS', 'VideoReadError', 'VideoWriteError', 'ffmpeg_version',
    'get_ffmpeg_exe', 'raw_frame_bytes', 'IMAGE_EXTENSIONS',
    'list_frame_files', 'natural_key', 'PARTIAL_MARKER', 'OutputPathError',
    'atomic_folder', 'atomic_write', 'atomic_write_bytes', 'atomic_write_text',
    'check_output_path', 'commit_temp_dir', 'exit_on_sigterm', 'make_temp_dir',
    'remove_stale_temps', 'temp_sibling', 'VideoInfo', 'declared_frames',
    'probe_video', 'iter_pairs', 'read_frames', 'verify_video',
    'SHAREABLE_CRF', 'FrameFolderWriter', 'VideoWriter', 'default_crf',
    'open_writer', 'save_frame_png', 'video_codec', 'write_png_folder'
]
