"""tools/enhance_video.py: what the written file costs, and its progress."""
import json
import os.path as osp

import numpy as np
import pytest

from astf_mm.evaluation import frame_psnr
from astf_mm.io import (VideoWriter, default_crf, open_writer, probe_video,
                        read_frames, write_png_folder)
from tests.test_tools.test_astf_pipeline import make_clip
from tests.utils import ROOT, load_tool

DEMO = osp.join(ROOT, 'data/sample/demo/carphone_qp37.mkv')
DEMO_SOURCE = osp.join(ROOT, 'data/sample/demo/carphone_pristine.mp4')


def enhance_video_tool():
    return load_tool('enhance_video.py')


def mean_psnr(frames, refs) -> float:
    return float(np.mean([frame_psnr(a, b) for a, b in zip(frames, refs)]))


@pytest.mark.skipif(not osp.exists(DEMO), reason='no sample data')
def test_default_mp4_costs_what_was_measured(tmp_path):
    # the demo clip's frames through the default .mp4 encoding and back;
    # benchmarks/results/output_encoding.md measured, on the enhanced
    # frames, 41.98 dB against them and a cost of 0.155 dB (CRF 18: 38.87
    # dB and 0.245 dB); the input's frames cost 0.120 dB
    frames = list(read_frames(DEMO))
    refs = list(read_frames(DEMO_SOURCE))
    out = str(tmp_path / 'demo.mp4')
    with open_writer(out, fps=30, crf=default_crf(out)) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe_video(out)
    assert (info.codec, info.pix_fmt) == ('h264', 'yuv420p')
    decoded = list(read_frames(out))
    assert mean_psnr(decoded, frames) > 41.9
    cost = mean_psnr(frames, refs) - mean_psnr(decoded, refs)
    assert 0 < cost < 0.155


def test_encoding_cost_printed_kept_and_warned(tiny_setup, tmp_path,
                                               capsys):
    enhance_video = enhance_video_tool()
    clip = tmp_path / 'clip.mkv'
    pristine = make_clip(clip)
    reference = tmp_path / 'pristine'
    write_png_folder(pristine, reference)
    config = str(tiny_setup['config'])

    def run(out, *extra):
        args = enhance_video.parse_args([
            str(clip), '--output', str(out), '--config', config,
            '--reference', str(reference)
        ] + list(extra))
        enhance_video.enhance_video(args)
        report = json.loads(
            (tmp_path / (out.stem + '_metrics.json')).read_text())
        return report, capsys.readouterr()

    # lossless .mkv: the file is the scored frames, cost exactly 0
    report, printed = run(tmp_path / 'out.mkv')
    encoding = report['encoding']
    table = report['table']
    assert encoding['cost_db'] == 0
    assert encoding['psnr'] == table['fused_sharp']['PSNR']['pristine']
    assert encoding['gain_db'] == pytest.approx(
        table['fused_sharp']['PSNR']['pristine'] -
        table['lq']['PSNR']['pristine'], abs=1e-12)
    line = (f'encoding cost: 0.000 dB (enhancement gained '
            f'{encoding["gain_db"]:+.3f} dB)')
    assert line in printed.out
    assert line in (tmp_path / 'out_metrics.md').read_text()
    assert 'warning' not in printed.err
    # a forced high --crf costs more than the gain: a warning
    out = tmp_path / 'crf45.mp4'
    report, printed = run(out, '--crf', '45')
    encoding = report['encoding']
    decoded = mean_psnr(read_frames(str(out)), pristine)
    assert encoding['psnr'] == pytest.approx(decoded, abs=1e-9)
    assert encoding['cost_db'] == pytest.approx(
        report['table']['fused_sharp']['PSNR']['pristine'] - decoded,
        abs=1e-9)
    # (the tiny random networks lose PSNR: any loss to encoding warns)
    assert encoding['cost_db'] > max(encoding['gain_db'], 0.1)
    assert (f'warning: {out} lost {encoding["cost_db"]:.3f} dB to its '
            'encoding, more than the enhancement gained') in printed.err


class RecordingBar:
    """Stands in for tqdm: records totals and positions."""
    bars = []

    def __init__(self, iterable=None, total=None, **kwargs):
        self.iterable, self.total, self.n = iterable, total, 0
        self.desc = kwargs.get('desc')
        self.positions = []
        RecordingBar.bars.append(self)

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)

    def update(self, n=1):
        self.n += n
        self.positions.append(self.n)

    def close(self):
        pass


@pytest.mark.parametrize('ext', ['.mkv', '.mp4'])
def test_bar_total_is_the_probed_frame_count(tiny_setup, tmp_path,
                                             monkeypatch, ext):
    enhance_video = enhance_video_tool()
    frames = make_clip(tmp_path / 'hevc.mkv', num_frames=7)
    clip = tmp_path / ('clip' + ext)
    with VideoWriter(clip, fps=25, codec='libx264', crf=20) as writer:
        for frame in frames:
            writer.write(frame)
    # what the bar had before: no total (the count is not in the header)
    assert probe_video(str(clip)).num_frames is None
    monkeypatch.setattr(enhance_video, 'tqdm', RecordingBar)
    RecordingBar.bars = []
    args = enhance_video.parse_args([
        str(clip), '--output',
        str(tmp_path / 'out.mkv'), '--config',
        str(tiny_setup['config']), '--max-seq-len', '4'
    ])
    enhance_video.enhance_video(args)
    bar, = [b for b in RecordingBar.bars if b.desc == 'ASTF']
    assert bar.total == probe_video(str(clip), count_frames=True).num_frames
    assert bar.total == 7 and bar.n == 7
    # it moves inside a chunk (fractions of frames), never backwards
    assert any(p != int(p) for p in bar.positions)
    assert bar.positions == sorted(bar.positions)
    assert bar.positions[0] < 1
