"""Validation and test write image strips (input, every stage, mask, GT)
through the default runtime's SampleImagesHook and FrameStripVisualizer;
the panels hold exactly the frames the model saw and produced."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.runner import Runner

from astf_mm.apis import init_astf_model
from astf_mm.engine import SampleImagesHook
from astf_mm.io import read_frames
from astf_mm.visualization import FrameStripVisualizer, frame_strip, title_band
from astf_mm.visualization.frame_strip import GAP, TITLE_HEIGHT
from tests.utils import (ROOT, SAMPLE_STAGE1, make_frames_dataset,
                         make_tiny_astf, tiny_overrides)


def panels_of(strip: np.ndarray, count: int, h: int, w: int) -> list:
    """Cut a strip of ``count`` equal (h, w) panels back into panels."""
    assert strip.shape == (TITLE_HEIGHT + h, count * w + (count - 1) * GAP,
                           3)
    return [
        strip[TITLE_HEIGHT:, i * (w + GAP):i * (w + GAP) + w]
        for i in range(count)
    ]


def read_rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_frame_strip_layout_keeps_every_pixel():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    strip = frame_strip([('a', a), ('b', b)])
    assert strip.shape == (TITLE_HEIGHT + 10, 12 + GAP + 5, 3)
    np.testing.assert_array_equal(strip[TITLE_HEIGHT:, :12], a)
    np.testing.assert_array_equal(strip[TITLE_HEIGHT:TITLE_HEIGHT + 6, 16:],
                                  b)
    assert (strip[TITLE_HEIGHT + 6:, 16:] == 255).all()  # padding below b
    assert (strip[:, 12:16] == 255).all()  # the gap
    band = title_band('GT', 40)
    assert band.shape == (TITLE_HEIGHT, 40, 3)
    assert band.min() < 64 and (band == 255).mean() > 0.8  # dark text


def test_strip_of_a_sample_picks_frames_and_keys():
    clip = torch.arange(3 * 3 * 4 * 5, dtype=torch.float32).reshape(
        3, 3, 4, 5)  # (t, c, h, w) on 0-255
    mask = torch.full((3, 1, 4, 5), 127.6)
    sample = DataSample(
        gt_img=clip + 1,
        metainfo=dict(img_path=[f'lq/v1/{i:08d}.png' for i in range(3)]))
    sample.output = DataSample(pred_img=clip, mask_img=mask)
    visualizer = FrameStripVisualizer(name='strip-test-keys')
    strip = visualizer.strip_of(sample)
    output, mask_panel, gt = panels_of(strip, 3, 4, 5)
    # samples hold BGR (mmagic's DataPreprocessor.destruct); strips are RGB
    middle = clip[1].permute(1, 2, 0).numpy()[..., ::-1]
    np.testing.assert_array_equal(output, middle.astype(np.uint8))
    np.testing.assert_array_equal(gt, (middle + 1).astype(np.uint8))
    assert (mask_panel == 128).all()  # rounded, grey to three channels
    assert visualizer.image_name(sample) == 'v1'
    assert visualizer.image_name(DataSample(img_path='a/b.png')) == 'b'
    assert visualizer.image_name(DataSample(sample_idx=3)) == 'sample3'
    first = FrameStripVisualizer(
        name='strip-test-frame', img_keys={'gt_img': 'GT'}, frame=0)
    np.testing.assert_array_equal(
        first.strip_of(sample)[TITLE_HEIGHT:],
        (clip[0] + 1).permute(1, 2, 0).numpy()[..., ::-1].astype(np.uint8))
    with pytest.raises(KeyError, match=r"none of \['lq_img'\]"):
        FrameStripVisualizer(
            name='strip-test-none', img_keys={
                'lq_img': 'input'
            }).strip_of(sample)
    with pytest.raises(ValueError, match='max_samples >= 0'):
        SampleImagesHook(max_samples=-1)


def test_validation_writes_strips_of_input_output_and_gt(tmp_path):
    data_root = make_frames_dataset(
        tmp_path / 'data', {
            'train': ['a'],
            'val': ['c', 'd']
        }, num_frames=3)
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    options = tiny_overrides(data_root, tmp_path / 'work', max_iters=1)
    # a config that sets custom_hooks keeps the images (a default hook)
    options.update({
        'custom_hooks': [],
        'default_hooks.visualization.max_samples': 1,
        'visualizer.name': 'strip-test-val',
    })
    cfg.merge_from_dict(options)
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    runner.train()

    strips = glob.glob(
        str(tmp_path / 'work' / '*' / 'vis_data' / 'vis_image' / '*.png'))
    # max_samples=1: the first validation video only, at iteration 1
    assert [osp.basename(s) for s in strips] == ['c_1.png']
    lq = np.stack(list(read_frames(str(data_root / 'lq' / 'c'))))
    gt = np.stack(list(read_frames(str(data_root / 'gt' / 'c'))))
    with torch.no_grad():
        x = torch.from_numpy(lq).permute(0, 3, 1, 2)[None].float() / 255
        out = runner.model.generator(x)[0, 1].clamp(0, 1) * 255
    expected = out.permute(1, 2, 0).round().byte().numpy()
    strip_input, strip_output, strip_gt = panels_of(
        read_rgb(strips[0]), 3, 64, 72)
    np.testing.assert_array_equal(strip_input, lq[1])  # the middle frame
    np.testing.assert_array_equal(strip_gt, gt[1])
    np.testing.assert_array_equal(strip_output, expected)


def test_astf_test_run_writes_every_stage(tmp_path):
    setup = make_tiny_astf(tmp_path)
    cfg = Config.fromfile(str(setup['config']))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'),
        'test_evaluator': dict(type='Evaluator', metrics=[dict(type='PSNR')]),
        'custom_hooks': [],
        'visualizer.name': 'strip-test-astf',
    })
    cfg.launcher = 'none'
    Runner.from_cfg(cfg).test()

    strips = sorted(
        glob.glob(str(tmp_path / 'work' / '*' / 'vis_data' / 'vis_image' /
                      '*.png')))
    assert [osp.basename(s) for s in strips] == ['c_0.png', 'd_0.png']
    model = init_astf_model(str(setup['config']))
    lq = np.stack(list(read_frames(str(setup['data_root'] / 'lq' / 'c'))))
    gt = np.stack(list(read_frames(str(setup['data_root'] / 'gt' / 'c'))))
    with torch.no_grad():
        x = torch.from_numpy(lq).permute(0, 3, 1, 2)[None].float() / 255
        rows = model.enhance(x)
    middle = lq.shape[0] // 2

    def frame(key):
        value = rows[key][0, middle] * 255
        value = value.permute(1, 2, 0).round().byte().numpy()
        return np.repeat(value, 3, axis=2) if key == 'mask' else value

    expected = [lq[middle]] + [
        frame(k) for k in ('stage1', 'enhancenet1', 'enhancenet2', 'fused',
                           'fused_sharp', 'mask')
    ] + [gt[middle]]
    panels = panels_of(read_rgb(strips[0]), 8, 48, 56)
    for got, want in zip(panels, expected):
        np.testing.assert_array_equal(got, want)
