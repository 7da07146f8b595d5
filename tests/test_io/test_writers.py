"""Tests of astf_mm.io.writers: VideoWriter, FrameFolderWriter, PNG files."""
import os
import subprocess

import cv2
import numpy as np
import pytest

from astf_mm.io import (SHAREABLE_CRF, OutputPathError, VideoWriteError,
                        VideoWriter, default_crf, get_ffmpeg_exe, open_writer,
                        probe_video, read_frames, save_frame_png,
                        write_png_folder)
from tests.test_io.clips import leftovers, psnr, textured_clip, write_video


def test_ffv1_round_trip_is_bit_exact(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (48, 64, 3), np.uint8) for _ in range(5)]
    path = tmp_path / 'clip.mkv'
    write_video(path, frames, fps=25)
    back = list(read_frames(path))
    assert len(back) == 5
    for a, b in zip(frames, back):
        np.testing.assert_array_equal(a, b)
    info = probe_video(path, count_frames=True)
    assert (info.width, info.height, info.num_frames) == (64, 48, 5)
    assert info.codec == 'ffv1' and info.fps == 25
    assert leftovers(tmp_path) == []


def test_png_codec_round_trip_is_bit_exact(tmp_path):
    frames = textured_clip(3, 32, 16)
    write_video(tmp_path / 'c.mkv', frames, codec='png')
    back = list(read_frames(tmp_path / 'c.mkv'))
    for a, b in zip(frames, back):
        np.testing.assert_array_equal(a, b)


def test_mp4_lossless_default_and_crf(tmp_path):
    frames = textured_clip(4, 64, 64)
    write_video(tmp_path / 'lossless.mp4', frames)
    write_video(tmp_path / 'small.mp4', frames, crf=18)
    lossless = probe_video(tmp_path / 'lossless.mp4')
    small = probe_video(tmp_path / 'small.mp4')
    assert lossless.codec == 'h264' and lossless.pix_fmt == 'yuv444p'
    assert small.pix_fmt == 'yuv420p'
    # Lossless H.264 only loses the RGB -> YUV rounding.
    back = list(read_frames(tmp_path / 'lossless.mp4'))
    assert min(psnr(a, b) for a, b in zip(frames, back)) > 40
    with pytest.raises(ValueError, match='exclude'):
        VideoWriter(tmp_path / 'x.mp4', crf=18, lossless=True)
    with pytest.raises(ValueError, match='default codec'):
        VideoWriter(tmp_path / 'x.webm')
    # an explicit crf is refused, never dropped, for the lossless codecs
    for kwargs in (dict(), dict(codec='ffv1'), dict(codec='png')):
        with pytest.raises(ValueError,
                           match=r'x.mkv: crf=23 does not apply to (ffv1|png)'
                           r', which is always lossless'):
            VideoWriter(tmp_path / 'x.mkv', crf=23, **kwargs)
    # and honoured with libx264 in Matroska
    write_video(tmp_path / 'lossy.mkv', frames, codec='libx264', crf=30)
    info = probe_video(tmp_path / 'lossy.mkv')
    assert info.codec == 'h264' and info.pix_fmt == 'yuv420p'


def test_writer_leaves_nothing_on_exception(tmp_path):
    path = tmp_path / 'out.mkv'
    with pytest.raises(RuntimeError, match='boom'):
        with VideoWriter(path) as writer:
            writer.write(textured_clip(1)[0])
            raise RuntimeError('boom')
    assert os.listdir(tmp_path) == []


def test_writer_ffmpeg_failure_names_file_and_cleans_up(tmp_path):
    path = tmp_path / 'odd.mp4'
    # libx264 refuses odd sizes in yuv420p.
    frame = np.zeros((33, 33, 3), np.uint8)
    with pytest.raises(VideoWriteError, match='odd.mp4'):
        write_video(path, [frame], crf=23)
    assert os.listdir(tmp_path) == []


