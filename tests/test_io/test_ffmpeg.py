"""Tests of astf_mm.io.ffmpeg: discovery, version, stderr, raw sizes."""
import os.path as osp

import pytest

from astf_mm.io import ffmpeg


def test_ffmpeg_discovery(monkeypatch, tmp_path):
    real = ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv('ASTF_FFMPEG', str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='ASTF_FFMPEG'):
        ffmpeg.get_ffmpeg_exe()
    monkeypatch.setenv('ASTF_FFMPEG', real)
    assert ffmpeg.get_ffmpeg_exe() == real
    assert osp.isfile(real)


def test_ffmpeg_version_is_the_first_line():
    assert ffmpeg.ffmpeg_version().startswith('ffmpeg version ')
    assert '\n' not in ffmpeg.ffmpeg_version()


def test_stderr_tail_and_benign_lines():
    assert ffmpeg.stderr_tail('  short\n') == 'short'
    long = 'a' * 10 + 'b' * 2000
    assert ffmpeg.stderr_tail(long) == '...' + 'b' * 2000
    assert ffmpeg.is_benign('x265 [info]: HEVC encoder version 3.5')
    assert ffmpeg.is_benign('   ')
    assert not ffmpeg.is_benign('[hevc @ 0x1] Invalid NAL unit size')


def test_raw_input_arguments():
    assert ffmpeg.raw_frame_bytes(4, 2, 'yuv420p') == 12
    assert ffmpeg.raw_frame_bytes(4, 2, 'gray16le') == 16
    with pytest.raises(ValueError, match='Unsupported raw pix_fmt "p010"'):
        ffmpeg.raw_frame_bytes(4, 2, 'p010')
    assert ffmpeg.input_args('a.yuv', (4, 2), 'yuv420p', 25) == [
        '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '4x2', '-framerate',
        '25', '-i', 'a.yuv'
    ]
    assert ffmpeg.input_args('a.mkv', None, 'yuv420p', 25) == ['-i', 'a.mkv']
    with pytest.raises(ValueError, match=r'a.yuv: a raw video has no header'):
        ffmpeg.input_args('a.yuv', None, 'yuv420p', None)
    with pytest.raises(ValueError, match=r'a.rgb: invalid size \(0, 2\)'):
        ffmpeg.check_raw_size((0, 2), 'a.rgb')
