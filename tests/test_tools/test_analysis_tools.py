"""tools/analysis_tools: sharpening sweep, loss balance and per-video
evaluation of a network, on tiny networks."""
import json
import os.path as osp

import numpy as np
import pytest
import torch

from astf_mm.apis import frames_to_tensor, init_astf_model, tensor_to_frames
from astf_mm.io import read_frames
from astf_mm.models.fusion import unsharp_mask
from tests.utils import (ROOT, SAMPLE_STAGE1, load_tool, make_frames_dataset,
                         save_tiny_checkpoint, tiny_overrides)

eval_network = load_tool('analysis_tools/eval_network.py')
loss_balance = load_tool('analysis_tools/loss_balance.py')
sharpen_sweep = load_tool('analysis_tools/sharpen_sweep.py')


def _psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.**2 / mse)


class FakeScores:

    def __init__(self, psnr):
        self.psnr = psnr

    def mean(self, row, metric):
        return self.psnr[row]


def test_best_amount_is_largest_not_below_input():
    scores = FakeScores({'lq': 30., 'a=0': 30.2, 'a=0.5': 30.05,
                         'a=1': 29.9})
    assert sharpen_sweep.best_amount(scores, [0., 0.5, 1.]) == 0.5
    scores.psnr['a=0'] = scores.psnr['a=0.5'] = 29.
    assert sharpen_sweep.best_amount(scores, [0., 0.5, 1.]) is None


class FakePairScores:

    def __init__(self, values):
        self.values = values

    def mean(self, row, metric):
        return self.values[row][metric]


def test_best_candidate_is_lowest_lpips_at_its_amount():
    scores = {
        ('e1a', None): (0.2, FakePairScores({'a=0.2': {'LPIPS': 0.30}})),
        ('e1b', None): (0.1, FakePairScores({'a=0.1': {'LPIPS': 0.25}})),
        # the lowest LPIPS of all, but no amount keeps the input's PSNR
        ('e1c', None): (None, FakePairScores({'a=0': {'LPIPS': 0.10}})),
    }
    assert sharpen_sweep.best_candidate(scores) == (('e1b', None), 0.1)
    assert sharpen_sweep.best_candidate(
        {('e1c', None): scores[('e1c', None)]}) is None


def test_sweep_of_refiner_candidates_scores_each_pair_as_its_own_run(
        tiny_setup, tmp_path, real_weights):
    ckpts = tiny_setup['ckpts']
    other = save_tiny_checkpoint(tmp_path / 'e1_other.pth', 7)
    # 4:2:0 frames: the refiner runs without stage 1 decide the projection
    # on stage 1's output, and must decide as the whole model does
    data_root = make_frames_dataset(
        tmp_path / 'data', {'val': ['c', 'd']}, num_frames=4,
        size=(48, 56), chroma_420=True)
    common = [
        str(tiny_setup['config']), '--data-root',
        str(data_root), '--ann-file', 'meta_info_val.txt',
        '--amounts', '0', '0.5', '--device', 'cpu'
    ]
    # two EnhanceNet1 candidates, one EnhanceNet2: the second run repeats it
    report = sharpen_sweep.sweep(
        sharpen_sweep.parse_args(common +
                                 ['--enhancenet1', ckpts[1], other,
                                  '--enhancenet2', ckpts[2]]))
    sections = report.split('### ')[1:]
    assert [s.splitlines()[0] for s in sections] == [
        f'EnhanceNet1 `{ckpts[1]}`, EnhanceNet2 `{ckpts[2]}`',
        f'EnhanceNet1 `{other}`, EnhanceNet2 `{ckpts[2]}`'
    ]

    def rows(text):
        return [line for line in text.splitlines() if line.startswith('| ')]

    # each pair's table is the plain sweep of a model with those weights
    singles = []
    for e1 in (ckpts[1], other):
        singles.append(sharpen_sweep.sweep(
            sharpen_sweep.parse_args(
                common + ['--checkpoints', ckpts[0], e1, ckpts[2]])))
    for section, single in zip(sections, singles):
        assert rows(section) == rows(single)
    assert rows(singles[0]) != rows(singles[1])
    # the named pair has the lowest LPIPS among those whose amount keeps
    # the input's PSNR, recomputed here from the tables
    kept = []
    for section, e1 in zip(sections, (ckpts[1], other)):
        table = {r.split('|')[1].strip(): r.split('|') for r in rows(section)}
        floor = float(table['lq input'][2])
        amounts = [a for a in ('0', '0.5') if float(table[a][2]) >= floor]
        if amounts:
            kept.append((float(table[amounts[-1]][5]), e1, amounts[-1]))
    assert len({lp for lp, _, _ in kept}) == len(kept)
    last = report.splitlines()[-1]
    if kept:
        _, e1, amount = min(kept)
        assert last.startswith('Lowest LPIPS among the candidates at their '
                               f'amount: EnhanceNet1 `{e1}`, EnhanceNet2 '
                               f'`{ckpts[2]}`, amount {amount} ')
    else:
        assert last == 'No candidate keeps the input\'s PSNR at any amount.'
    # stage 1's settings reach the stage-1 run and leave the refiner runs:
    # with stage1_luma_only the candidates' table is still the plain
    # sweep's, and differs from the one without it
    luma = ['--cfg-options', 'model.stage1_luma_only=True']
    candidates = sharpen_sweep.sweep(
        sharpen_sweep.parse_args(common + ['--enhancenet1', ckpts[1], other,
                                           '--enhancenet2', ckpts[2]] +
                                 luma)).split('### ')[1]
    single = sharpen_sweep.sweep(
        sharpen_sweep.parse_args(common + ['--checkpoints', *ckpts] + luma))
    assert rows(candidates) == rows(single) != rows(singles[0])
    # a pin of one checkpoint per network cannot hold for candidates
    with pytest.raises(SystemExit):
        sharpen_sweep.parse_args(common + [
            '--enhancenet2', ckpts[2], '--sha256'
        ] + ['0' * 64] * 3)


