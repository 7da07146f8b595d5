"""Tests of astf_mm.io.probe: what a file or folder holds, declared frame
counts."""
import numpy as np
import pytest

from astf_mm.io import (VideoReadError, declared_frames, probe_video,
                        write_png_folder)
from astf_mm.io.probe import _parse_stream_line
from tests.test_io.clips import textured_clip, write_video


def test_stream_line_parsing():
    line = ('h264 (High 4:4:4 Predictive) (avc1 / 0x31637661), yuv444p(tv, '
            'progressive), 64x48 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 12800 tbn')
    assert _parse_stream_line(line) == ('h264', 'yuv444p', (64, 48), 25.0)
    assert _parse_stream_line('ffv1, bgr0, 8x4, 1k tbr') == (
        'ffv1', 'bgr0', (8, 4), 1000.0)


def test_probe_folder_and_container(tmp_path):
    write_png_folder(textured_clip(3, 16, 8), tmp_path / 'f')
    assert probe_video(tmp_path / 'f') == probe_video(str(tmp_path / 'f'))
    info = probe_video(tmp_path / 'f')
    assert (info.width, info.height, info.num_frames, info.fps, info.codec,
            info.pix_fmt) == (16, 8, 3, None, 'images', 'rgb24')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(VideoReadError, match='empty: folder has no image'):
        probe_video(tmp_path / 'empty')
    write_video(tmp_path / 'c.mkv', textured_clip(5, 32, 16), fps=10)
    info = probe_video(tmp_path / 'c.mkv')
    assert (info.width, info.height, info.fps, info.codec) == (32, 16, 10,
                                                               'ffv1')
    assert info.num_frames is None  # only counted on request
    assert probe_video(tmp_path / 'c.mkv', count_frames=True).num_frames == 5


def test_declared_frames_of_matroska_and_raw_streams(tmp_path):
    # ffmpeg's Matroska muxer writes a DURATION tag: an estimate
    write_video(tmp_path / 'c.mkv', textured_clip(7, 16, 16), fps=25)
    assert declared_frames(tmp_path / 'c.mkv') == (7, False)
    (tmp_path / 'x.yuv').write_bytes(np.zeros(6 * 4 * 2, np.uint8).tobytes())
    assert declared_frames(tmp_path / 'x.yuv') is None
