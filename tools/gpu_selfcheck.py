"""Check a CUDA machine in one command, offline, and report in markdown.

Usage::

    python tools/gpu_selfcheck.py [--wheels DIR] [--cache-dir DIR]
        [--time-limit 480] [--out benchmarks/results/gpu_selfcheck.md]

On a machine without a CUDA GPU it says so and exits 0 having done nothing.
With one, it runs from the repository root, each step in a child process
with its own timeout, all within ``--time-limit`` seconds:

0. with ``--wheels DIR``: installs the pinned requirements from that folder
   only (``pip install --no-index --find-links DIR``: no internet needed)
   into this Python's environment, before the clock starts;
1. the CUDA-only tests (those marked ``skipif(not
   torch.cuda.is_available(), ...)``), none of which may be skipped;
2. one AMP training step (``tools/train.py --amp``) on CUDA of every config
   that trains on our data layout, on the sample data (``data/sample``),
   in temporary work dirs; networks at their config's width; SPyNet and
   stage-1 weights that are not on disk are left random (no downloads);
3. a 1-GPU torchrun/NCCL run: ``tools/dist_train.sh CONFIG 1`` for 2
   iterations of the sample stage 1;
4. the inference benchmarks on CUDA: ``benchmarks/bench_inference.py`` and
   ``benchmarks/bench_vs_basicvsrpp.py`` (paper width).

Stage-2 losses need the LPIPS-VGG weights: fill a cache with
``tools/fetch_weights.py`` where there is internet and pass it with
``--cache-dir``. The report (steps, times, the benchmarks' tables) is
written atomically to ``--out``; the exit status is 1 if a step failed.
Only the standard library is imported up front, so the script starts on a
machine where the wheels are not installed yet.
"""
import argparse
import concurrent.futures
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
NO_GPU_MESSAGE = ('No CUDA GPU is present: nothing to check (the GPU '
                  'self-check runs only on a machine with a CUDA GPU).')
DIST_CONFIG = ('configs/astf/sample/'
               'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py')
SAMPLE_ROOT = 'data/sample'
#: seconds per step (each also bounded by what is left of --time-limit)
TIMEOUTS = dict(tests=120, train=150, dist=120, bench=240)
#: configs trained at once (one GPU has room for several small steps)
PARALLEL_TRAIN = 4
#: a test that runs only with CUDA
CUDA_SKIP = re.compile(
    r'@pytest\.mark\.skipif\(\s*not torch\.cuda\.is_available\(\)')


def torch_sees_cuda(python: str = sys.executable) -> bool:
    """Whether torch, in a child process, has a CUDA device."""
    if importlib.util.find_spec('torch') is None:
        return False
    proc = subprocess.run(
        [python, '-c', 'import torch; print(torch.cuda.is_available())'],
        capture_output=True, text=True)
    return proc.stdout.strip().endswith('True')


def nvidia_smi_sees_gpu() -> bool:
    """Whether the NVIDIA driver lists a GPU (before torch is installed)."""
    exe = shutil.which('nvidia-smi')
    if exe is None:
        return False
    proc = subprocess.run([exe, '-L'], capture_output=True, text=True)
    return proc.returncode == 0 and 'GPU' in proc.stdout


def cuda_test_ids(root: str = ROOT) -> List[str]:
    """pytest node ids of the tests that skip without CUDA."""
    ids = []
    for path in sorted(
            glob.glob(osp.join(root, 'tests', '**', 'test_*.py'),
                      recursive=True)):
        with open(path) as f:
            text = f.read()
        for match in CUDA_SKIP.finditer(text):
            test = re.search(r'\ndef (test_\w+)', text[match.end():])
            if test:
                ids.append(f'{osp.relpath(path, root)}::{test.group(1)}')
    return ids


def pip_install_commands(wheels: str) -> List[List[str]]:
    """The offline installs of the pinned requirements from ``wheels``."""
    base = [
        sys.executable, '-m', 'pip', 'install', '--no-index',
        '--find-links', wheels
    ]
    req = osp.join(ROOT, 'requirements')
    return [
        base + ['-r', osp.join(req, 'runtime.txt'), '-r',
                osp.join(req, 'tests.txt')],
        base + ['--no-deps', '-r', osp.join(req, 'nodeps.txt')],
    ]


#: prints, per config, what its training step needs (run in a child, as
#: it imports mmengine)
_DESCRIBE = r'''
import json, sys
from mmengine.config import Config
out = {}
for path in sys.argv[1:]:
    cfg = Config.fromfile(path)
    loader = cfg.get('train_dataloader') or {}
    generator = cfg.get('model', {}).get('generator') or {}
    init = generator.get('init_cfg') or {}
    out[path] = dict(
        dataset=(loader.get('dataset') or {}).get('type'),
        spynet=generator.get('spynet_pretrained'),
        init_checkpoint=init.get('checkpoint'))
print(json.dumps(out))
'''


