"""End to end with tiny networks: export, tools/test.py, inference, panel."""
import json
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from astf_mm.apis import stream_enhance
from astf_mm.datasets.encoding import encode_hevc_qp
from astf_mm.io import (list_frame_files, probe_video, read_frames,
                        write_png_folder)
from astf_mm.models import ASTF, EnhanceNet
from astf_mm.models.chroma import project_chroma_420
from astf_mm.models.chunking import chunk_windows
from tests.utils import (ROOT, SAMPLE_STAGE1, TINY_ENHANCENET,
                         flips_and_transposes_mean, load_tool, luma,
                         make_frames_dataset, run_tool)


def test_chunk_windows_cover_every_frame_once():
    kept = []
    for ctx_start, ctx_end, start, end in chunk_windows(10, 3, overlap=2):
        assert ctx_start == max(start - 2, 0) and ctx_end == min(end + 2, 10)
        kept.extend(range(start, end))
    assert kept == list(range(10))
    assert list(chunk_windows(5, None)) == [(0, 5, 0, 5)]


def test_stream_enhance_sees_context_and_keeps_order():
    frames = [np.full((4, 4, 3), 10 * i, np.uint8) for i in range(7)]
    seen = []

    def fn(x):
        seen.append(x.shape[1])
        # the frame itself, and its predecessor within the chunk
        return {'same': x, 'shifted': torch.roll(x, 1, dims=1)}

    out = list(stream_enhance(iter(frames), fn, max_seq_len=3, overlap=1))
    assert [int(o['same'][0, 0, 0])
            for o in out] == [0, 10, 20, 30, 40, 50, 60]
    # chunks of 3 kept frames with one context frame each side
    assert seen == [4, 5, 2]
    # frame 3's previous frame came from the context, not a chunk border
    assert int(out[3]['shifted'][0, 0, 0]) == 20


def test_astf_model_rows_chunking_and_errors(tiny_setup):
    specs = {
        name: dict(
            TINY_ENHANCENET,
            init_cfg=dict(type='CheckedPretrained', checkpoint=ckpt))
        for name, ckpt in zip(('stage1', 'enhancenet1',
                               'enhancenet2'), tiny_setup['ckpts'])
    }
    model = ASTF(**specs)
    lqs = torch.rand(1, 5, 3, 32, 40)
    out = model.enhance(lqs)
    assert set(out) == {
        'lq', 'stage1', 'enhancenet1', 'enhancenet2', 'fused', 'fused_sharp',
        'mask'
    }
    # stage 1 is quantised to 8 bits, as the refiners saw it in training
    torch.testing.assert_close(out['stage1'] * 255,
                               (out['stage1'] * 255).round())
    # the fused frame lies between the two refiners, pixel by pixel
    lo = torch.minimum(out['enhancenet1'], out['enhancenet2'])
    hi = torch.maximum(out['enhancenet1'], out['enhancenet2'])
    assert (out['fused'] >= lo - 1e-6).all() and (out['fused']
                                                  <= hi + 1e-6).all()
    # chunks that overlap the whole clip reproduce the whole-clip result
    model.max_seq_len, model.overlap = 2, 4
    torch.testing.assert_close(
        model.enhance(lqs)['fused_sharp'], out['fused_sharp'])
    with pytest.raises(ValueError, match='no checkpoint'):
        ASTF(**dict(specs, stage1=TINY_ENHANCENET))
    with pytest.raises(RuntimeError, match='does not fit'):
        ASTF(**dict(specs, stage1=dict(specs['stage1'], mid_channels=16)))
    pinned = dict(specs['stage1']['init_cfg'], sha256='0' * 64)
    with pytest.raises(RuntimeError, match='sha256'):
        ASTF(**dict(specs, stage1=dict(specs['stage1'], init_cfg=pinned)))