def test_sweep_scores_match_an_independent_computation(
        tiny_setup, tmp_path, real_weights):
    out = tmp_path / 'sweep.md'
    args = sharpen_sweep.parse_args([
        str(tiny_setup['config']), '--data-root',
        str(tiny_setup['data_root']), '--ann-file', 'meta_info_val.txt',
        '--amounts', '0', '0.5', '3', '--out',
        str(out), '--out-json',
        str(tmp_path / 'sweep.json'), '--device', 'cpu'
    ])
    report = sharpen_sweep.sweep(args)
    assert out.read_text() == report
    lines = {
        line.split('|')[1].strip(): line
        for line in report.splitlines() if line.startswith('| ')
    }
    value = (lambda row, col: float(lines[row].split('|')[col]))
    # amount 0 is the fused output: PSNR from the model, computed here
    model = init_astf_model(str(tiny_setup['config']))
    psnrs, gains = [], {}
    for video in ('c', 'd'):
        root = tiny_setup['data_root']
        lq = list(read_frames(str(root / 'lq' / video)))
        gt = list(read_frames(str(root / 'gt' / video)))
        with torch.no_grad():
            fused = tensor_to_frames(
                model.enhance(frames_to_tensor(lq))['fused'][0])
        psnrs.append(np.mean([_psnr(f, g) for f, g in zip(fused, gt)]))
        gains[video] = psnrs[-1] - np.mean(
            [_psnr(f, g) for f, g in zip(lq, gt)])
    assert value('0', 2) == pytest.approx(np.mean(psnrs), abs=1e-3)
    # per video: how many lose to their input, and the worst of them
    worst = min(gains, key=gains.get)
    cells = [c.strip() for c in lines['0'].split('|')]
    assert cells[6] == f'{sum(g < 0 for g in gains.values())} of 2'
    assert cells[7] == f'{gains[worst]:+.3f} ({worst})'
    assert [c.strip() for c in lines['lq input'].split('|')][6:8] == [
        '0 of 2', '+0.000 (c)']
    # and every video's scores in the JSON
    (entry, ) = json.loads((tmp_path / 'sweep.json').read_text())
    stated = report.split("Largest amount with PSNR >= the input's: ")[1]
    assert entry['enhancenet1'] is None
    assert entry['amount'] == (None if stated.startswith('none') else float(
        stated.split('.\n')[0]))
    assert sorted(entry['videos']) == ['a=0', 'a=0.5', 'a=3', 'lq']
    assert entry['videos']['a=0']['c']['PSNR'] == pytest.approx(
        psnrs[0], abs=1e-3)
    # a strong sharpening of noisy input loses fidelity
    assert value('3', 2) < value('0.5', 2) < value('0', 2) + 0.5
    assert value('3', 3) == pytest.approx(value('3', 2) - value('lq input', 2),
                                          abs=2e-3)
    assert 'Largest amount with PSNR >= the input' in report


