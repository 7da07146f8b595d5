"""Video file input/output (ffmpeg pipes, atomic writers)."""
from .video import (X265_FIXED_QP_PARAMS, FrameFolderWriter, VideoInfo,
                    VideoReadError, VideoWriteError, VideoWriter,
                    atomic_write_text, encode_hevc_qp, ffmpeg_version,
                    get_ffmpeg_exe, iter_pairs, list_frame_files, open_writer,
                    probe_video, raw_frame_bytes, read_frames, save_frame_png,
                    temp_sibling, transcode_lossless, write_png_folder)

__all__ = [
    'atomic_write_text',
    'X265_FIXED_QP_PARAMS', 'VideoInfo', 'VideoReadError', 'VideoWriteError',
    'VideoWriter', 'encode_hevc_qp', 'ffmpeg_version', 'get_ffmpeg_exe',
    'iter_pairs', 'list_frame_files', 'probe_video', 'raw_frame_bytes',
    'read_frames', 'save_frame_png', 'temp_sibling', 'transcode_lossless',
    'write_png_folder', 'FrameFolderWriter', 'open_writer'
]
