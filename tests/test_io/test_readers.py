"""Tests of astf_mm.io.readers: frames of videos, raw files and folders;
inputs that used to pass silently (truncated sources, raw bitstreams cut
inside their last frame)."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from astf_mm.datasets.encoding import encode_hevc_qp
from astf_mm.io import (VideoReadError, declared_frames, get_ffmpeg_exe,
                        iter_pairs, probe, probe_video, raw_frame_bytes,
                        read_frames, save_frame_png, verify_video,
                        write_png_folder)
from tests.test_io.clips import textured_clip, write_video
from tests.utils import ROOT


def test_read_start_max_frames_and_fps(tmp_path):
    frames = textured_clip(8, 32, 32)
    write_video(tmp_path / 'c.mkv', frames, fps=25)
    part = list(read_frames(tmp_path / 'c.mkv', start=2, max_frames=3))
    assert len(part) == 3
    for a, b in zip(part, frames[2:5]):
        np.testing.assert_array_equal(a, b)
    assert list(read_frames(tmp_path / 'c.mkv', max_frames=0)) == []
    # 25 -> 12.5 fps keeps every other frame
    assert len(list(read_frames(tmp_path / 'c.mkv', fps=12.5))) == 4
    with pytest.raises(ValueError):
        read_frames(tmp_path / 'c.mkv', start=-1)


def test_early_stop_does_not_hang(tmp_path):
    write_video(tmp_path / 'c.mkv', textured_clip(8, 32, 32))
    it = read_frames(tmp_path / 'c.mkv')
    next(it)
    it.close()  # kills ffmpeg quietly


def test_yuv_needs_size_and_is_checked(tmp_path):
    w, h = 4, 2
    assert raw_frame_bytes(w, h, 'yuv420p') == 12
    assert raw_frame_bytes(5, 3, 'yuv420p') == 15 + 2 * 3 * 2
    assert raw_frame_bytes(w, h, 'yuv444p10le') == 48
    # Y = U = V = 128 (limited range) is grey (128 - 16) * 255 / 219 = 130.4
    path = tmp_path / 'grey.yuv'
    path.write_bytes(bytes([128]) * 12 * 3)
    with pytest.raises(ValueError, match='size=\\(width, height\\)'):
        read_frames(path)
    frames = list(read_frames(path, size=(w, h)))
    assert len(frames) == 3
    assert frames[0].shape == (2, 4, 3)
    assert np.all(frames[0] == 130)
    assert probe_video(path, size=(w, h)).num_frames == 3
    path.write_bytes(bytes([128]) * 30)  # 2.5 frames
    with pytest.raises(VideoReadError, match='grey.yuv.*whole number'):
        read_frames(path, size=(w, h))


def test_raw_rgb_file_round_trip(tmp_path):
    frames = textured_clip(2, 8, 4)
    path = tmp_path / 'x.rgb'
    path.write_bytes(b''.join(f.tobytes() for f in frames))
    back = list(read_frames(path, size=(8, 4), pix_fmt='rgb24'))
    for a, b in zip(frames, back):
        np.testing.assert_array_equal(a, b)


def test_folder_input(tmp_path):
    frames = textured_clip(4, 16, 8)
    write_png_folder(frames, tmp_path / 'f')
    back = list(read_frames(tmp_path / 'f', start=1, max_frames=2))
    np.testing.assert_array_equal(back[0], frames[1])
    np.testing.assert_array_equal(back[1], frames[2])
    info = probe_video(tmp_path / 'f')
    assert (info.width, info.height, info.num_frames) == (16, 8, 4)
    # a frame of another size
    save_frame_png(tmp_path / 'f' / '00000009.png', frames[0][:4])
    with pytest.raises(VideoReadError, match='00000009.png'):
        list(read_frames(tmp_path / 'f'))
    # a corrupt frame
    (tmp_path / 'f' / '00000009.png').write_bytes(b'not a png')
    with pytest.raises(VideoReadError, match='00000009.png.*corrupt'):
        list(read_frames(tmp_path / 'f'))
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(VideoReadError, match='empty'):
        read_frames(tmp_path / 'empty')
    with pytest.raises(ValueError, match='fps'):
        read_frames(tmp_path / 'f', fps=10)


def test_missing_and_garbage_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.mp4'):
        read_frames(tmp_path / 'nope.mp4')
    garbage = tmp_path / 'garbage.mp4'
    garbage.write_bytes(np.random.default_rng(1).bytes(4000))
    with pytest.raises(VideoReadError, match='garbage.mp4'):
        read_frames(garbage)
    with pytest.raises(ValueError, match='only for raw'):
        read_frames(garbage, size=(4, 4))


def test_truncated_mp4_raises_naming_file(tmp_path):
    frames = textured_clip(12, 64, 64)
    full = tmp_path / 'full.mp4'
    # VideoWriter puts the mp4 index first (+faststart), so the cut file
    # still opens and the damage shows while decoding.
    write_video(full, frames, crf=30)
    data = full.read_bytes()
    cut = tmp_path / 'cut.mp4'
    cut.write_bytes(data[:int(len(data) * 0.6)])
    with pytest.raises(VideoReadError, match='cut.mp4'):
        list(read_frames(cut))
    assert len(list(read_frames(full))) == 12


def test_truncated_mkv_and_hevc_raise_naming_file(tmp_path):
    frames = textured_clip(6, 64, 64)
    encode_hevc_qp(frames, tmp_path / 'full.mkv')
    data = (tmp_path / 'full.mkv').read_bytes()
    (tmp_path / 'cut.mkv').write_bytes(data[:int(len(data) * 0.7)])
    with pytest.raises(VideoReadError, match='cut.mkv'):
        list(read_frames(tmp_path / 'cut.mkv'))
    # A raw HEVC bitstream cut just after the start of its I-frame slice:
    # FFmpeg's decoder returns a damaged frame without complaint unless told
    # to stop on errors (strict=True, the default). (A cut deeper inside a
    # slice of a raw bitstream can go unnoticed: see read_frames.)
    encode_hevc_qp(textured_clip(4, 176, 144), tmp_path / 'full.hevc')
    data = (tmp_path / 'full.hevc').read_bytes()
    start, _ = idr_slice_span(data)
    (tmp_path / 'cut.hevc').write_bytes(data[:start + 20])
    with pytest.raises(VideoReadError, match='cut.hevc'):
        list(read_frames(tmp_path / 'cut.hevc'))
    assert len(list(read_frames(tmp_path / 'cut.hevc', strict=False))) == 1


def idr_slice_span(data: bytes) -> tuple:
    """Byte span of the first IDR/CRA slice NAL unit of an Annex-B stream."""
    starts = []
    i = data.find(b'\x00\x00\x01')
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b'\x00\x00\x01', i + 3)
    for k, pos in enumerate(starts):
        nal_type = (data[pos] >> 1) & 0x3F
        if 19 <= nal_type <= 21:
            end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
            return pos, end
    raise AssertionError('no IDR slice found')


def test_iter_pairs_counts_must_match():
    a = [np.zeros(1)] * 3
    assert len(list(iter_pairs(a, a))) == 3
    with pytest.raises(VideoReadError, match='counts differ'):
        list(iter_pairs(a, a[:2], names=('gt', 'lq')))


def ffmpeg(*args) -> None:
    subprocess.run([get_ffmpeg_exe(), '-hide_banner', '-v', 'error', *args],
                   check=True)


def halve(src, dst) -> None:
    data = open(src, 'rb').read()
    open(dst, 'wb').write(data[:len(data) // 2])


def test_truncated_mkv_is_refused_by_compress_videos(tmp_path):
    src = tmp_path / 'clip.mkv'
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25', '-frames:v',
           '84', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', str(src))
    assert declared_frames(src) == (84, False)
    assert verify_video(src) == 84
    cut = tmp_path / 'videos' / 'cut.mkv'
    cut.parent.mkdir()
    halve(src, cut)
    # the container still declares 84 frames; fewer decode
    assert declared_frames(cut) == (84, False)
    out = tmp_path / 'data'
    proc = subprocess.run([
        sys.executable, 'tools/data/compress_videos.py', '--input',
        str(cut.parent), '--out-root',
        str(out), '--preset', 'ultrafast'
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 1
    # the message starts a line (nothing before it since the known
    # third-party warnings are quiet at our entry points)
    assert any(
        line.startswith(
            f'error: {cut}: decoding errors (corrupt or truncated file)')
        for line in proc.stderr.splitlines())
    assert 'File ended prematurely' in proc.stderr
    assert not osp.exists(out / 'lq' / 'cut')
    with pytest.raises(VideoReadError, match=str(cut)):
        list(read_frames(cut))


def test_frame_count_below_the_declared_one_is_refused(
        tmp_path, monkeypatch):
    src = tmp_path / 'clip.mkv'
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=25', '-frames:v',
           '20', '-c:v', 'ffv1', str(src))
    # the readers check the count that astf_mm.io.probe reports
    monkeypatch.setattr(probe, 'declared_frames', lambda p: (25, True))
    with pytest.raises(VideoReadError) as err:
        list(read_frames(src))
    assert str(err.value) == (f'{src}: decoded 20 frames but the file '
                              'declares 25: it is truncated or corrupt.')
    monkeypatch.setattr(probe, 'declared_frames', lambda p: (21, False))
    assert len(list(read_frames(src))) == 20  # within the slack


@pytest.fixture(scope='module')
def hevc_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp('hevc')
    path = folder / 'clip.hevc'
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=128x96:rate=25', '-frames:v',
           '10', '-c:v', 'libx265', '-x265-params',
           'log-level=error:bframes=0', '-pix_fmt', 'yuv420p', '-f', 'hevc',
           str(path))
    return path


def test_complete_hevc_passes(hevc_clip):
    assert verify_video(hevc_clip) == 10


@pytest.mark.parametrize('missing', [2, 10, 20])
def test_hevc_cut_inside_its_last_frame_is_refused(hevc_clip, tmp_path,
                                                   missing):
    data = open(hevc_clip, 'rb').read()
    cut = tmp_path / 'cut.hevc'
    cut.write_bytes(data[:-missing])
    # ffmpeg itself decodes all 10 frames and says nothing
    proc = subprocess.run([
        get_ffmpeg_exe(), '-v', 'error', '-err_detect', 'explode', '-i',
        str(cut), '-f', 'framemd5', '-'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stderr == ''
    assert sum(1 for ln in proc.stdout.splitlines()
               if ln and not ln.startswith('#')) == 10
    with pytest.raises(VideoReadError) as err:
        list(read_frames(cut))
    assert str(err.value).startswith(
        f'{cut}: truncated bitstream: its last frame is cut short')
    # non-strict reading and partial reads do not pay for the check
    assert len(list(read_frames(cut, strict=False))) == 10
    assert len(list(read_frames(cut, max_frames=9))) == 9


def test_hevc_cut_inside_a_nal_header_is_refused(hevc_clip, tmp_path):
    data = open(hevc_clip, 'rb').read()
    last = data.rfind(b'\x00\x00\x01')
    cut = tmp_path / 'cut.hevc'
    cut.write_bytes(data[:last + 4])  # start code + 1 header byte
    with pytest.raises(VideoReadError, match='ends inside the header'):
        list(read_frames(cut))