def test_tools_test_reports_every_row_per_video(tiny_setup):
    out = tiny_setup['tmp'] / 'metrics.json'
    work = tiny_setup['tmp'] / 'test_work'
    subprocess.run([
        sys.executable, 'tools/test.py',
        str(tiny_setup['config']), '--work-dir',
        str(work), '--out',
        str(out)
    ],
                   cwd=ROOT,
                   check=True,
                   capture_output=True)
    metrics = json.load(open(out))
    rows = ('lq', 'stage1', 'enhancenet2', 'enhancenet1', 'fused',
            'fused_sharp')
    for row in rows:
        for name in ('PSNR', 'SSIM', 'LPIPS', 'FID', 'tOF', 'tLP'):
            assert f'{row}/{name}' in metrics
    tables = [
        osp.join(d, f) for d, _, fs in os.walk(work) for f in fs
        if f == 'astf_table.json'
    ]
    table = json.load(open(tables[0]))
    assert list(table) == list(rows)
    assert set(table['lq']['PSNR']) == {'c', 'd'}
    # the lq row's PSNR equals one computed from the files directly
    root = tiny_setup['data_root']
    psnrs = []
    for t in range(4):
        lq = cv2.imread(str(root / 'lq' / 'c' / f'{t:08d}.png'))
        gt = cv2.imread(str(root / 'gt' / 'c' / f'{t:08d}.png'))
        mse = np.mean((lq.astype(np.float64) - gt)**2)
        psnrs.append(10 * np.log10(255**2 / mse))
    assert table['lq']['PSNR']['c'] == pytest.approx(np.mean(psnrs), abs=1e-6)
    assert table['lq']['LPIPS']['c'] > 0
    md = open(tables[0].replace('.json', '.md')).read()
    assert '| fuse+sharp |' in md and 'LPIPS ↓' in md


