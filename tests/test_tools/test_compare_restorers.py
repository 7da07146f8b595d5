"""compare_restorers: two tiny restorers (ASTF end to end and one
EnhanceNet) on a tiny dataset, in one table with sizes and speeds."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from astf_mm.apis import init_astf_model
from astf_mm.evaluation import frame_psnr, frame_ssim, tof
from astf_mm.models import EnhanceNet
from tests.utils import ROOT, SAMPLE_STAGE1, load_tool

compare_restorers = load_tool('analysis_tools/compare_restorers.py')

METRICS = ['--metrics', 'PSNR', 'SSIM', 'tOF']
ASTF_ROWS = ['lq input', 'astf: stage-1', 'astf: cb+lpips', 'astf: lpips',
             'astf: fuse', 'astf']


def read_video(folder) -> np.ndarray:
    """(t, h, w, 3) uint8 RGB frames of a folder."""
    names = sorted(n for n in map(str, folder.iterdir()))
    return np.stack([cv2.imread(n)[..., ::-1] for n in names])


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(1, t, 3, h, w) in [0, 1] -> (t, h, w, 3) uint8, as saved."""
    return (frames[0] * 255).round().clamp(0, 255).byte().permute(
        0, 2, 3, 1).numpy()


@pytest.fixture(scope='module')
def compared(tiny_setup):
    tmp = tiny_setup['tmp']
    # the sample stage-1 config at tiny width, with a tiny checkpoint
    config = tmp / 'enhancenet_tiny.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1, '
        'spynet_pretrained=None))\n')
    checkpoint = tiny_setup['ckpts'][0]
    out = tmp / 'compare' / 'table.md'
    argv = [
        '--entry', 'astf', str(tiny_setup['config']), '--entry', 'tiny',
        str(config), checkpoint, '--data-root',
        str(tiny_setup['data_root']), '--ann-file', 'meta_info_val.txt',
        '--flops-frames', '2', '--device', 'cpu', '--out',
        str(out), *METRICS
    ]
    compare_restorers.main(argv)
    return dict(tiny_setup, out=out, argv=argv, checkpoint=checkpoint)


def test_one_table_with_astf_rows_and_costs(compared):
    report = json.load(open(compared['out'].with_suffix('.json')))
    table = report['table']
    assert list(table) == ASTF_ROWS + ['tiny']
    for row in table.values():
        assert list(row) == ['PSNR', 'SSIM', 'tOF']
        assert set(row['PSNR']) == {'c', 'd'}
    astf, tiny = report['entries']['astf'], report['entries']['tiny']
    # two videos of 4 frames each
    assert astf['frames'] == tiny['frames'] == 8
    tiny_net = EnhanceNet(mid_channels=8, num_blocks=1)
    assert tiny['parameters'] == sum(
        p.numel() for p in tiny_net.parameters())
    assert astf['parameters'] == 3 * tiny['parameters']
    for entry in (astf, tiny):
        assert entry['flops_per_frame'] > 0
        assert entry['seconds_per_frame'] > 0
        assert entry['cpu_seconds_per_frame'] > 0
        assert entry['peak_memory_mib'] >= 0
    # ASTF runs the network three times (and the fusion)
    assert astf['flops_per_frame'] > 2.5 * tiny['flops_per_frame']
    assert report['flops_clip'] == '2x3x48x56'
    markdown = compared['out'].read_text()
    assert '| tiny | 0.' in markdown and '| astf: fuse |' in markdown
    assert 'PSNR ↑ per video' in markdown


def test_metric_values_are_the_evaluation_modules(compared):
    """Recomputed here from the networks' outputs on the frames read from
    disk, with the evaluation module's functions."""
    table = json.load(open(compared['out'].with_suffix('.json')))['table']
    root = compared['data_root']
    net = EnhanceNet(mid_channels=8, num_blocks=1)
    state = torch.load(compared['checkpoint'], weights_only=False)
    net.load_state_dict({
        k[len('generator.'):]: v
        for k, v in state['state_dict'].items()
    })
    net.eval()
    astf = init_astf_model(str(compared['config']))
    for video in ('c', 'd'):
        gt = read_video(root / 'gt' / video)
        lq = read_video(root / 'lq' / video)
        lqs = torch.from_numpy(lq).permute(0, 3, 1, 2)[None].float() / 255
        with torch.no_grad():
            outputs = {'tiny': to_uint8(net(lqs))}
            rows = astf.enhance(lqs)
        outputs['astf'] = to_uint8(rows['fused_sharp'])
        outputs['astf: fuse'] = to_uint8(rows['fused'])
        outputs['lq input'] = lq
        for row, frames in outputs.items():
            psnr = np.mean([frame_psnr(o, g) for o, g in zip(frames, gt)])
            ssim = np.mean([frame_ssim(o, g) for o, g in zip(frames, gt)])
            assert table[row]['PSNR'][video] == pytest.approx(psnr, abs=1e-9)
            assert table[row]['SSIM'][video] == pytest.approx(ssim, abs=1e-9)
            assert table[row]['tOF'][video] == pytest.approx(
                tof(frames, gt), abs=1e-9)
    # the restorers change the frames
    assert table['tiny']['PSNR']['c'] != table['lq input']['PSNR']['c']


def test_plot_written(compared):
    png = compared['out'].with_suffix('.png')
    data = png.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 5000
    image = cv2.imread(str(png))
    # one panel (PSNR) without LPIPS among the metrics: 5 x 4 inches
    assert image.shape == (400, 500, 3)


def test_refuses_existing_outputs(compared, capsys):
    before = {
        p: p.read_bytes()
        for p in compared['out'].parent.iterdir()
    }
    with pytest.raises(SystemExit) as exc:
        compare_restorers.main(compared['argv'])
    assert '--out' in str(exc.value) and 'table' in str(exc.value)
    assert {p: p.read_bytes()
            for p in compared['out'].parent.iterdir()} == before


def test_refuses_an_entry_without_weights(compared, tmp_path):
    argv = [
        '--entry', 'astf', str(compared['config']), '--entry', 'tiny',
        str(compared['tmp'] / 'enhancenet_tiny.py'), '--out',
        str(tmp_path / 'x.md'), *METRICS
    ]
    with pytest.raises(ValueError, match='--entry tiny: .* names no weights'):
        compare_restorers.main(argv)
    assert list(tmp_path.iterdir()) == []


def test_refuses_entries_on_other_videos(compared, tmp_path):
    # the ASTF entry reads its config's dataset: every video of 'val';
    # the other one only video c through its own annotation file
    root = compared['data_root']
    (tmp_path / 'ann').mkdir()
    config = tmp_path / 'other.py'
    config.write_text(
        f"_base_ = '{compared['tmp'] / 'enhancenet_tiny.py'}'\n"
        f"test_dataloader = dict(dataset=dict(data_root='{root}', "
        "ann_file='meta_info_c.txt'))\n")
    (root / 'meta_info_c.txt').write_text('c 4\n')
    try:
        with pytest.raises(ValueError, match='reads other videos'):
            compare_restorers.main([
                '--entry', 'astf', str(compared['config']), '--entry',
                'other', str(config), compared['checkpoint'], '--out',
                str(tmp_path / 'x.md'), *METRICS
            ])
    finally:
        (root / 'meta_info_c.txt').unlink()
