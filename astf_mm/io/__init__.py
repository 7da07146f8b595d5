"""Video file input/output (ffmpeg pipes, atomic writers)."""
from .video import (PARTIAL_MARKER, X265_FIXED_QP_PARAMS, FrameFolderWriter,
                    OutputPathError, VideoInfo, VideoReadError,
                    VideoWriteError, VideoWriter, atomic_folder,
                    atomic_write_text, check_output_path, commit_temp_dir,
                    encode_hevc_qp, exit_on_sigterm, ffmpeg_version,
                    get_ffmpeg_exe, iter_pairs, list_frame_files,
                    make_temp_dir, open_writer, probe_video, raw_frame_bytes,
                    read_frames, remove_stale_temps, save_frame_png,
                    temp_sibling, transcode_lossless, video_codec,
                    write_png_folder)

__all__ = [
    'atomic_write_text',
    'X265_FIXED_QP_PARAMS', 'VideoInfo', 'VideoReadError', 'VideoWriteError',
    'VideoWriter', 'encode_hevc_qp', 'ffmpeg_version', 'get_ffmpeg_exe',
    'iter_pairs', 'list_frame_files', 'probe_video', 'raw_frame_bytes',
    'read_frames', 'save_frame_png', 'temp_sibling', 'transcode_lossless',
    'write_png_folder', 'FrameFolderWriter', 'open_writer', 'PARTIAL_MARKER',
    'OutputPathError', 'atomic_folder', 'check_output_path',
    'commit_temp_dir', 'exit_on_sigterm', 'make_temp_dir',
    'remove_stale_temps', 'video_codec'
]
