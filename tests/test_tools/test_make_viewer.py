"""tools/make_viewer.py: the viewer page from existing video files."""
import json
import os
import subprocess
import sys

import numpy as np

from astf_mm.io import VideoWriter, probe_video
from tests.utils import ROOT, run_tool

TOOL = os.path.join(ROOT, 'tools', 'make_viewer.py')


def _video(path, colour, n=4):
    with VideoWriter(path, fps=5) as writer:
        for _ in range(n):
            writer.write(np.full((16, 16, 3), colour, np.uint8))
    return str(path)


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)],
                          capture_output=True,
                          text=True,
                          cwd=ROOT)


def _run_here(*args):
    """As :func:`_run`, in this process (a subprocess costs seconds of
    imports; each test keeps one through the command line)."""
    return run_tool('make_viewer.py', *args)


def _error(proc):
    """The tool's error line (third-party import warnings may precede
    it on stderr)."""
    assert proc.returncode == 1, proc.stderr
    return proc.stderr.splitlines()[-1]


def _data(html):
    text = open(html, encoding='utf-8').read()
    start = text.index('const VIEWER_DATA = ') + len('const VIEWER_DATA = ')
    return json.loads(text[start:text.index(';\n</script>', start)])


def test_make_viewer_tool(tmp_path):
    lq = _video(tmp_path / 'lq.mkv', (200, 0, 0))
    out = _video(tmp_path / 'out.mkv', (0, 0, 200))
    extra = _video(tmp_path / 'e1.mkv', (0, 200, 0))
    metrics = tmp_path / 'metrics.json'
    metrics.write_text(
        json.dumps({
            'frames': 4,
            'per_frame': {
                'PSNR': {
                    'input': [1, 2, 3, 4],
                    'enhanced': [2, 3, 4, None]
                }
            }
        }))
    html = tmp_path / 'view' / 'clip.html'
    proc = _run(html, '--input', lq, '--enhanced', out, '--video',
                f'enhancenet1={extra}', '--metrics', metrics, '--fps', 10,
                '--crf', 14, '--no-progress')
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / 'view' / 'clip_viewer_files'
    assert proc.stdout == (f'viewer: {html} (4 frames, 3 videos in '
                           f'{folder})\n')
    assert sorted(os.listdir(folder)) == [
        '00_input.mp4', '01_enhanced.mp4', '02_enhancenet1.mp4'
    ]
    assert probe_video(folder / '00_input.mp4').fps == 10
    data = _data(html)
    assert data['title'] == 'clip.html'
    assert [s['label'] for s in data['streams']] == [
        'input', 'enhanced', 'enhancenet1'
    ]
    assert data['metrics'] == {
        'PSNR': {
            'input': [1.0, 2.0, 3.0, 4.0],
            'enhanced': [2.0, 3.0, 4.0, None]
        }
    }
    before = html.read_bytes()
    # an existing page is refused, untouched; --overwrite replaces it
    proc = _run_here(html, '--input', lq, '--enhanced', out, '--no-progress')
    assert _error(proc).startswith(f'error: viewer {html}: exists')
    assert html.read_bytes() == before
    proc = _run_here(html, '--input', lq, '--enhanced', out, '--title', 'T',
                     '--no-progress', '--overwrite')
    assert proc.returncode == 0, proc.stderr
    assert _data(html)['title'] == 'T'


def test_make_viewer_tool_errors(tmp_path):
    lq = _video(tmp_path / 'lq.mkv', (200, 0, 0))
    html = tmp_path / 'v.html'
    proc = _run(html, '--input', lq, '--enhanced', lq, '--video', 'noeq')
    assert _error(proc) == "error: --video 'noeq': expected LABEL=PATH."
    proc = _run_here(html, '--input', lq, '--enhanced',
                     tmp_path / 'missing.mkv')
    assert _error(proc) == (
        f'error: Video not found: {tmp_path / "missing.mkv"}')
    bad = tmp_path / 'bad.json'
    bad.write_text('{"PSNR": {"input": [1, 2]}}')
    proc = _run_here(html, '--input', lq, '--enhanced', lq, '--metrics', bad)
    assert _error(proc) == ("error: metrics['PSNR']['input'] has 2 values; "
                            'the videos have 4 frames (one value per frame)'
                            '.')
    assert sorted(os.listdir(tmp_path)) == ['bad.json', 'lq.mkv']
