"""Stage-1 recipes compared after equal training time (issue 15, sec. 2).

Usage::

    python benchmarks/sweep_stage1.py --minutes 50 \
        [--candidates c32b6-ps4 c16b4-ps1 c48b6-ps4] \
        [--out benchmarks/results/sweep_stage1_cpu.md]

Every candidate is the corpus stage-1 config
(``configs/astf/sample/stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37.py``)
with other generator options. They train at the same time, one thread each,
so that each sees the same machine (on 2 cores, running them one after
another would let a later run meet another engineer's job that an earlier
one did not). After ``--minutes`` of wall time every run is stopped; its
last checkpoint (EMA weights, saved every ``--checkpoint-interval``
iterations, no validation during the run) is scored per video with
``tools/analysis_tools/eval_network.py`` on the corpus validation split
(what a recipe is chosen on) and on the held-out set (reported, never
chosen on). Work dirs: ``work_dirs/sweep_stage1/NAME`` (refused if they
exist, so a finished sweep is never overwritten).
"""
import argparse
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import load_average, machine_info  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = ('configs/astf/sample/'
          'stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37.py')
#: name -> generator options over CONFIG's (c32b6, propagation_scale 4);
#: ``-lqhead``: the full-resolution head also sees the input frame
CANDIDATES: Dict[str, dict] = {
    'c32b6-ps4': {},
    'c16b4-ps1': dict(mid_channels=16, num_blocks=4, propagation_scale=1),
    'c48b6-ps4': dict(mid_channels=48),
    'c32b12-ps4': dict(num_blocks=12),
    'c32b6-ps4-lqhead': dict(lq_to_head=True),
    'c48b6-ps4-lqhead': dict(mid_channels=48, lq_to_head=True),
    'c32b12-ps4-lqhead': dict(num_blocks=12, lq_to_head=True),
}
SPLITS = {
    'corpus val': ('data/corpus', 'meta_info_val.txt'),
    'held-out': ('data/heldout', 'meta_info_val.txt'),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--minutes', type=float, required=True)
    parser.add_argument(
        '--candidates', nargs='+', default=list(CANDIDATES)[:3],
        choices=list(CANDIDATES))
    parser.add_argument('--checkpoint-interval', type=int, default=50)
    parser.add_argument('--work-root', default='work_dirs/sweep_stage1')
    parser.add_argument(
        '--out', default='benchmarks/results/sweep_stage1_cpu.md')
    return parser.parse_args(argv)


def train_command(name: str, work_dir: str, interval: int) -> List[str]:
    options = [f'model.generator.{k}={v}'
               for k, v in CANDIDATES[name].items()]
    options += [
        f'default_hooks.checkpoint.interval={interval}',
        # validation would cost training time; scored afterwards instead
        'train_cfg.val_interval=1000000',
    ]
    return [
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--cfg-options', *options
    ]


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete checkpoint (mmengine names it in
    ``last_checkpoint`` after the file is written, so a run stopped while
    saving points to the previous one)."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        return f.read().strip()


def score(checkpoint: str, work_dir: str) -> Dict[str, dict]:
    """Per-video results on each split, with the config the run dumped."""
    config = osp.join(work_dir, osp.basename(CONFIG))
    results = {}
    for split, (root, ann) in SPLITS.items():
        out = osp.join(work_dir, f'eval_{split.replace(" ", "_")}.md')
        subprocess.run([
            sys.executable, 'tools/analysis_tools/eval_network.py', config,
            checkpoint, '--data-root', root, '--ann-file', ann, '--out', out
        ], check=True)
        with open(osp.splitext(out)[0] + '.json') as f:
            results[split] = json.load(f)
    return results


def gains(per_video: Dict[str, dict]) -> List[float]:
    return [r['PSNR out'] - r['PSNR lq'] for r in per_video.values()]


def main(argv=None) -> None:
    args = parse_args(argv)
    os.chdir(ROOT)
    work_dirs = {n: osp.join(args.work_root, n) for n in args.candidates}
    for work_dir in work_dirs.values():
        if osp.exists(work_dir):
            sys.exit(f'error: {work_dir} exists (a previous sweep); choose '
                     'another --work-root.')
    if osp.exists(args.out):
        sys.exit(f'error: {args.out} exists; remove it or choose --out.')
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    info = machine_info()
    info['threads'] = '1 per candidate, all candidates at once'
    load_before = load_average()
    started = time.time()
    procs = {}
    for name, work_dir in work_dirs.items():
        os.makedirs(work_dir)
        log = open(osp.join(work_dir, 'train.log'), 'w')
        procs[name] = subprocess.Popen(
            train_command(name, work_dir, args.checkpoint_interval),
            stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
    try:
        while time.time() - started < args.minutes * 60:
            if all(p.poll() is not None for p in procs.values()):
                break
            time.sleep(10)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            proc.wait()
    load_after = load_average()
    rows = {}
    for name, work_dir in work_dirs.items():
        checkpoint = last_checkpoint(work_dir)
        if checkpoint is None:
            print(f'{name}: no checkpoint within the time', flush=True)
            continue
        iters = int(checkpoint.rsplit('_', 1)[1][:-4])
        rows[name] = (iters, score(checkpoint, work_dir))

    lines = ['# Stage-1 recipes after equal training time (issue 15)', '']
    lines += [f'- {k}: {v}' for k, v in info.items()]
    lines += [
        f'- load average (1, 5, 15 min) before / after: {load_before} / '
        f'{load_after}',
        f'- date: {time.strftime("%Y-%m-%dT%H:%M:%S")}',
        f'- command: `python benchmarks/sweep_stage1.py --minutes '
        f'{args.minutes:g} --candidates {" ".join(args.candidates)}`', '',
        f'Base config: `{CONFIG}` (MSE, lr 2e-3, EMA, 4 clips x 5 frames of '
        '128-pixel crops, pretrained sample SPyNet). Each candidate trained '
        f'for {args.minutes:g} minutes of wall time beside the others; its '
        f'last checkpoint (every {args.checkpoint_interval} iterations, EMA '
        'weights) scored per video. Gain: PSNR of the output minus the '
        'compressed input\'s, mean over videos; worst: the lowest video.', '',
        '| candidate | iterations | corpus val gain (dB) | corpus val worst '
        '| held-out gain (dB) | held-out worst | held-out videos below '
        'input |', '|---|---|---|---|---|---|---|'
    ]
    for name, (iters, results) in rows.items():
        val, held = gains(results['corpus val']), gains(results['held-out'])
        lines.append(
            f'| {name} | {iters} | {sum(val) / len(val):+.4f} | '
            f'{min(val):+.4f} | {sum(held) / len(held):+.4f} | '
            f'{min(held):+.4f} | {sum(g < 0 for g in held)} of '
            f'{len(held)} |')
    lines += [
        '', 'Per-video tables: `eval_corpus_val.md` and `eval_held-out.md` in '
        f'each work dir under `{args.work_root}/`.', ''
    ]
    from astf_mm.io import atomic_write_text
    atomic_write_text(args.out, '\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
