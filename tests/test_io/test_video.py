"""Tests of astf_mm.io.video on tiny generated clips (no network)."""
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest

import astf_mm.io.video as video_mod
from astf_mm.io import (OutputPathError, VideoReadError, VideoWriteError,
                        VideoWriter, encode_hevc_qp, iter_pairs, probe_video,
                        raw_frame_bytes, read_frames, save_frame_png,
                        transcode_lossless, write_png_folder)


def textured_clip(num_frames: int = 8,
                  width: int = 64,
                  height: int = 64) -> list:
    """A smooth, textured, moving RGB clip (compresses like real content)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for t in range(num_frames):
        xs = x + 2 * t
        r = 128 + 60 * np.sin(xs / 7.0) + 30 * np.cos(y / 5.0)
        g = 128 + 50 * np.sin((xs + y) / 9.0)
        b = 100 + 40 * np.cos(xs / 4.0) * np.sin(y / 11.0) + 0.5 * y
        img = np.stack([r, g, b], axis=-1)
        img[(xs.astype(int) // 16 + y.astype(int) // 16) % 2 == 0] += 25
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * math.log10(255.0**2 / mse)


def leftovers(folder) -> list:
    return [n for n in os.listdir(folder) if '.tmp-' in n]


def write_video(path, frames, **kwargs):
    with VideoWriter(path, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)


# ---------------------------------------------------------------- writing


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


# ---------------------------------------------------------------- reading


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


# ------------------------------------------------------------- encoding


def test_encode_hevc_qp37_fixed_qp_and_plausible_psnr(tmp_path):
    frames = textured_clip(8, 64, 64)
    settings = encode_hevc_qp(frames, tmp_path / 'c.mkv', qp=37)
    # x265's own summary: every frame type at exactly QP 37
    assert settings['avg_qp'] == {'I': 37.0, 'P': 37.0}
    assert settings['num_frames'] == 8
    assert 'ipratio=1' in settings['x265_params']
    assert 'bframes=0' in settings['x265_params']
    assert settings['x265_version'] != 'unknown'
    assert settings['ffmpeg_version'].startswith('ffmpeg version')
    back = list(read_frames(tmp_path / 'c.mkv'))
    assert len(back) == 8
    values = [psnr(a, b) for a, b in zip(frames, back)]
    assert 25 < np.mean(values) < 45
    # a lower QP is closer to the source
    encode_hevc_qp(frames, tmp_path / 'q22.mkv', qp=22)
    better = [
        psnr(a, b)
        for a, b in zip(frames, read_frames(tmp_path / 'q22.mkv'))
    ]
    assert np.mean(better) > np.mean(values) + 3
    # deterministic: same input, same bytes
    encode_hevc_qp(frames, tmp_path / 'again.mkv', qp=37)
    assert (tmp_path / 'c.mkv').read_bytes() == \
        (tmp_path / 'again.mkv').read_bytes()
    assert leftovers(tmp_path) == []


def test_encode_hevc_from_path_and_raw_bitstream(tmp_path):
    write_video(tmp_path / 'src.mkv', textured_clip(6, 32, 32))
    settings = encode_hevc_qp(tmp_path / 'src.mkv', tmp_path / 'o.hevc',
                              start=1, max_frames=4)
    assert settings['num_frames'] == 4
    info = probe_video(tmp_path / 'o.hevc', count_frames=True)
    assert info.codec == 'hevc' and info.num_frames == 4
    with pytest.raises(ValueError, match='qp'):
        encode_hevc_qp(tmp_path / 'src.mkv', tmp_path / 'x.mkv', qp=60)
    with pytest.raises(ValueError, match='No frames'):
        encode_hevc_qp([], tmp_path / 'x.mkv')


def test_transcode_lossless_cut_resize(tmp_path):
    write_video(tmp_path / 'src.mkv', textured_clip(8, 64, 48))
    info = transcode_lossless(tmp_path / 'src.mkv', tmp_path / 'raw.mkv',
                              start=2, max_frames=5, resize=(32, 24))
    assert (info.width, info.height, info.num_frames) == (32, 24, 5)
    assert info.pix_fmt == 'yuv420p'
    with pytest.raises(ValueError, match='even'):
        transcode_lossless(tmp_path / 'src.mkv', tmp_path / 'x.mkv',
                           resize=(31, 24))
    # odd source sizes are cropped to even
    write_video(tmp_path / 'odd.mkv', [np.zeros((9, 11, 3), np.uint8)] * 2)
    odd = transcode_lossless(tmp_path / 'odd.mkv', tmp_path / 'even.mkv')
    assert (odd.width, odd.height) == (10, 8)


def test_iter_pairs_counts_must_match():
    a = [np.zeros(1)] * 3
    assert len(list(iter_pairs(a, a))) == 3
    with pytest.raises(VideoReadError, match='counts differ'):
        list(iter_pairs(a, a[:2], names=('gt', 'lq')))


def test_ffmpeg_discovery(monkeypatch, tmp_path):
    real = video_mod.get_ffmpeg_exe()
    monkeypatch.setenv('ASTF_FFMPEG', str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='ASTF_FFMPEG'):
        video_mod.get_ffmpeg_exe()
    monkeypatch.setenv('ASTF_FFMPEG', real)
    assert video_mod.get_ffmpeg_exe() == real
    assert osp.isfile(real)
