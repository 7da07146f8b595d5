"""ASTFInferencer: the OpenMMLab-style Python API gives, frame for frame,
what ``tools/enhance_video.py`` writes, and never replaces an output."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

from astf_mm.apis import ASTFInferencer
from astf_mm.datasets.encoding import encode_hevc_qp
from astf_mm.io import OutputPathError, read_frames, write_png_folder
from astf_mm.models import ASTF
from tests.utils import ROOT, load_tool, make_tiny_astf

enhance_video = load_tool('enhance_video.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    setup = make_tiny_astf(tmp_path_factory.mktemp('astf'))
    clip = setup['tmp'] / 'clip.mkv'
    yy, xx = np.mgrid[0:48, 0:64]
    frames = [
        np.stack([(xx * 4 + t * 3) % 256, (yy * 5) % 256, (xx + yy + t) % 256],
                 -1).astype(np.uint8) for t in range(6)
    ]
    encode_hevc_qp(frames, str(clip), qp=37, fps=25)
    setup['clip'] = clip
    setup['inferencer'] = ASTFInferencer(
        str(setup['config']), device='cpu', show_progress=False)
    return setup


def stack(path) -> np.ndarray:
    return np.stack(list(read_frames(str(path))))


def test_matches_enhance_video_frame_for_frame(tiny, tmp_path):
    cli_out = tmp_path / 'cli.mkv'
    args = enhance_video.parse_args([
        str(tiny['clip']), '--output',
        str(cli_out), '--config',
        str(tiny['config']), '--max-seq-len', '2', '--save-intermediates',
        str(tmp_path / 'inter'), '--save-mask',
        str(tmp_path / 'mask.mkv'), '--device', 'cpu'
    ])
    enhance_video.enhance_video(args)

    api_out = tmp_path / 'api.mkv'
    result = tiny['inferencer'](
        str(tiny['clip']),
        out_path=str(api_out),
        max_seq_len=2,
        intermediates=True)

    assert result['visualization'] == [str(api_out)]
    (pred, ) = result['predictions']
    assert sorted(pred) == [
        'enhanced', 'enhancenet1', 'enhancenet2', 'fused', 'lq', 'mask',
        'stage1'
    ]
    cli = stack(cli_out)
    assert pred['enhanced'].shape == cli.shape == (6, 48, 64, 3)
    assert pred['enhanced'].dtype == np.uint8
    np.testing.assert_array_equal(pred['enhanced'], cli)
    np.testing.assert_array_equal(stack(api_out), cli)
    for name in ('stage1', 'enhancenet1', 'enhancenet2', 'fused'):
        written = stack(tmp_path / 'inter' / f'{name}.mkv')
        np.testing.assert_array_equal(pred[name], written)
    np.testing.assert_array_equal(
        pred['mask'][..., 0],
        stack(tmp_path / 'mask.mkv')[..., 0])
    np.testing.assert_array_equal(pred['lq'], stack(tiny['clip']))
    # the networks did something: the output is not the input
    assert np.abs(pred['enhanced'].astype(int) - pred['lq']).max() > 0


def test_folder_and_array_inputs_give_the_same_frames(tiny, tmp_path):
    lq = stack(tiny['clip'])
    folder = tmp_path / 'lq_frames'
    write_png_folder(lq, folder)
    inferencer = tiny['inferencer']
    from_file = inferencer(str(tiny['clip']))['predictions'][0]['enhanced']
    out_folder = tmp_path / 'out_frames'
    result = inferencer([str(folder), lq], out_path=[str(out_folder), None])
    from_folder, from_array = (p['enhanced'] for p in result['predictions'])
    np.testing.assert_array_equal(from_folder, from_file)
    np.testing.assert_array_equal(from_array, from_file)
    assert result['visualization'] == [str(out_folder), None]
    assert sorted(os.listdir(out_folder)) == [f'{i:08d}.png' for i in range(6)]
    np.testing.assert_array_equal(stack(out_folder), from_file)
    # max_frames stops early
    first = inferencer(lq, max_frames=3)['predictions'][0]['enhanced']
    assert first.shape == (3, 48, 64, 3)


def test_refuses_an_existing_output_before_enhancing(tiny, tmp_path,
                                                     monkeypatch):
    calls = []
    original = ASTF.enhance_chunk
    monkeypatch.setattr(
        ASTF, 'enhance_chunk',
        lambda self, lqs: calls.append(1) or original(self, lqs))
    out = tmp_path / 'out.mkv'
    out.write_bytes(b'not mine')
    inferencer = tiny['inferencer']
    with pytest.raises(OutputPathError, match='exists; refusing to replace'):
        inferencer(str(tiny['clip']), out_path=str(out))
    assert calls == [] and out.read_bytes() == b'not mine'
    # an input is never an output, even with overwrite
    with pytest.raises(OutputPathError, match='is the input'):
        inferencer(str(tiny['clip']), out_path=str(tiny['clip']),
                   overwrite=True)
    with pytest.raises(ValueError, match=r'names 1 output\(s\) for 2 input'):
        inferencer([str(tiny['clip'])] * 2, out_path=str(tmp_path / 'a.mkv'))
    assert calls == []
    # overwrite=True replaces it, and nothing else is left beside it
    result = inferencer(str(tiny['clip']), out_path=str(out), overwrite=True)
    np.testing.assert_array_equal(
        stack(out), result['predictions'][0]['enhanced'])
    assert sorted(os.listdir(tmp_path)) == ['out.mkv']


def test_bad_inputs_are_named(tiny, tmp_path):
    inferencer = tiny['inferencer']
    missing = tmp_path / 'missing.mkv'
    with pytest.raises(FileNotFoundError, match='missing.mkv does not exist'):
        inferencer(str(missing))
    with pytest.raises(ValueError, match=r'\(t, h, w, 3\) uint8 RGB frames, '
                       r'got float32 of shape \(2, 8, 8, 3\)'):
        inferencer(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match='the array input holds no frames'):
        inferencer(np.zeros((0, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='batch_size=2'):
        inferencer(str(tiny['clip']), batch_size=2)
    with pytest.raises(FileNotFoundError, match='nope.py does not exist'):
        ASTFInferencer(str(tmp_path / 'nope.py'))


def test_a_model_without_stage1_has_no_stage1_row(tiny, tmp_path):
    config = tmp_path / 'no_stage1.py'
    config.write_text(
        f"_base_ = '{tiny['config']}'\n"
        'model = dict(stage1=None, stage1_ensemble=None)\n')
    inferencer = ASTFInferencer(str(config), device='cpu', show_progress=False)
    lq = stack(tiny['clip'])
    pred = inferencer(lq, intermediates=True)['predictions'][0]
    assert sorted(pred) == [
        'enhanced', 'enhancenet1', 'enhancenet2', 'fused', 'lq', 'mask'
    ]
    with torch.no_grad():
        rows = inferencer.model.enhance(
            torch.from_numpy(lq).permute(0, 3, 1, 2)[None].float() / 255)
    expected = (rows['fused_sharp'][0].clamp(0, 1) * 255).round().byte()
    np.testing.assert_array_equal(pred['enhanced'],
                                  expected.permute(0, 2, 3, 1).numpy())


def test_datasamples_carry_the_model_keys(tiny):
    lq = stack(tiny['clip'])
    result = tiny['inferencer'](
        lq, return_datasamples=True, intermediates=True)
    (sample, ) = result['predictions']
    arrays = tiny['inferencer'](lq, intermediates=True)['predictions'][0]
    assert tuple(sample.pred_img.shape) == (6, 3, 48, 64)
    np.testing.assert_array_equal(
        sample.pred_img.permute(0, 2, 3, 1).numpy(), arrays['enhanced'])
    np.testing.assert_array_equal(
        sample.stage1_img.permute(0, 2, 3, 1).numpy(), arrays['stage1'])
    assert tuple(sample.mask_img.shape) == (6, 1, 48, 64)


def test_three_lines_with_the_sample_models(tmp_path, monkeypatch):
    # the shipped sample models, from a folder outside the checkout, on
    # the first frames of the demo clip; the same as the command line
    demo = osp.join(ROOT, 'data/sample/demo/carphone_qp37.mkv')
    if not osp.exists(demo):
        pytest.skip(f'{demo} missing: run tools/data/make_sample_data.py')
    clip = tmp_path / 'carphone_4.mkv'
    from astf_mm.io import open_writer
    with open_writer(str(clip), fps=25) as writer:
        for frame in read_frames(demo, max_frames=4):
            writer.write(frame)
    monkeypatch.chdir(tmp_path)

    inferencer = ASTFInferencer(device='cpu')
    result = inferencer('carphone_4.mkv', out_path='enhanced.mkv')

    api = result['predictions'][0]['enhanced']
    assert api.shape == (4, 144, 176, 3)
    np.testing.assert_array_equal(stack(tmp_path / 'enhanced.mkv'), api)
    monkeypatch.chdir(ROOT)
    args = enhance_video.parse_args([
        str(clip), '--output',
        str(tmp_path / 'cli.mkv'), '--device', 'cpu'
    ])
    enhance_video.enhance_video(args)
    np.testing.assert_array_equal(stack(tmp_path / 'cli.mkv'), api)