def test_export_stage1_matches_network_and_resumes(tiny_setup, tmp_path):
    # 4:2:0 frames, as decoded video (--chroma-420 projects only those);
    # small, as SPyNet's cost dominates the test
    data_root = make_frames_dataset(
        tmp_path / 'data', num_frames=5, size=(32, 40), chroma_420=True)
    ckpt = tiny_setup['ckpts'][0]
    # the sample stage-1 config, narrowed to the tiny checkpoint's width
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    cmd = [
        str(config), ckpt, '--data-root',
        str(data_root), '--max-seq-len', '2'
    ]

    def export(args):
        run = run_tool('export_stage1.py', *args)
        assert run.returncode == 0, run.stderr[-2000:]
        return run.stdout

    out_dir = data_root / 'stage1'

    def differences(ref):
        """|written - ref| of video a; float rounding (chunks of 2 with 2
        context frames vs the whole 5-frame clip) may flip an 8-bit
        level."""
        written = np.stack(list(read_frames(str(out_dir / 'a')))).astype(int)
        return np.abs(written - ref.permute(0, 2, 3, 1).numpy().astype(int))

    # the command line once; the other runs in this process (faster)
    assert 'Wrote 3 videos' in subprocess.run(
        [sys.executable, 'tools/export_stage1.py'] + cmd,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True).stdout
    assert sorted(os.listdir(out_dir)) == ['a', 'b', 'c',
                                           'export_manifest.json']
    assert len(list_frame_files(out_dir / 'a')) == 5
    # the written frames are the network's output on the whole clip
    net = EnhanceNet(mid_channels=8, num_blocks=1)
    state = torch.load(ckpt)['state_dict']
    net.load_state_dict({k[10:]: v for k, v in state.items()})
    lqs = np.stack(list(read_frames(str(data_root / 'lq' / 'a'))))
    with torch.no_grad():
        x = torch.from_numpy(lqs).permute(0, 3, 1, 2)[None].float() / 255
        ref = (net(x)[0].clamp(0, 1) * 255).round().byte()
    diff = differences(ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    # an interrupted run leaves no complete-looking folder; rerun resumes
    shutil.rmtree(out_dir / 'b')
    assert 'Wrote 1 videos (b)' in export(cmd)
    # another checkpoint makes the old outputs stale: all are rewritten
    other = [c if c != ckpt else tiny_setup['ckpts'][1] for c in cmd]
    assert 'Wrote 3 videos' in export(other)
    # --chroma-420 is part of what a video was exported with: all rewritten,
    # as the projected network output
    assert 'Wrote 3 videos' in export(cmd + ['--chroma-420'])
    with torch.no_grad():
        plain = ref
        ref = (project_chroma_420(net(x)[0].clamp(0, 1)) * 255).round().byte()
    assert (ref.int() - plain.int()).abs().max() > 1  # the flag shows
    diff = differences(ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    # --self-ensemble --luma-only: all rewritten again, as the input plus
    # the luma change of the 8-pass average (flips and transposes undone),
    # projected (a clamp at black or white changes a block's colour); one
    # chunk per clip (the chunking is checked above) to spare 8x SPyNet
    assert 'Wrote 3 videos' in export(
        cmd + ['--chroma-420', '--self-ensemble', '--luma-only',
               '--max-seq-len', '5'])
    with torch.no_grad():
        mean = flips_and_transposes_mean(net, x)[0]
        change = (luma(mean) - luma(x[0])).unsqueeze(-3)
        ref = (project_chroma_420(
            (x[0] + change).clamp(0, 1)) * 255).round().byte()
    diff = differences(ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-2


def make_clip(path, num_frames: int = 6):
    yy, xx = np.mgrid[0:48, 0:64]
    frames = [
        np.stack([(xx * 4 + t * 3) % 256, (yy * 5) % 256, (xx + yy + t) % 256],
                 -1).astype(np.uint8) for t in range(num_frames)
    ]
    encode_hevc_qp(frames, str(path), qp=37, fps=25)
    return frames


def run_enhance(args):
    return subprocess.run(
        [sys.executable, 'tools/enhance_video.py'] + args,
        cwd=ROOT,
        capture_output=True,
        text=True)


def test_enhance_video_file_to_file(tiny_setup, tmp_path):
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    out = tmp_path / 'out.mp4'
    proc = run_enhance([
        str(clip), '--output',
        str(out), '--config',
        str(tiny_setup['config']), '--save-mask',
        str(tmp_path / 'mask.mkv'), '--save-intermediates',
        str(tmp_path / 'inter'), '--max-seq-len', '2'
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    frames = list(read_frames(str(out)))
    assert len(frames) == 6 and frames[0].shape == (48, 64, 3)
    assert len(list(read_frames(str(tmp_path / 'mask.mkv')))) == 6
    assert sorted(os.listdir(tmp_path / 'inter')) == [
        'enhancenet1.mkv', 'enhancenet2.mkv', 'fused.mkv', 'stage1.mkv'
    ]
    # to a folder of PNG frames (in this process: the command line ran)
    folder = tmp_path / 'frames'
    proc = run_tool('enhance_video.py', clip, '--output', folder, '--config',
                    tiny_setup['config'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(list_frame_files(folder)) == 6


def test_enhance_video_truncated_input_names_file(tiny_setup, tmp_path):
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    data = clip.read_bytes()
    broken = tmp_path / 'broken.mkv'
    broken.write_bytes(data[:len(data) // 3])
    out = tmp_path / 'out.mkv'
    proc = run_enhance([
        str(broken), '--output',
        str(out), '--config',
        str(tiny_setup['config'])
    ])
    assert proc.returncode != 0
    assert 'broken.mkv' in proc.stderr
    # nothing that looks complete is left behind
    assert not out.exists()
    assert [f for f in os.listdir(tmp_path) if f.startswith('.out')] == []


def test_interrupted_enhance_leaves_no_output(tiny_setup, tmp_path,
                                              monkeypatch):
    enhance_video = load_tool('enhance_video.py')
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    calls = {'n': 0}
    original = ASTF.enhance_chunk

    def interrupted(self, lqs):
        calls['n'] += 1
        if calls['n'] == 2:
            raise KeyboardInterrupt
        return original(self, lqs)

    monkeypatch.setattr(ASTF, 'enhance_chunk', interrupted)
    out = tmp_path / 'out.mkv'
    args = enhance_video.parse_args([
        str(clip), '--output',
        str(out), '--config',
        str(tiny_setup['config']), '--max-seq-len', '2'
    ])
    with pytest.raises(KeyboardInterrupt):
        enhance_video.enhance_video(args)
    assert calls['n'] == 2
    assert os.listdir(tmp_path) == ['clip.mkv']


def test_draw_panel(tiny_setup, tmp_path):
    out = tmp_path / 'panel.png'
    cmd = [
        sys.executable, 'tools/draw_panel.py', '--config',
        str(tiny_setup['config']), '--data-root',
        str(tiny_setup['data_root']), '--video', 'c', '--crop', '16',
        '--out',
        str(out)
    ]

    def run(*extra):
        # the command line once; the other runs in this process
        return subprocess.run([*cmd, *extra],
                              cwd=ROOT,
                              capture_output=True,
                              text=True)

    def run_here(*extra):
        return run_tool('draw_panel.py', *cmd[2:], *extra)

    proc = run('--frame', '2')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'frame 2' in proc.stdout
    panel = cv2.imread(str(out))
    # 8 tiles of 56 px with 4 px gaps; label + frame + square zoom
    assert panel.shape[1] == 8 * 56 + 7 * 4
    assert panel.shape[0] == 22 + 48 + 56
    diff = cv2.imread(str(tmp_path / 'panel_diff.png'))
    assert diff.shape == (22 + 48 + 56, 56, 3)
    # a second run refuses to replace the images, unless --overwrite
    before = out.read_bytes()
    proc = run_here()
    assert proc.returncode != 0
    assert 'panel.png' in proc.stderr and '--overwrite' in proc.stderr
    assert out.read_bytes() == before
    proc = run_here('--overwrite')  # the frame chosen by the effect
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(tmp_path)) == ['panel.png', 'panel_diff.png']


def test_panel_shows_where_the_output_differs_most():
    draw_panel = load_tool('draw_panel.py')
    h, w = 40, 50
    lq = np.full((h, w, 3), 100, np.uint8)
    out = lq.copy()
    out[20:30, 5:15] += 12  # a change where the mask is on ...
    out[0:10, 30:40] += 40  # ... and a larger one where it is off
    mask = np.zeros((h, w, 3), np.uint8)
    mask[15:35, 0:20] = 255
    tiles = dict(lq=lq, fused_sharp=out, mask=mask)
    effect = draw_panel.effect_map(tiles)
    assert effect.max() == 12 and effect[0:10, 30:40].max() == 0
    assert draw_panel.pick_crop(effect, 10) == (20, 5)
    image, gain = draw_panel.difference_image(
        dict(tiles, gt=lq), 10, (20, 5))
    # the largest difference (40 levels) maps to about 100 levels
    assert gain == pytest.approx(100 / 40)
    full = image[22:22 + h]
    assert full[25, 10, 0] == 128 + 30 and full[5, 0, 0] == 128


def _psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.**2 / mse)


def test_enhance_video_reference_report(tiny_setup, tmp_path):
    enhance_video = load_tool('enhance_video.py')
    clip = tmp_path / 'clip.mkv'
    pristine = make_clip(clip)
    reference = tmp_path / 'pristine'
    write_png_folder(pristine, reference)
    out = tmp_path / 'out.mkv'  # lossless: the file holds what was scored
    args = enhance_video.parse_args([
        str(clip), '--output',
        str(out), '--config',
        str(tiny_setup['config']), '--reference',
        str(reference), '--max-seq-len', '4'
    ])
    outputs = enhance_video.enhance_video(args)
    assert outputs['metrics'] == str(tmp_path / 'out_metrics.md')
    report = json.loads((tmp_path / 'out_metrics.json').read_text())
    assert report['frames'] == 6
    table = report['table']
    decoded_lq = list(read_frames(str(clip)))
    written = list(read_frames(str(out)))
    # independent PSNR of the decoded input and of the written output
    for row, frames in (('lq', decoded_lq), ('fused_sharp', written)):
        expected = np.mean([_psnr(f, r) for f, r in zip(frames, pristine)])
        assert table[row]['PSNR']['pristine'] == pytest.approx(
            expected, abs=1e-6)
    assert set(table) == {
        'lq', 'stage1', 'enhancenet2', 'enhancenet1', 'fused', 'fused_sharp'
    }
    assert 0 < table['lq']['SSIM']['pristine'] <= 1
    assert 'fuse+sharp' in (tmp_path / 'out_metrics.md').read_text()


def test_enhance_video_viewer_with_per_frame_curves(tiny_setup, tmp_path,
                                                    real_weights):
    enhance_video = load_tool('enhance_video.py')
    clip = tmp_path / 'clip.mkv'
    pristine = make_clip(clip)
    reference = tmp_path / 'pristine'
    write_png_folder(pristine, reference)
    out = tmp_path / 'out.mkv'
    args = enhance_video.parse_args([
        str(clip), '--output',
        str(out), '--config',
        str(tiny_setup['config']), '--reference',
        str(reference), '--save-intermediates',
        str(tmp_path / 'inter'), '--save-mask',
        str(tmp_path / 'mask.mkv'), '--viewer'
    ])
    outputs = enhance_video.enhance_video(args)
    page = tmp_path / 'out.html'
    assert outputs['viewer'] == str(page)
    files = sorted(os.listdir(tmp_path / 'out_viewer_files'))
    assert len(files) == 5 and all(f.endswith('.mp4') for f in files)
    for label in ('input', 'stage 1', 'enhanced', 'mask', 'reference'):
        assert label in page.read_text()
    report = json.loads((tmp_path / 'out_metrics.json').read_text())
    per_frame = report['per_frame']
    assert len(per_frame['fused_sharp']['PSNR']) == 6
    assert len(per_frame['lq']['LPIPS']) == 6
    assert 'LPIPS' not in per_frame['enhancenet1']  # curves only
    # the table is the mean of the per-frame values
    assert report['table']['lq']['PSNR']['pristine'] == pytest.approx(
        np.mean(per_frame['lq']['PSNR']))
    decoded_lq = list(read_frames(str(clip)))
    assert per_frame['lq']['PSNR'][2] == pytest.approx(
        _psnr(decoded_lq[2], pristine[2]), abs=1e-6)
    # a second run refuses to replace the page
    with pytest.raises(enhance_video.OutputPathError, match='viewer'):
        enhance_video.plan_outputs(args)


def test_enhance_video_reference_must_match(tiny_setup, tmp_path):
    enhance_video = load_tool('enhance_video.py')
    clip = tmp_path / 'clip.mkv'
    pristine = make_clip(clip)
    short = tmp_path / 'short'
    write_png_folder(pristine[:4], short)
    small = tmp_path / 'small'
    write_png_folder([frame[:40] for frame in pristine], small)
    for ref, message in ((short, 'Frame counts differ'), (small, '64x40')):
        out = tmp_path / f'out_{ref.name}.mkv'
        args = enhance_video.parse_args([
            str(clip), '--output',
            str(out), '--config',
            str(tiny_setup['config']), '--reference',
            str(ref)
        ])
        with pytest.raises(Exception, match=message) as info:
            enhance_video.enhance_video(args)
        assert ref.name in str(info.value)
        assert not out.exists()
        assert not (tmp_path / f'out_{ref.name}_metrics.json').exists()


# ------------------------------------------------ outputs never destroy data


def snapshot(folder) -> dict:
    """Relative path -> bytes of every file under ``folder``."""
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            path = osp.join(d, f)
            with open(path, 'rb') as fh:
                out[osp.relpath(path, folder)] = fh.read()
    return out


def temporaries(folder) -> list:
    return [
        osp.join(d, n) for d, dirs, files in os.walk(folder)
        for n in dirs + files if '.tmp-' in n
    ]


def enhance_main(argv, monkeypatch):
    """tools/enhance_video.py's main(): (exit code, message)."""
    enhance_video = load_tool('enhance_video.py')
    monkeypatch.setattr(sys, 'argv', ['enhance_video.py'] + argv)
    with pytest.raises(SystemExit) as info:
        enhance_video.main()
    code = info.value.code
    return (code if isinstance(code, int) else 1), str(code)


def test_enhance_video_refuses_outputs_that_destroy_data(
        tiny_setup, tmp_path, monkeypatch, capsys):
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    frames_in = tmp_path / 'frames_in'
    write_png_folder(list(read_frames(str(clip))), frames_in)
    existing = tmp_path / 'existing'
    existing.mkdir()
    (existing / 'thesis.txt').write_bytes(b'years of work')
    (tmp_path / 'inter').mkdir()
    (tmp_path / 'inter' / 'stage1.mkv').write_bytes(b'not mine')
    before = snapshot(tmp_path)
    config = ['--config', str(tiny_setup['config'])]
    cases = [
        ([str(clip), '--output', str(existing)], f'--output {existing}: is '
         'a folder that is not empty; refusing to write into it'),
        ([str(clip), '--output', str(tmp_path / 'o.mkv'), '--save-mask',
          str(existing)], f'--save-mask {existing}: is a folder that is not '
         'empty'),
        ([str(clip), '--output', str(tmp_path / 'o.mkv'),
          '--save-intermediates', str(tmp_path / 'inter')],
         f'--save-intermediates {tmp_path / "inter" / "stage1.mkv"}: exists;'
         ' refusing to replace it'),
        ([str(clip), '--output', str(tmp_path / 'x.mkv'), '--save-mask',
          str(existing / 'thesis.txt'), '--overwrite'],
         f'--save-mask {existing / "thesis.txt"}: no default codec for '
         '".txt"'),
        # outputs equal to or inside an input, for every output option
        ([str(clip), '--output', str(clip), '--overwrite'],
         f'--output {clip}: is the input {clip}'),
        ([str(frames_in), '--output', str(frames_in), '--overwrite'],
         f'--output {frames_in}: is the input {frames_in}'),
        ([str(frames_in), '--output', str(frames_in / 'out.mkv')],
         f'--output {frames_in / "out.mkv"}: is the input {frames_in} or '
         'lies inside it'),
        ([str(clip), '--output', str(tmp_path / 'o.mkv'), '--save-mask',
          str(clip), '--overwrite'], f'--save-mask {clip}: is the input'),
        ([str(frames_in), '--output', str(tmp_path / 'o.mkv'),
          '--save-intermediates', str(frames_in / 'inter')],
         f'--save-intermediates {frames_in / "inter"}: is the input'),
        ([str(clip), '--output', str(tmp_path / 'o'), '--reference',
          str(frames_in), '--save-mask', str(frames_in / 'm'),
          '--overwrite'], f'--save-mask {frames_in / "m"}: is the input'),
        ([str(clip), '--output', str(tmp_path / 'o.mkv'), '--save-mask',
          str(tmp_path / 'o.mkv')], 'are the same path'),
    ]
    for argv, message in cases:
        code, text = enhance_main(argv + config, monkeypatch)
        assert code == 1, argv
        assert text.startswith('error: ') and message in text, text
    assert snapshot(tmp_path) == before
    assert temporaries(tmp_path) == []
    # with --overwrite, a video output never replaces a folder
    (tmp_path / 'dir.mkv').mkdir()
    (tmp_path / 'dir.mkv' / 'keep').write_bytes(b'k')
    code, text = enhance_main(
        [str(clip), '--output', str(tmp_path / 'dir.mkv'), '--overwrite'] +
        config, monkeypatch)
    assert code == 1 and f'--output {tmp_path / "dir.mkv"}: is a folder; ' \
        'a file output never replaces a folder' in text
    assert (tmp_path / 'dir.mkv' / 'keep').read_bytes() == b'k'


def test_enhance_video_output_dot_is_refused(tiny_setup, tmp_path):
    work = tmp_path / 'work'  # the user's working tree
    work.mkdir()
    (work / 'work.txt').write_bytes(b'tracked file')
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    before = snapshot(tmp_path)
    args = [clip, '--output', '.', '--config', tiny_setup['config']]
    # the command line once, from the user's working tree ...
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'enhance_video.py'), *map(str, args),
        '--max-seq-len=30'
    ],
                          cwd=work,
                          capture_output=True,
                          text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert ('error: --output .: is a folder that is not empty; refusing to '
            'write into it') in proc.stderr
    # ... and in this process from the input's folder
    proc = run_tool('enhance_video.py', *args, '--overwrite', cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f'error: --output .: holds the input {clip}' in proc.stderr
    assert snapshot(tmp_path) == before


def test_enhance_video_overwrite_writes_into_a_folder(tiny_setup, tmp_path):
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    out = tmp_path / 'frames'
    out.mkdir()
    (out / 'notes.txt').write_bytes(b'mine')
    (out / '00000003.png').write_bytes(b'stale')
    (out / '00000042.png').write_bytes(b'not written by this run')
    proc = run_enhance([
        str(clip), '--output',
        str(out), '--config',
        str(tiny_setup['config']), '--overwrite'
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(os.listdir(out)) == [f'{i:08d}.png' for i in range(6)
                                       ] + ['00000042.png', 'notes.txt']
    assert (out / 'notes.txt').read_bytes() == b'mine'
    assert (out / '00000042.png').read_bytes() == b'not written by this run'
    assert cv2.imread(str(out / '00000003.png')).shape == (48, 64, 3)
    assert temporaries(tmp_path) == []


def test_enhance_video_crf_and_overlap_are_used_or_refused(
        tiny_setup, tmp_path, capsys):
    enhance_video = load_tool('enhance_video.py')
    clip, config = str(tmp_path / 'clip.mkv'), str(tiny_setup['config'])
    refused = [
        (['--output', 'o.mkv', '--crf', '23'], '--crf 23 does not apply to '
         '--output o.mkv: it is written with ffv1, which is lossless'),
        (['--output', 'o.mkv', '--codec', 'png', '--crf', '23'],
         'written with png'),
        (['--output', 'o.mp4', '--save-mask', 'm.mkv', '--crf', '23'],
         '--crf 23 does not apply to --save-mask m.mkv'),
        (['--output', 'frames', '--crf', '23'], '--crf 23: --output frames '
         'is a folder of PNG frames'),
        (['--output', 'o.mkv', '--overlap', '0'], 'argument --overlap: must '
         'be >= 1, got 0'),
        (['--output', 'o.mkv', '--max-seq-len', '0'],
         'argument --max-seq-len: must be >= 1, got 0'),
    ]
    for argv, message in refused:
        with pytest.raises(SystemExit) as info:
            enhance_video.parse_args([clip] + argv)
        assert info.value.code == 2
        assert message in capsys.readouterr().err
    # --codec libx264 --crf in Matroska is honoured (lossy, 4:2:0)
    make_clip(clip)
    for crf in (10, 45):
        out = tmp_path / f'crf{crf}.mkv'
        args = enhance_video.parse_args([
            clip, '--output',
            str(out), '--config', config, '--codec', 'libx264', '--crf',
            str(crf)
        ])
        enhance_video.enhance_video(args)
        info = probe_video(str(out))
        assert (info.codec, info.pix_fmt) == ('h264', 'yuv420p')
    # a higher crf gives a smaller file: the value reached the encoder
    assert (tmp_path / 'crf45.mkv').stat().st_size < (
        tmp_path / 'crf10.mkv').stat().st_size


SIGTERM_WRAPPER = '''
import runpy
import sys

import astf_mm.apis.inference as inference

real = inference.frames_to_tensor
calls = [0]


def blocking(*args, **kwargs):
    calls[0] += 1
    if calls[0] == 2:  # the first chunk is written by now
        print('ready', flush=True)
        sys.stdin.readline()  # blocks until the test signals
    return real(*args, **kwargs)


inference.frames_to_tensor = blocking
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


def sigterm_mid_run(tool: str, args: list, cwd) -> subprocess.CompletedProcess:
    """Run a tool, SIGTERM it while its first chunk's outputs are written."""
    proc = subprocess.Popen(
        [sys.executable, '-c', SIGTERM_WRAPPER,
         osp.join(ROOT, 'tools', tool)] + args,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)
    for line in proc.stdout:
        if line == 'ready\n':
            break
    else:
        raise AssertionError(proc.stderr.read()[-2000:])
    assert temporaries(cwd), 'no temporary output while writing'
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout,
                                       stderr)


def test_enhance_video_sigterm_leaves_nothing(tiny_setup, tmp_path):
    clip = tmp_path / 'clip.mkv'
    make_clip(clip)
    proc = sigterm_mid_run('enhance_video.py', [
        str(clip), '--output',
        str(tmp_path / 'out.mp4'), '--save-mask',
        str(tmp_path / 'mask'), '--config',
        str(tiny_setup['config']), '--max-seq-len', '2'
    ], tmp_path)
    assert proc.returncode == 143, proc.stderr[-2000:]
    assert 'Terminated (SIGTERM): removing partial outputs.' in proc.stderr
    assert os.listdir(tmp_path) == ['clip.mkv']


def test_export_stage1_refuses_dataset_sources(tiny_setup, tmp_path,
                                               monkeypatch):
    data_root = make_frames_dataset(tmp_path / 'data', num_frames=3)
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    export_stage1 = load_tool('export_stage1.py')
    before = snapshot(data_root)
    for folder, problem in (('lq', 'is the input'), ('gt', 'is the input'),
                            ('lq/a', 'lies inside it'),
                            ('gt/../gt/b', 'lies inside it'),
                            ('.', 'holds the input')):
        monkeypatch.setattr(sys, 'argv', [
            'export_stage1.py',
            str(config), tiny_setup['ckpts'][0], '--data-root',
            str(data_root), '--out-folder', folder
        ])
        with pytest.raises(SystemExit) as info:
            export_stage1.main()
        text = str(info.value.code)
        assert text.startswith(f'error: --out-folder '
                               f'{osp.join(str(data_root), folder)}: '), text
        assert problem in text and str(data_root) in text
    assert snapshot(data_root) == before


def test_export_stage1_sigterm_leaves_nothing(tiny_setup, tmp_path):
    data_root = make_frames_dataset(tmp_path / 'data', num_frames=5)
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    before = snapshot(data_root)
    proc = sigterm_mid_run('export_stage1.py', [
        str(config), tiny_setup['ckpts'][0], '--data-root',
        str(data_root), '--max-seq-len', '2'
    ], data_root)
    assert proc.returncode == 143, proc.stderr[-2000:]
    assert temporaries(data_root) == []
    assert not (data_root / 'stage1' / 'a').exists()
    assert snapshot(data_root) == before
