"""tools/eval_temporal.py: rows, per-video JSON, matching and errors."""
import importlib.util
import json
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest

from astf_mm.evaluation import tlp, tof, warping_error
from tests.test_evaluation.clips import (flicker_and_smooth, random_lpips,
                                         realish_clip)

ROOT = Path(__file__).resolve().parents[2]


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'eval_temporal', ROOT / 'tools' / 'eval_temporal.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_frames(folder: Path, video: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for i, frame in enumerate(video):
        cv2.imwrite(str(folder / f'{i:08d}.png'), frame[..., ::-1])


def test_cli_rows_and_per_video_json(tmp_path, monkeypatch, capsys):
    gt_a, smooth_a, flicker_a = flicker_and_smooth()
    out_b, gt_b = realish_clip(64, 64, 4)
    for name, gt, smooth, flicker in (('a', gt_a, smooth_a, flicker_a),
                                      ('b', gt_b, out_b, gt_b)):
        write_frames(tmp_path / 'gt' / name, gt)
        write_frames(tmp_path / 'smooth' / name, smooth)
        write_frames(tmp_path / 'flicker' / name, flicker)
        write_frames(tmp_path / 'lq' / name, smooth)
    net = random_lpips()
    cli = load_cli()
    monkeypatch.setattr(cli, 'default_lpips', lambda *args: net)
    out_json = tmp_path / 'res' / 'temporal.json'
    assert cli.main([
        '--gt',
        str(tmp_path / 'gt'), '--pred',
        str(tmp_path / 'smooth'),
        str(tmp_path / 'flicker'), '--names', 'smooth', 'flicker', '--lq',
        str(tmp_path / 'lq'), '--flow-source', 'lq', '--out',
        str(out_json)
    ]) == 0
    results = json.loads(out_json.read_text())
    assert [r['name'] for r in results['rows']] == ['smooth', 'flicker']
    flicker_row = results['rows'][1]
    a, b = flicker_row['per_video']
    assert (a['video'], b['video']) == ('a', 'b')
    assert a['tOF'] == pytest.approx(tof(flicker_a, gt_a), rel=1e-6)
    assert a['tLP'] == pytest.approx(tlp(flicker_a, gt_a, net), rel=1e-6)
    assert a['WarpingError'] == pytest.approx(
        warping_error(flicker_a, smooth_a), rel=1e-6)
    assert b['tOF'] == 0.0  # flicker row of 'b' is its ground truth
    assert flicker_row['mean']['tOF'] == pytest.approx(a['tOF'] / 2)
    assert results['settings']['farneback']['winsize'] == 15
    assert not [p for p in out_json.parent.iterdir() if p != out_json]
    table = capsys.readouterr().out
    assert 'flicker' in table and 'WarpingError' in table


def test_cli_single_folder_and_mismatch(tmp_path, capsys):
    gt, smooth, _ = flicker_and_smooth()
    write_frames(tmp_path / 'gt', gt)
    write_frames(tmp_path / 'out', smooth)
    write_frames(tmp_path / 'short', smooth[:4])
    cli = load_cli()
    assert cli.main([
        '--gt',
        str(tmp_path / 'gt'), '--pred',
        str(tmp_path / 'out'), '--metrics', 'tof'
    ]) == 0
    assert f'{tof(smooth, gt):.6g}' in capsys.readouterr().out
    with pytest.raises(ValueError, match=osp.join('short') + '.*4 frames'):
        cli.main([
            '--gt',
            str(tmp_path / 'gt'), '--pred',
            str(tmp_path / 'short'), '--metrics', 'warp'
        ])
