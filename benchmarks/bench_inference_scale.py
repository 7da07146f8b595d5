"""Peak memory and time of ``tools/enhance_video.py`` vs video length.

``python benchmarks/bench_inference_scale.py [--lengths 30 60 120]``

Runs the inference tool in a fresh process per length on the sample demo
clip (``data/sample/demo/carphone_qp37.mkv``, built by
``tools/data/make_sample_data.py``) with the shipped sample models, and
records the process's peak resident memory (``ru_maxrss``) and wall time.
With chunked processing the memory must stay flat and the time grow
linearly. Writes ``benchmarks/results/inference_scale.md``.
"""
import argparse
import os
import os.path as osp
import platform
import subprocess
import sys
import tempfile
import time

import torch

from astf_mm.io import atomic_write_text
from astf_mm.utils.machine import cpu_name

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLIP = 'data/sample/demo/carphone_qp37.mkv'

CHILD = r'''
import resource, runpy, sys, time
sys.argv = ['enhance_video.py'] + sys.argv[1:]
start = time.perf_counter()
runpy.run_path('tools/enhance_video.py', run_name='__main__')
print('RESULT', time.perf_counter() - start,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
'''


def run(length: int, max_seq_len: int, device: str, out_dir: str):
    cmd = [
        sys.executable, '-c', CHILD, CLIP, '--output',
        osp.join(out_dir, f'out_{length}.mkv'), '--max-frames',
        str(length), '--max-seq-len',
        str(max_seq_len), '--device', device
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith('RESULT')]
    seconds, rss_kib = line[-1].split()[1:]
    return float(seconds), int(rss_kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lengths', type=int, nargs='+',
                        default=[30, 60, 120])
    parser.add_argument('--max-seq-len', type=int, default=30)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--out', default=osp.join(ROOT, 'benchmarks/results/'
                                  'inference_scale.md'))
    args = parser.parse_args()
    if not osp.isfile(osp.join(ROOT, CLIP)):
        raise FileNotFoundError(f'{CLIP} is missing: run '
                                'python tools/data/make_sample_data.py')
    rows = []
    with tempfile.TemporaryDirectory() as out_dir:
        for length in args.lengths:
            seconds, rss = run(length, args.max_seq_len, args.device,
                               out_dir)
            rows.append((length, seconds, rss))
            print(f'{length} frames: {seconds:.1f} s, peak RSS {rss:.0f} MiB',
                  flush=True)
    lines = [
        '# Inference scale: tools/enhance_video.py vs video length', '',
        f'- machine: {cpu_name()}, {os.cpu_count()} logical cores, '
        f'device {args.device}',
        f'- torch {torch.__version__}, python {platform.python_version()}',
        f'- date: {time.strftime("%Y-%m-%dT%H:%M:%S")}',
        f'- clip: {CLIP} (176x144), sample models, '
        f'--max-seq-len {args.max_seq_len}',
        f'- load average at the end: {os.getloadavg()}',
        '- command: `python benchmarks/bench_inference_scale.py`', '',
        '| frames | wall time (s) | time / frame (s) | peak RSS (MiB) |',
        '|---|---|---|---|'
    ]
    for length, seconds, rss in rows:
        lines.append(f'| {length} | {seconds:.1f} | {seconds / length:.2f} '
                     f'| {rss:.0f} |')
    lines += [
        '', 'Wall time includes the start-up (imports, model building); '
        'peak RSS is that of the whole process.', ''
    ]
    atomic_write_text(args.out, '\n'.join(lines))
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
