"""Helpers shared by the benchmark scripts: machine facts, timing, reports,
input frames."""
import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np
import torch

from astf_mm.io import atomic_write_text, read_frames
from astf_mm.utils.machine import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine_info(device: str = 'cpu') -> Dict[str, str]:
    """What a result depends on: CPU/GPU, cores, threads, versions."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        'cpu': cpu_name(),
        'cores': f'{os.cpu_count()} logical, {usable} usable',
        'torch': torch.__version__,
        'threads': str(torch.get_num_threads()),
        'python': platform.python_version(),
        'device': device,
    }
    if device.startswith('cuda') and torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name(torch.device(device))
    return info


def add_device_args(parser: argparse.ArgumentParser, name: str,
                    repeats: int) -> None:
    """``--device``, ``--amp``, ``--repeats``, ``--threads``, ``--out``.

    ``name`` names the report: ``benchmarks/results/{name}_{cpu,cuda}.md``.
    """
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--amp', action='store_true', help='bf16 autocast (CUDA only)')
    parser.add_argument('--repeats', type=int, default=repeats)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--out',
        default=None,
        help=f'markdown report (default: benchmarks/results/{name}_'
        '{cpu,cuda}.md)')
    parser.set_defaults(report_name=name)


def prepare_run(args: argparse.Namespace,
                amp_precision: str) -> Tuple[str, Dict[str, str]]:
    """Apply ``--threads``; return the report path and the machine facts.

    Sets ``args.kind`` to ``'cuda'`` or ``'cpu'``.
    """
    if args.threads:
        torch.set_num_threads(args.threads)
    args.kind = 'cuda' if args.device.startswith('cuda') else 'cpu'
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'results',
        f'{args.report_name}_{args.kind}.md')
    info = machine_info(args.device)
    amp = args.amp and args.kind == 'cuda'
    info['precision'] = amp_precision if amp else 'fp32'
    return out, info


def clip_frames(clip: str, num: int, width: int, height: int,
                if_missing: str) -> torch.Tensor:
    """A clip's first ``num`` frames resized bicubically to width x height.

    Args:
        clip (str): Video file or frame folder, relative to the repository.
        num (int): Frames to read; a shorter clip is an error.
        width (int): Output width.
        height (int): Output height.
        if_missing (str): What to do when ``clip`` is missing (in the
            error).

    Returns:
        Tensor: (1, num, 3, height, width) RGB in [0, 1].
    """
    path = os.path.join(ROOT, clip)
    if not os.path.exists(path):
        raise FileNotFoundError(f'{path} is missing: {if_missing}')
    frames = [
        cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC)
        for frame in read_frames(path, max_frames=num)
    ]
    if len(frames) < num:
        raise ValueError(f'{path} has {len(frames)} frames, fewer than the '
                         f'{num} asked for.')
    x = torch.from_numpy(np.stack(frames).copy()).permute(0, 3, 1, 2)
    return x.float().div_(255).unsqueeze(0)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize(torch.device(device))


def median_time(fn: Callable[[], object],
                repeats: int,
                device: str = 'cpu',
                warmup: int = 1) -> float:
    """Median wall time in seconds of ``repeats`` runs after a warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_median_times(fns: Dict[str, Callable[[], object]],
                             repeats: int,
                             device: str = 'cpu') -> Dict[str, float]:
    """Median wall time of each function, the functions taking turns.

    One warm-up call each, then ``repeats`` rounds in which every function
    runs once, so that a change of machine load during the run falls on
    all of them alike (what :func:`median_time` per function cannot do).
    """
    for fn in fns.values():
        fn()
    times: Dict[str, List[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def write_report(path: str, title: str, info: Dict[str, str],
                 load_before: str, start: float, body: List[str]) -> None:
    """Write a markdown report atomically: header, machine, then body."""
    lines = [f'# {title}', '']
    lines += [f'- {key}: {value}' for key, value in info.items()]
    lines += [
        f'- load average (1, 5, 15 min) before / after: {load_before} / '
        f'{load_average()} (compare rows of one run, not runs)',
        f'- date: {datetime.datetime.now().isoformat(timespec="seconds")}',
        f'- command: `python {" ".join(sys.argv)}`',
        f'- total time: {time.perf_counter() - start:.0f} s', ''
    ] + body
    atomic_write_text(path, '\n'.join(lines) + '\n')
    print(f'wrote {path}')


def run_and_report(out: str, title: str, info: Dict[str, str],
                   bench: Callable[[], List[str]]) -> None:
    """Run ``bench`` (it returns the report's lines) and write the report.

    The load average before and the total time frame the run, as
    :func:`write_report` records them.
    """
    load_before = load_average()
    start = time.perf_counter()
    body = bench()
    write_report(out, title, info, load_before, start, body)


def autocast(device: str, amp: bool):
    """bf16 autocast on CUDA when asked (fp32 everywhere else)."""
    if amp and device.startswith('cuda'):
        return torch.autocast('cuda', dtype=torch.bfloat16)
    return nullcontext()


def current_rss() -> int:
    """Resident memory of this process now, in bytes (Linux)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakRSS:
    """Highest resident memory while the block runs, above the start.

    Polls ``/proc/self/statm`` from a thread every ``interval`` seconds
    (``ru_maxrss`` cannot do this: it keeps the high-water mark of imports
    and set-up, which a forward pass may never exceed).
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.peak = 0

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss() - self.start)
            time.sleep(self.interval)

    def __enter__(self) -> 'PeakRSS':
        import threading
        self.start = current_rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss() - self.start)