def test_sweep_sharpens_before_the_models_chroma_projection(
        tiny_setup, tmp_path, real_weights):
    data_root = make_frames_dataset(
        tmp_path / 'data', {'val': ['c']}, num_frames=3, chroma_420=True)
    options = ['model.chroma_420=True']
    args = sharpen_sweep.parse_args([
        str(tiny_setup['config']), '--data-root',
        str(data_root), '--ann-file', 'meta_info_val.txt', '--amounts', '0.5',
        '--device', 'cpu', '--cfg-options'
    ] + options)
    report = sharpen_sweep.sweep(args)
    row = next(line for line in report.splitlines()
               if line.startswith('| 0.5 '))
    # the row is the model's own fuse+sharp at amount 0.5, projected
    model = init_astf_model(
        str(tiny_setup['config']),
        cfg_options={
            'model.chroma_420': True,
            'model.fusion.sharpen_amount': 0.5
        })
    lq = list(read_frames(str(data_root / 'lq' / 'c')))
    gt = list(read_frames(str(data_root / 'gt' / 'c')))
    with torch.no_grad():
        out = model.enhance(frames_to_tensor(lq))
    sharp = tensor_to_frames(out['fused_sharp'][0])
    expected = np.mean([_psnr(f, g) for f, g in zip(sharp, gt)])
    assert float(row.split('|')[2]) == pytest.approx(expected, abs=1e-3)
    # and the projection changed that PSNR: without it the row differs
    plain = tensor_to_frames(
        unsharp_mask(out['fused'], amount=0.5)[0])
    assert abs(np.mean([_psnr(f, g) for f, g in zip(plain, gt)]) -
               expected) > 1e-3


def test_sweep_video_stride_takes_every_nth_video(
        tiny_setup, tmp_path, real_weights):
    args = sharpen_sweep.parse_args([
        str(tiny_setup['config']), '--data-root',
        str(tiny_setup['data_root']), '--ann-file', 'meta_info_val.txt',
        '--amounts', '0', '--video-stride', '2', '--device', 'cpu'
    ])
    report = sharpen_sweep.sweep(args)
    # the tiny split has videos c and d: stride 2 keeps c only
    assert 'on 1 videos of' in report and 'every 2th' in report
    single = tmp_path / 'meta_info_c.txt'
    single.write_text('c 4\n')
    args_c = sharpen_sweep.parse_args([
        str(tiny_setup['config']), '--data-root',
        str(tiny_setup['data_root']), '--ann-file', str(single), '--amounts',
        '0', '--device', 'cpu'
    ])
    rows = [
        line for line in report.splitlines() if line.startswith('| 0 ')
    ]
    rows_c = [
        line for line in sharpen_sweep.sweep(args_c).splitlines()
        if line.startswith('| 0 ')
    ]
    assert rows == rows_c


def test_sweep_refuses_a_stride_below_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        sharpen_sweep.parse_args(['cfg.py', '--video-stride', '0'])
    assert exit_info.value.code == 2
    assert '--video-stride must be >= 1' in capsys.readouterr().err


def test_loss_balance_measures_weighted_parts(tmp_path, real_weights):
    from mmengine.config import Config
    data_root = make_frames_dataset(
        tmp_path / 'data', num_frames=4, lq_folder='stage1')
    options = tiny_overrides(data_root, tmp_path / 'work', lq_folder='stage1')
    options['model.generator.init_cfg.checkpoint'] = save_tiny_checkpoint(
        tmp_path / 's1.pth', seed=1)
    config = osp.join(
        ROOT, 'configs/astf/sample/'
        'stage2_enhancenet2-tradeoff_c16b2_1xb4-250_sample-qp37.py')

    def run(alpha):
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(dict(options, **{'model.pixel_loss.alpha': alpha}))
        return loss_balance.measure(cfg, batches=3, seed=0)

    result = run(0.15)
    assert result['batch_shape'] == (2, 3, 3, 64, 64)
    assert len(result['ratios']) == 3
    np.testing.assert_allclose(
        result['ratios'],
        np.array(result['loss_charbonnier']) / result['loss_lpips'])
    assert all(r > 0 for r in result['ratios'])
    # the Charbonnier part scales with alpha, on the same batches
    doubled = run(0.3)
    np.testing.assert_allclose(doubled['ratios'],
                               2 * np.array(result['ratios']), rtol=1e-4)
    text = loss_balance.report(result, target=3.0)
    suggested = 0.15 * 3.0 / result['median']
    assert f'{suggested:.4g}' in text


