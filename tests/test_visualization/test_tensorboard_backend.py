"""TensorBoard, the optional extra (pip install "astf_mm[tensorboard]"):
the strips reach it when it is installed; without it, building the
visualizer says how to install it."""
import glob
import importlib.util
import sys

import cv2
import numpy as np
import pytest
import torch
from mmagic.structures import DataSample

from astf_mm.visualization import FrameStripVisualizer

TENSORBOARD = [dict(type='TensorboardVisBackend')]


def clip_sample() -> DataSample:
    clip = torch.arange(3 * 3 * 8 * 10, dtype=torch.float32).reshape(
        3, 3, 8, 10) % 256
    sample = DataSample(
        gt_img=255 - clip,
        metainfo=dict(img_path=[f'lq/v1/{i:08d}.png' for i in range(3)]))
    sample.output = DataSample(pred_img=clip)
    return sample


@pytest.mark.skipif(
    importlib.util.find_spec('tensorboard') is None,
    reason='tensorboard is not installed (the optional extra: '
    'pip install "astf_mm[tensorboard]")')
def test_strips_reach_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import \
        EventAccumulator
    visualizer = FrameStripVisualizer(
        name='strip-test-tb', vis_backends=TENSORBOARD, save_dir=tmp_path)
    sample = clip_sample()
    visualizer.add_datasample(sample, step=3)
    visualizer.close()
    (events, ) = glob.glob(str(tmp_path / '**' / 'events.out.tfevents*'),
                           recursive=True)
    accumulator = EventAccumulator(events)
    accumulator.Reload()
    (image, ) = accumulator.Images('v1')
    assert image.step == 3
    decoded = cv2.imdecode(
        np.frombuffer(image.encoded_image_string, np.uint8), cv2.IMREAD_COLOR)
    # PNG in TensorBoard: the same pixels as the strip (RGB there)
    np.testing.assert_array_equal(decoded[..., ::-1],
                                  visualizer.strip_of(sample))


def test_without_tensorboard_the_error_says_how_to_install(monkeypatch):
    # importing a module set to None in sys.modules raises ImportError
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)
    with pytest.raises(ImportError) as err:
        FrameStripVisualizer(name='strip-test-no-tb', vis_backends=TENSORBOARD)
    assert str(err.value).startswith(
        'TensorboardVisBackend needs the tensorboard package, which is not '
        'installed (')
    assert str(err.value).endswith(
        'pip install "astf_mm[tensorboard]" (or pip install tensorboard), '
        'or drop the backend from visualizer.vis_backends.')
    # LocalVisBackend alone needs nothing more
    FrameStripVisualizer(
        name='strip-test-local', vis_backends=[dict(type='LocalVisBackend')])
