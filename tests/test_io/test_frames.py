"""Tests of astf_mm.io.frames: frame-folder order, image files (16-bit,
alpha), frame checks."""
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest

from astf_mm.io import list_frame_files, natural_key, read_frames
from astf_mm.io.frames import check_rgb_frame


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


def test_frame_files_are_listed_in_natural_order(tmp_path):
    # mmagic's datasets read frame i as filename_tmpl.format(i): numeric
    # order. For zero-padded names it is also the plain name order.
    names = ['10.png', '2.png', '00000001.png', '1.png', 'b.jpg', 'a.png']
    for name in names:
        (tmp_path / name).write_bytes(b'')
    (tmp_path / '.hidden.png').write_bytes(b'')  # a temporary, say
    (tmp_path / 'notes.txt').write_bytes(b'')
    (tmp_path / '3.png').mkdir()  # a folder is not a frame
    assert [osp.basename(p) for p in list_frame_files(tmp_path)] == [
        '00000001.png', '1.png', '2.png', '10.png', 'a.png', 'b.jpg'
    ]
    assert list_frame_files(tmp_path, ('.jpg', )) == [str(tmp_path / 'b.jpg')]
    assert sorted(['frame_10', 'frame_9', 'frame_09'],
                  key=natural_key) == ['frame_09', 'frame_9', 'frame_10']


def test_unpadded_frame_folder_is_read_in_numeric_order(tmp_path):
    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f'{i}.png'), np.full((2, 2, 3), i,
                                                        np.uint8))
    assert [int(f[0, 0, 0]) for f in read_frames(tmp_path)] == [1, 2, 10]


def test_check_rgb_frame_names_the_frame():
    frame = np.zeros((2, 3, 3), np.uint8)
    assert check_rgb_frame(frame, 'x') is frame
    with pytest.raises(ValueError) as err:
        check_rgb_frame(np.zeros((2, 3), np.uint8), 'out.mkv: frame 4')
    assert str(err.value) == ('out.mkv: frame 4 must be (H, W, 3) uint8 RGB,'
                              ' got (2, 3) uint8.')
    with pytest.raises(ValueError, match=r'got \(2, 3, 3\) float64'):
        check_rgb_frame(np.zeros((2, 3, 3)), 'x')