def describe_configs(python: str) -> Dict[str, dict]:
    """Every config under configs/ (not _base_) and its training needs."""
    paths = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                           recursive=True)
        if '_base_' not in osp.relpath(p, ROOT).split(os.sep))
    proc = subprocess.run([python, '-c', _DESCRIBE] + paths,
                          cwd=ROOT, capture_output=True, text=True,
                          env=child_env())
    if proc.returncode:
        raise RuntimeError(f'reading the configs failed:\n{proc.stderr}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def train_options(info: dict, work_dir: str) -> List[str]:
    """``--cfg-options`` for one short AMP step on the sample data."""
    options = [
        f'work_dir={work_dir}',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=2',
        f'train_dataloader.dataset.data_root={SAMPLE_ROOT}',
        'train_dataloader.dataset.ann_file=meta_info_train.txt',
        # stage 2 reads exported stage-1 frames, not shipped: the inputs
        # stand in (a check of the step, not of the recipe)
        'train_dataloader.dataset.data_prefix.img=lq',
        'train_cfg.max_iters=1',
        'train_cfg.val_interval=1000',
    ]
    if info['spynet'] and not osp.isfile(osp.join(ROOT, info['spynet'])):
        options.append('model.generator.spynet_pretrained=None')
    checkpoint = info['init_checkpoint']
    if checkpoint and not osp.isfile(osp.join(ROOT, checkpoint)):
        options.append('model.generator.init_cfg=None')
    return options


def child_env(cache_dir: Optional[str] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    if cache_dir:
        env['ASTF_MM_CACHE'] = osp.abspath(cache_dir)
    return env


class Clock:
    """What is left of the time limit, for each step's timeout."""

    def __init__(self, limit: float) -> None:
        self.end = time.monotonic() + limit

    def timeout(self, own: float) -> float:
        return max(1.0, min(own, self.end - time.monotonic()))


def run_step(cmd: Sequence[str], timeout: float,
             env: Dict[str, str]) -> dict:
    """Run one command; its status, seconds and output tail."""
    start = time.monotonic()
    try:
        proc = subprocess.run(
            list(cmd), cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=timeout)
        code, output = proc.returncode, proc.stdout + proc.stderr
        status = 'passed' if code == 0 else f'failed (exit {code})'
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b'').decode(errors='replace') if isinstance(
            err.stdout, bytes) else (err.stdout or '')
        status = f'failed (timed out after {timeout:.0f} s)'
    return dict(status=status, seconds=time.monotonic() - start,
                tail=output.strip().splitlines()[-15:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def check_cuda_tests(clock: Clock, env: Dict[str, str]) -> dict:
    ids = cuda_test_ids()
    result = run_step(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
         '-rs'] + ids, clock.timeout(TIMEOUTS['tests']), env)
    summary = result['tail'][-1] if result['tail'] else ''
    if result['status'] == 'passed' and 'skipped' in summary:
        result['status'] = 'failed (a CUDA test was skipped)'
    result['name'] = f'CUDA-only tests ({len(ids)}: {", ".join(ids)})'
    return result


def check_training(clock: Clock, env: Dict[str, str],
                   tmp: str) -> List[dict]:
    configs = describe_configs(sys.executable)
    results = []
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(PARALLEL_TRAIN) as pool:
        for i, (config, info) in enumerate(configs.items()):
            if info['dataset'] != 'PairedFramesDataset':
                why = ('test-only' if info['dataset'] is None else
                       f'trains on mmagic\'s {info["dataset"]} layout')
                results.append(dict(
                    name=f'train step, AMP: `{config}`',
                    status=f'not run ({why})', seconds=0., tail=[]))
                continue
            cmd = [sys.executable, 'tools/train.py', config, '--amp',
                   '--cfg-options'] + train_options(
                       info, osp.join(tmp, f'train{i}'))
            jobs[config] = pool.submit(run_step, cmd,
                                       clock.timeout(TIMEOUTS['train']), env)
        for config, job in jobs.items():
            results.append(dict(job.result(),
                                name=f'train step, AMP: `{config}`'))
    return sorted(results, key=lambda r: r['name'])


def check_dist(clock: Clock, env: Dict[str, str], tmp: str) -> dict:
    work_dir = osp.join(tmp, 'dist')
    result = run_step(
        ['bash', 'tools/dist_train.sh', DIST_CONFIG, '1', '--amp',
         '--cfg-options', f'work_dir={work_dir}', 'train_cfg.max_iters=2',
         'train_cfg.val_interval=1000'],
        clock.timeout(TIMEOUTS['dist']),
        dict(env, PYTHON=sys.executable, PORT=str(free_port())))
    if result['status'] == 'passed' and not glob.glob(
            osp.join(work_dir, 'iter_2.pth')):
        result['status'] = 'failed (no iter_2.pth checkpoint)'
    result['name'] = f'torchrun, 1 GPU, NCCL, 2 iterations: `{DIST_CONFIG}`'
    return result


def check_benchmark(script: str, args: List[str], clock: Clock,
                    env: Dict[str, str], tmp: str) -> dict:
    report = osp.join(tmp, osp.basename(script).replace('.py', '.md'))
    result = run_step(
        [sys.executable, script, '--device', 'cuda', '--out', report] + args,
        clock.timeout(TIMEOUTS['bench']), env)
    result['name'] = f'`{script} --device cuda {" ".join(args)}`'.replace(
        ' `', '`')
    if osp.isfile(report):
        with open(report) as f:
            result['report'] = f.read()
    return result


def report_markdown(results: List[dict], limit: float,
                    seconds: float) -> str:
    lines = [
        '# GPU self-check', '',
        f'- command: `python {" ".join(sys.argv)}`',
        f'- date: {time.strftime("%Y-%m-%dT%H:%M:%S")}',
        f'- time limit: {limit:.0f} s; took {seconds:.0f} s', '',
        '| step | result | seconds |', '|---|---|---|'
    ]
    lines += [
        f'| {r["name"]} | {r["status"]} | {r["seconds"]:.0f} |'
        for r in results
    ]
    for r in results:
        if r['status'].startswith('failed') and r['tail']:
            lines += ['', f'### {r["name"]}: last lines', '', '```']
            lines += r['tail'] + ['```']
    for r in results:
        if r.get('report'):
            lines += ['', f'## Report of {r["name"]}', '']
            # the benchmark's own title becomes a sub-heading
            lines += ['#' + line if line.startswith('#') else line
                      for line in r['report'].splitlines()]
    return '\n'.join(lines) + '\n'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--wheels',
        help='folder of wheels to install the pinned requirements from '
        '(offline)')
    parser.add_argument(
        '--cache-dir',
        help='filled weights cache (tools/fetch_weights.py); default: '
        '$ASTF_MM_CACHE or ~/.cache/astf_mm')
    parser.add_argument(
        '--time-limit', type=float, default=480.,
        help='seconds for all the checks together (default: 480)')
    parser.add_argument(
        '--out', default=osp.join(ROOT, 'benchmarks', 'results',
                                  'gpu_selfcheck.md'),
        help='markdown report (default: benchmarks/results/'
        'gpu_selfcheck.md)')
    args = parser.parse_args(argv)
    if args.wheels and not osp.isdir(args.wheels):
        parser.error(f'--wheels {args.wheels}: no such folder.')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not (torch_sees_cuda() or nvidia_smi_sees_gpu()):
        print(NO_GPU_MESSAGE)
        return 0
    if args.wheels:
        for cmd in pip_install_commands(args.wheels):
            print('$', ' '.join(cmd), flush=True)
            subprocess.run(cmd, check=True)
    if not torch_sees_cuda():
        print('The NVIDIA driver lists a GPU but torch cannot use it: '
              'install the pinned CUDA build of torch (--wheels DIR).')
        return 1
    env = child_env(args.cache_dir)
    clock = Clock(args.time_limit)
    start = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix='gpu_selfcheck_') as tmp:
        steps = [
            lambda: [check_cuda_tests(clock, env)],
            lambda: check_training(clock, env, tmp),
            lambda: [check_dist(clock, env, tmp)],
            lambda: [check_benchmark('benchmarks/bench_inference.py',
                                     ['--repeats', '3'], clock, env, tmp)],
            lambda: [check_benchmark('benchmarks/bench_vs_basicvsrpp.py',
                                     ['--repeats', '3', '--frames', '10'],
                                     clock, env, tmp)],
        ]
        for step in steps:
            for result in step():
                print(f'{result["status"]:>10}  {result["seconds"]:5.0f} s'
                      f'  {result["name"]}', flush=True)
                results.append(result)
    from astf_mm.io import atomic_write_text
    atomic_write_text(
        args.out,
        report_markdown(results, args.time_limit,
                        time.monotonic() - start))
    print(f'wrote {args.out}')
    return int(any(r['status'].startswith('failed') for r in results))


if __name__ == '__main__':
    sys.exit(main())
