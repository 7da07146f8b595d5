import pytest
import torch

from astf_mm.models.frame_padding import pad_bottom_right, pad_to_multiple


def test_reflection_keeps_the_clip_and_mirrors_it():
    frames = torch.arange(2 * 3 * 4 * 5.).view(1, 2, 3, 4, 5)
    padded = pad_bottom_right(frames, 2, 3)
    assert padded.shape == (1, 2, 3, 6, 8)
    assert torch.equal(padded[..., :4, :5], frames)
    # row 4 mirrors row 2 about the last row; column 5 mirrors column 3
    assert torch.equal(padded[..., 4, :5], frames[..., 2, :])
    assert torch.equal(padded[..., :4, 5], frames[..., :, 3])


def test_padding_larger_than_the_side_reflects_again():
    frames = torch.tensor([1., 2., 3.]).view(1, 1, 1, 1, 3)
    padded = pad_bottom_right(frames, 0, 5)
    # 1 2 3 | 2 1 | 2 3 2: each pass mirrors the padded border
    assert padded.flatten().tolist() == [1, 2, 3, 2, 1, 2, 3, 2]


def test_one_pixel_side_is_replicated():
    frames = torch.rand(1, 1, 3, 1, 4)
    padded = pad_bottom_right(frames, 3, 0)
    assert padded.shape == (1, 1, 3, 4, 4)
    assert torch.equal(padded, frames.expand(1, 1, 3, 4, 4))


@pytest.mark.parametrize('size,multiple,expected', [((31, 45), 4, (32, 48)),
                                                    ((32, 48), 4, (32, 48)),
                                                    ((9, 13), 16, (16, 16))])
def test_pad_to_multiple(size, multiple, expected):
    frames = torch.rand(1, 2, 3, *size)
    padded = pad_to_multiple(frames, multiple)
    assert padded.shape[-2:] == expected
    assert torch.equal(padded[..., :size[0], :size[1]], frames)
    if size == expected:
        assert padded is frames
