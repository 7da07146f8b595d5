"""Inputs that used to pass silently: truncated sources, raw bitstreams cut
inside their last frame, 16-bit and RGBA frames."""
import os.path as osp
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest

from astf_mm.io import VideoReadError, get_ffmpeg_exe, read_frames
from astf_mm.io.video import declared_frames, verify_video

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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
    assert f'\nerror: {cut}: decoding errors (corrupt or truncated file)' \
        in proc.stderr
    assert 'File ended prematurely' in proc.stderr
    assert not osp.exists(out / 'lq' / 'cut')
    with pytest.raises(VideoReadError, match=str(cut)):
        list(read_frames(cut))


def test_frame_count_below_the_declared_one_is_refused(
        tmp_path, monkeypatch):
    src = tmp_path / 'clip.mkv'
    ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=25', '-frames:v',
           '20', '-c:v', 'ffv1', str(src))
    from astf_mm.io import video
    monkeypatch.setattr(video, 'declared_frames', lambda p: (25, True))
    with pytest.raises(VideoReadError) as err:
        list(read_frames(src))
    assert str(err.value) == (f'{src}: decoded 20 frames but the file '
                              'declares 25: it is truncated or corrupt.')
    monkeypatch.setattr(video, 'declared_frames', lambda p: (21, False))
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


def test_16bit_png_is_scaled_by_its_full_range(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    img = np.zeros((4, 6, 3), np.uint16)
    img[0, 0] = (65535, 32768, 257)  # BGR order in the file
    img[1, 1] = (128, 129, 0)
    cv2.imwrite(str(folder / '0.png'), img)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        frame = next(read_frames(folder))
    assert frame.dtype == np.uint8
    assert frame[0, 0].tolist() == [1, 128, 255]  # RGB
    assert frame[1, 1].tolist() == [0, 1, 0]  # round(129 * 255 / 65535)


def test_10bit_values_in_16bit_png_warn_once_per_folder(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f'{i}.png'),
                    np.full((4, 4, 3), 1023, np.uint16))
    with pytest.warns(UserWarning) as record:
        frames = list(read_frames(folder))
    messages = [str(r.message) for r in record]
    assert len(messages) == 1
    assert messages[0].startswith(
        f'{folder / "0.png"}: 16-bit image whose largest value is 1023 '
        '(<= 1023): it looks like 10-bit samples stored without scaling.')
    assert 'multiply by 64' in messages[0]
    assert frames[0].max() == 4  # round(1023 * 255 / 65535)


def test_rgba_frames_warn_that_alpha_is_dropped(tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    bgra = np.zeros((4, 4, 4), np.uint8)
    bgra[..., 0], bgra[..., 2], bgra[..., 3] = 10, 200, 0
    cv2.imwrite(str(folder / '0.png'), bgra)
    cv2.imwrite(str(folder / '1.png'), bgra)
    with pytest.warns(UserWarning) as record:
        frames = list(read_frames(folder))
    assert [str(r.message) for r in record] == [
        f'{folder / "0.png"}: its alpha channel is dropped (frames are read '
        'as RGB; transparent pixels keep the colour values they store).'
    ]
    assert frames[1][0, 0].tolist() == [200, 0, 10]
    # an RGB PNG says nothing
    cv2.imwrite(str(folder / '1.png'), bgra[..., :3])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        list(read_frames(folder, start=1))
