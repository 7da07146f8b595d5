"""Tests of astf_mm.datasets.encoding: x265 at a fixed QP, lossless
intermediates."""
import numpy as np
import pytest

from astf_mm.datasets.encoding import encode_hevc_qp, transcode_lossless
from astf_mm.io import probe_video, read_frames
from tests.test_io.clips import leftovers, psnr, textured_clip, write_video


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
