"""Helpers shared by the benchmark scripts: machine facts, timing, reports."""
import datetime
import os
import platform
import statistics
import sys
import time
from typing import Callable, Dict, List

import torch


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (or ``platform``)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


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
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, path)
    print(f'wrote {path}')