def test_writer_rejects_bad_frames(tmp_path):
    with VideoWriter(tmp_path / 'a.mkv') as writer:
        writer.write(np.zeros((8, 8, 3), np.uint8))
        with pytest.raises(ValueError, match='shape'):
            writer.write(np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(ValueError, match='uint8'):
        VideoWriter(tmp_path / 'b.mkv').write(np.zeros((8, 8, 3)))
    with pytest.raises(VideoWriteError, match='no frames'):
        VideoWriter(tmp_path / 'c.mkv').close()


def test_write_png_folder_is_atomic(tmp_path):
    frames = textured_clip(3, 16, 8)
    out = tmp_path / 'frames'
    assert write_png_folder(frames, out) == 3
    assert sorted(os.listdir(out)) == [
        '00000000.png', '00000001.png', '00000002.png'
    ]
    np.testing.assert_array_equal(
        cv2.imread(str(out / '00000001.png'))[..., ::-1], frames[1])
    with pytest.raises(OutputPathError, match='frames: is a folder that is '
                       'not empty; refusing to write into it'):
        write_png_folder(frames, out)

    def failing():
        yield frames[0]
        raise RuntimeError('decoder died')

    with pytest.raises(RuntimeError, match='decoder died'):
        write_png_folder(failing(), tmp_path / 'other')
    assert sorted(os.listdir(tmp_path)) == ['frames']
    # overwrite writes into the folder: only the names written are replaced
    write_png_folder(frames[:1], out, filename_tmpl='{:08d}.png',
                     start_idx=2, overwrite=True)
    assert sorted(os.listdir(out)) == [
        '00000000.png', '00000001.png', '00000002.png'
    ]
    np.testing.assert_array_equal(
        cv2.imread(str(out / '00000002.png'))[..., ::-1], frames[0])
    np.testing.assert_array_equal(
        cv2.imread(str(out / '00000001.png'))[..., ::-1], frames[1])
    assert sorted(os.listdir(tmp_path)) == ['frames']


def test_save_frame_png(tmp_path):
    frame = textured_clip(1, 16, 8)[0]
    save_frame_png(tmp_path / 'a.png', frame)
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / 'a.png'))[..., ::-1], frame)
    assert os.listdir(tmp_path) == ['a.png']
    with pytest.raises(ValueError):
        save_frame_png(tmp_path / 'b.png', frame[..., 0])


@pytest.mark.parametrize('name', ['v.mkv', 'frames'])
def test_both_writers_check_frames_and_abort_alike(tmp_path, name):
    path = tmp_path / name
    with open_writer(path) as writer:
        writer.write(np.zeros((4, 4, 3), np.uint8))
        with pytest.raises(ValueError) as err:
            writer.write(np.zeros((4, 4), np.uint8))
        assert str(err.value) == (f'{path}: frame 1 must be (H, W, 3) uint8 '
                                  'RGB, got (4, 4) uint8.')
        writer.write(np.ones((4, 4, 3), np.uint8))
    assert writer.num_frames == 2
    assert [f[0, 0, 0] for f in read_frames(path)] == [0, 1]
    other = tmp_path / f'other_{name}'
    writer = open_writer(other)
    writer.write(np.zeros((4, 4, 3), np.uint8))
    assert leftovers(tmp_path) != []
    writer.abort()
    assert leftovers(tmp_path) == []
    assert not other.exists()


def test_default_crf_shareable_files_only(tmp_path):
    # .mp4/.mov in x264/x265: near-lossless 4:2:0; everything else lossless
    assert default_crf('a.mp4') == SHAREABLE_CRF == 10
    assert default_crf('a.MOV') == 10
    assert default_crf('a.mp4', 'libx265') == 10
    assert default_crf('a.mkv') is None
    assert default_crf('a.mkv', 'libx264') is None
    assert default_crf('a.mp4', 'ffv1') is None
    # HEVC in MP4 carries the 'hvc1' tag Safari/QuickTime need
    write_video(tmp_path / 'h.mp4', textured_clip(2, 64, 64),
                codec='libx265', crf=SHAREABLE_CRF)
    proc = subprocess.run(
        [get_ffmpeg_exe(), '-hide_banner', '-i', str(tmp_path / 'h.mp4')],
        capture_output=True, text=True)
    assert 'hevc' in proc.stderr and '(hvc1 /' in proc.stderr