def test_loss_balance_refuses_a_single_loss(tmp_path):
    from mmengine.config import Config
    data_root = make_frames_dataset(tmp_path / 'data', num_frames=4)
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    cfg.merge_from_dict(tiny_overrides(data_root, tmp_path / 'work'))
    with pytest.raises(TypeError, match='CharbonnierLoss'):
        loss_balance.measure(cfg, batches=1)


def test_eval_network_scores_every_video_against_its_input(
        tmp_path, monkeypatch):
    # 4:2:0 frames, as decoded video (--chroma-420 projects only those)
    data_root = make_frames_dataset(
        tmp_path / 'data', {'val': ['c', 'd']}, num_frames=4, chroma_420=True)
    ckpt = save_tiny_checkpoint(tmp_path / 'net.pth', seed=1)
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    out = tmp_path / 'eval' / 'heldout.md'
    argv = [
        str(config), ckpt, '--data-root',
        str(data_root), '--out',
        str(out), '--max-seq-len', '3', '--device', 'cpu'
    ]
    eval_network.main(argv)
    results = json.loads((tmp_path / 'eval' / 'heldout.json').read_text())
    assert sorted(results) == ['c', 'd']
    # the input's PSNR, computed independently from the files
    lq = list(read_frames(str(data_root / 'lq' / 'c')))
    gt = list(read_frames(str(data_root / 'gt' / 'c')))
    expected = np.mean([
        10 * np.log10(255.**2 / np.mean((a.astype(float) - b)**2))
        for a, b in zip(lq, gt)
    ])
    assert results['c']['PSNR lq'] == pytest.approx(expected, abs=1e-6)
    # the tiny network changes its input, so the output scores differ
    assert results['c']['PSNR out'] != results['c']['PSNR lq']
    text = out.read_text()
    gain = np.mean([r['PSNR out'] - r['PSNR lq'] for r in results.values()])
    assert '| **mean** |' in text and f'{gain:+.3f}' in text
    assert 'Worst gain:' in text
    # the table is never replaced without --overwrite
    with pytest.raises(SystemExit, match='--overwrite'):
        eval_network.main(argv)
    # --chroma-420 scores the projected output, --self-ensemble the average
    # of 8 passes (x16: 16, the reversed clip's too), --luma-only the
    # input's colour with the output's luma: another output row each, the
    # same input row, named
    built = []

    def record(passes):
        built.append(passes and real(passes).is_temporal_ensemble)
        return real(passes)

    real = eval_network.self_ensemble_of_passes
    monkeypatch.setattr(eval_network, 'self_ensemble_of_passes', record)
    for flags, title in ((['--chroma-420'], '4:2:0 chroma projection'),
                         (['--self-ensemble'], 'x8 self-ensemble'),
                         (['--self-ensemble', 'x16'], 'x16 self-ensemble'),
                         (['--luma-only'], 'luma only')):
        eval_network.main(argv + flags + ['--overwrite'])
        scored = json.loads((tmp_path / 'eval' / 'heldout.json').read_text())
        for video in ('c', 'd'):
            assert scored[video]['PSNR lq'] == results[video]['PSNR lq']
            assert abs(scored[video]['PSNR out'] -
                       results[video]['PSNR out']) > 1e-4, flags
        assert title in out.read_text()
    # x16 also runs the reversed clip (a tiny random network is too nearly
    # symmetric in time for that to move its 8-bit output)
    assert built == [None, False, True, None]
    with pytest.raises(SystemExit):
        eval_network.parse_args(argv + ['--self-ensemble', 'x4'])
    # full-chroma input: --chroma-420 leaves the output as it is
    full_root = make_frames_dataset(
        tmp_path / 'full', {'val': ['c']}, num_frames=4)
    scores = {}
    for flag in ([], ['--chroma-420']):
        full_out = tmp_path / f'full{len(flag)}' / 'heldout.md'
        eval_network.main([
            str(config), ckpt, '--data-root',
            str(full_root), '--out',
            str(full_out), '--max-seq-len', '3', '--device', 'cpu'
        ] + flag)
        scores[bool(flag)] = json.loads(
            full_out.with_suffix('.json').read_text())['c']['PSNR out']
    assert scores[True] == scores[False]
