"""Restorers side by side: quality, size and speed in one run.

``python tools/analysis_tools/compare_restorers.py
--entry astf configs/astf/sample/astf_fusion-ps4_c32b6_corpus-qp37.py
--entry enhancenet configs/peers/enhancenet-ps4_c32b6_corpus-qp37.py
--data-root data/sample --ann-file meta_info_val.txt --out compare.md``

Each ``--entry NAME CONFIG [CHECKPOINT]`` is a test config (an mmagic
restorer's, a stage config or the end-to-end ASTF config) and the weights of
its model (a Runner checkpoint of the whole model; without one, the
config's ``load_from``; ASTF configs name their networks' weights
themselves). Every entry runs on the same videos (its config's test
dataset, re-pointed by ``--data-root`` / ``--ann-file`` / ``--lq-folder``;
entries that would read different videos are refused) through
``model.test_step``, as ``tools/test.py`` runs it, and is scored by the
per-video metrics of :mod:`astf_mm.evaluation` (those of the ASTF configs'
rows: PSNR, SSIM, LPIPS, FID, tOF, tLP). Every image an output data sample
holds is a row: ASTF gives its intermediate results (stage 1, both
refiners, the fusion) besides its output, and the compressed input.

Measured in the same run, per entry: parameters; FLOPs per output frame
(mmengine's ``FlopAnalyzer``, one multiply-add = 1 FLOP, on a probe clip of
``--flops-frames`` frames at the first video's size; operators it cannot
count, e.g. ``grid_sample`` or deformable convolutions, are listed and not
counted); seconds per output frame (``test_step`` wall time over the
dataset, data preprocessing included, first call included; and the
process's CPU time in those calls, all threads); peak memory
during ``test_step`` above what was in use before it (CUDA:
``torch.cuda.max_memory_allocated``; CPU: the peak resident set size,
``VmHWM`` of ``/proc/self/status`` reset through ``/proc/self/clear_refs``
before each call, or the process's lifetime peak ``ru_maxrss`` where that
reset is unavailable: the JSON and markdown say which).

Writes ``--out`` (markdown), the JSON beside it (``.json``) and a
quality-vs-speed plot (``.png``), each refused if it exists unless
``--overwrite``, each written under a temporary name then renamed.
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import sys
import time
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmagic.registry import DATASETS, METRICS, MODELS
from mmengine.analysis import FlopAnalyzer
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.evaluation.table import collect_table, table_markdown
from astf_mm.io import (OutputPathError, atomic_write, atomic_write_text,
                        check_output_path)
from astf_mm.models import ASTF
from astf_mm.models.astf_model import ROW_TITLES, ROWS
from astf_mm.utils.checkpoint import load_checked_state_dict
from astf_mm.utils.cli import add_device_arg
from astf_mm.utils.machine import cpu_name
from astf_mm.utils.shipped_files import resolve_config

# The metrics of the ASTF configs' rows (their one home, inherited by the
# fusion and peer configs): one list for every entry.
METRICS_CONFIG = 'astf_mm::_base_/row_metrics.py'
# Output data-sample key -> ASTF row (pred_img is the final output).
ROW_OF_KEY = {
    **{f'{row}_img': row
       for row in ROWS if row != 'fused_sharp'}, 'pred_img': 'fused_sharp'
}
MIB = 1024.0**2


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate restorers on the same videos with the same '
        'per-video metrics; measure their size and speed')
    parser.add_argument(
        '--entry',
        nargs='+',
        action='append',
        required=True,
        metavar='NAME CONFIG [CHECKPOINT]',
        help='a restorer: its name in the table, its test config and the '
        'checkpoint of its model (repeat for each restorer)')
    parser.add_argument(
        '--data-root', help='dataset root for every entry (default: each '
        "config's test dataset)")
    parser.add_argument('--ann-file', help='annotation file under the root')
    parser.add_argument(
        '--lq-folder', help='folder of the compressed frames under the root')
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=None,
        help='a subset of the metrics by name (default: all of '
        'PSNR SSIM LPIPS FID tOF tLP)')
    parser.add_argument(
        '--flops-frames',
        type=int,
        default=5,
        help='frames of the clip FLOPs are counted on')
    parser.add_argument(
        '--out',
        required=True,
        help='markdown table; the JSON and the PNG plot go beside it')
    parser.add_argument('--overwrite', action='store_true')
    add_device_arg(parser)
    args = parser.parse_args(argv)
    names = set()
    for entry in args.entry:
        if len(entry) not in (2, 3):
            parser.error(f'--entry takes NAME CONFIG [CHECKPOINT], got '
                         f'{" ".join(entry)}')
        if entry[0] in names:
            parser.error(f'--entry: the name {entry[0]} is given twice')
        names.add(entry[0])
    if args.flops_frames < 1:
        parser.error('--flops-frames must be at least 1')
    return args


def metric_configs(names: Optional[Sequence[str]] = None) -> List[dict]:
    """The ASTF rows' metric configs, optionally a subset by name.

    Args:
        names (Sequence[str], optional): Metric names (``PSNR``, ``tOF``,
            ...). Default: None (all).

    Returns:
        list[dict]: Metric configs, in the ASTF config's order.

    Raises:
        ValueError: Naming a metric that is not among them.
    """
    configs = Config.fromfile(
        resolve_config(METRICS_CONFIG)).row_metrics
    by_name = {
        METRICS.get(cfg['type']).metric: dict(cfg)
        for cfg in configs
    }
    if names is None:
        return list(by_name.values())
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f'--metrics: unknown {unknown}; choose among '
                         f'{list(by_name)}.')
    return [cfg for name, cfg in by_name.items() if name in names]


def entry_weights(name: str, cfg: Config,
                  checkpoint: Optional[str]) -> Optional[str]:
    """The checkpoint of an entry's model: the one given, else the
    config's ``load_from``; None for ASTF (its networks name theirs).

    Raises:
        ValueError: If a model other than ASTF has none (a randomly
            initialised network is not a restorer to compare with).
    """
    checkpoint = checkpoint or cfg.get('load_from')
    if cfg.model.get('type') != 'ASTF' and not checkpoint:
        raise ValueError(
            f'--entry {name}: {cfg.filename} names no weights; give the '
            'checkpoint after the config (a randomly initialised network '
            'is not a restorer to compare with).')
    return checkpoint


def load_entry(name: str, cfg: Config, checkpoint: Optional[str],
               device: str) -> Tuple[torch.nn.Module, str]:
    """Build an entry's model with its trained weights.

    Args:
        name (str): The entry's name, for messages.
        cfg (Config): Its config.
        checkpoint (str, optional): From :func:`entry_weights`: a Runner
            checkpoint of the model (its generator's weights, all of them,
            are loaded) or a state dict.
        device (str): Where the model goes.

    Returns:
        tuple: The model (eval mode) and where its weights came from.
    """
    model_cfg = cfg.model.to_dict()
    if checkpoint and model_cfg.get('generator', {}).get('spynet_pretrained'):
        # the checkpoint holds every weight, SPyNet's included
        model_cfg['generator']['spynet_pretrained'] = None
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg)
    source = 'the networks named by the config'
    if checkpoint:
        # an mmagic editor's weights are its generator's (its other state,
        # e.g. BasicVSR's step counter, is training state)
        target = getattr(model, 'generator', model)
        state, digest = load_checked_state_dict(
            checkpoint,
            prefix='generator.' if target is not model else None,
            name=f'--entry {name}')
        try:
            target.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise RuntimeError(f'--entry {name}: checkpoint {checkpoint} '
                               f'does not fit {cfg.filename}: {err}') from None
        source = f'{checkpoint} (sha256 {digest[:12]})'
    return model.to(device).eval(), source


def build_dataset(cfg: Config, args: argparse.Namespace):
    """An entry's test dataset, re-pointed by the command line."""
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    if args.data_root:
        dataset_cfg.data_root = args.data_root
    if args.ann_file:
        dataset_cfg.ann_file = args.ann_file
    if args.lq_folder:
        dataset_cfg.data_prefix.img = args.lq_folder
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(dataset_cfg)


def dataset_identity(dataset) -> Tuple:
    """What must be equal for two entries to read the same videos: each
    video's key, LQ and GT folders."""
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return tuple((info['key'], osp.abspath(str(info['img_path'])),
                  osp.abspath(str(info['gt_path']))) for info in infos)


class PeakMemory:
    """Peak memory of a block of code above what was in use before it.

    Args:
        device (str): ``cpu`` or ``cuda[:N]``.
    """

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)
        if self.device.type == 'cuda':
            self.method = 'CUDA max_memory_allocated'
        elif self._reset_rss_peak():
            self.method = ('peak resident set size (VmHWM, reset before '
                           'each call)')
        else:
            self.method = ('process peak resident set size (ru_maxrss): '
                           'an increase of the lifetime peak only')
        self._base = 0.0

    @staticmethod
    def _status_kib(field: str) -> float:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return float(line.split()[1])
        raise OSError(f'/proc/self/status has no {field}')

    @staticmethod
    def _reset_rss_peak() -> bool:
        # Linux >= 4.0: writing 5 resets VmHWM to the current RSS
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            PeakMemory._status_kib('VmHWM')
            return True
        except OSError:
            return False

    def start(self) -> None:
        """Begin a measurement."""
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        elif self.method.startswith('peak resident'):
            self._reset_rss_peak()
            self._base = self._status_kib('VmRSS') * 1024
        else:
            self._base = resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss * 1024

    def stop(self) -> float:
        """End it: the peak increase in MiB."""
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
        elif self.method.startswith('peak resident'):
            peak = self._status_kib('VmHWM') * 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return max(peak - self._base, 0.0) / MIB


class _TensorForward(torch.nn.Module):
    """``model(x, mode='tensor')`` as a module, for the FLOP counter."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model(inputs, mode='tensor')


def count_flops(model: torch.nn.Module, clip_shape: Tuple[int, ...],
                device: str) -> Tuple[float, Dict[str, int]]:
    """FLOPs per output frame, and the operators left uncounted.

    Args:
        model (nn.Module): An mmagic model (``forward(x, mode='tensor')``).
        clip_shape (tuple): ``(t, 3, h, w)`` of the probe clip.
        device (str): Its device.

    Returns:
        tuple[float, dict]: FLOPs (multiply-adds) per output frame, and
        operator -> calls of those the counter cannot count.
    """
    torch.manual_seed(0)
    probe = torch.rand(1, *clip_shape, device=device)
    with torch.no_grad():
        out = model(probe, mode='tensor')
    analyzer = FlopAnalyzer(_TensorForward(model), (probe, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    analyzer.tracer_warnings('none')
    frames = out.shape[1] if out.dim() == 5 else 1
    return analyzer.total() / frames, dict(analyzer.unsupported_ops())


def output_frames(sample) -> int:
    """Frames of an output data sample's ``pred_img``."""
    pred = sample.output.pred_img
    return pred.shape[0] if pred.dim() == 4 else 1


def row_names(name: str, keys: Sequence[str],
              lq_done: bool) -> Dict[str, str]:
    """Output key -> table row of an entry.

    An entry with one image (``pred_img``) is one row named as the entry;
    an ASTF entry has a row per intermediate result, named
    ``'NAME: <row title>'``, its output named as the entry, and the
    compressed input once for the whole table (``'lq input'``).
    """
    if list(keys) == ['pred_img']:
        return {'pred_img': name}
    rows = {}
    for key in sorted(keys, key=lambda k: ROWS.index(ROW_OF_KEY[k])):
        row = ROW_OF_KEY[key]
        if key == 'pred_img':
            rows[key] = name
        elif row == 'lq':
            if not lq_done:
                rows[key] = ROW_TITLES['lq']
        else:
            rows[key] = f'{name}: {ROW_TITLES[row]}'
    return rows


def evaluate_entry(name: str, model: torch.nn.Module, dataset,
                   metrics: List[dict], device: str,
                   lq_done: bool) -> Tuple[dict, dict]:
    """Run one entry over the dataset and score every row.

    Returns:
        tuple[dict, dict]: The per-video table (row -> metric -> video ->
        value) and the run's measurements (``seconds_per_frame``,
        ``frames``, ``peak_memory_mib``, ``rows``).
    """
    memory = PeakMemory(device)
    scorers: Optional[List] = None
    rows: Dict[str, str] = {}
    seconds, cpu_seconds, frames, peak = 0.0, 0.0, 0, 0.0
    for index in tqdm(range(len(dataset)), desc=name, unit='video'):
        data = pseudo_collate([dataset[index]])
        memory.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.no_grad():
            outputs = model.test_step(data)
        if device.startswith('cuda'):
            torch.cuda.synchronize(device)
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        peak = max(peak, memory.stop())
        frames += sum(output_frames(sample) for sample in outputs)
        if scorers is None:
            keys = [k for k in outputs[0].output.keys() if k in ROW_OF_KEY]
            rows = row_names(name, keys, lq_done)
            with DefaultScope.overwrite_default_scope('mmagic'):
                scorers = [
                    METRICS.build(dict(cfg, pred_key=key, prefix=row))
                    for key, row in rows.items() for cfg in metrics
                ]
            for metric in scorers:  # as mmagic's Evaluator prepares them
                metric.prepare(model, SimpleNamespace(dataset=dataset))
        # as mmengine's Evaluator hands them data samples
        samples = [sample.to_dict() for sample in outputs]
        for metric in scorers:
            metric.process(data, samples)
    for metric in scorers:
        metric.evaluate()
    run = dict(
        seconds_per_frame=seconds / frames,
        cpu_seconds_per_frame=cpu_seconds / frames,
        frames=frames,
        peak_memory_mib=peak,
        memory_method=memory.method,
        rows=list(rows.values()))
    return collect_table(scorers), run


def machine(device: str) -> str:
    """The machine a run's numbers hold for."""
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    return (f'{cpu_name()}, {os.cpu_count()} logical cores, '
            f'{torch.get_num_threads()} torch threads')


def cost_markdown(entries: Dict[str, dict]) -> str:
    """The table of sizes and speeds, one row per entry."""
    lines = [
        '| entry | parameters (M) | GFLOPs / frame | s / frame | '
        'CPU s / frame | peak memory (MiB) | frames |',
        '|---|---|---|---|---|---|---|'
    ]
    for name, e in entries.items():
        lines.append(f"| {name} | {e['parameters'] / 1e6:.3f} | "
                     f"{e['flops_per_frame'] / 1e9:.2f} | "
                     f"{e['seconds_per_frame']:.3f} | "
                     f"{e['cpu_seconds_per_frame']:.3f} | "
                     f"{e['peak_memory_mib']:.0f} | {e['frames']} |")
    return '\n'.join(lines) + '\n'


def report_markdown(report: dict) -> str:
    """The whole markdown report."""
    entries = report['entries']
    lines = [
        '## Restorers compared', '',
        f"Dataset: {report['dataset']} ({report['videos']} videos). "
        f"Machine: {report['machine']} (device {report['device']}); "
        'load average (1 min) at the start and the end: '
        f"{report['load_average'][0]:.1f}, "
        f"{report['load_average'][1]:.1f}.", '',
        '| entry | config | weights |', '|---|---|---|'
    ]
    lines += [
        f"| {name} | {e['config']} | {e['weights']} |"
        for name, e in entries.items()
    ]
    uncounted = sorted({op for e in entries.values() for op in e['uncounted']})
    lines += [
        '', '### Size and speed', '',
        cost_markdown(entries).rstrip('\n'), '',
        'FLOPs: mmengine FlopAnalyzer, one multiply-add = 1 FLOP, on a '
        f"{report['flops_clip']} probe clip"
        + (f"; not counted: {', '.join(uncounted)}" if uncounted else '')
        + '. Seconds: test_step wall time over the dataset, data '
        'preprocessing and the first call included; CPU seconds: the '
        "process's CPU time in those calls, all threads (less sensitive "
        'to other jobs on the machine). Peak memory: '
        f"{report['memory_method']}, above what was in use before each "
        'call.', '', table_markdown(report['table']).rstrip('\n')
    ]
    return '\n'.join(lines) + '\n'


def plot_quality_speed(report: dict, path: str) -> None:
    """Each entry's output: PSNR (and LPIPS) against seconds per frame."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    table = report['table']
    names = [n for n in report['entries'] if n in table]
    panels = [
        m for m in ('PSNR', 'LPIPS') if any(m in table[n] for n in names)
    ]
    fig, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(5 * max(len(panels), 1), 4))
    axes = [axes] if not hasattr(axes, '__len__') else list(axes)
    for ax, metric in zip(axes, panels):
        for name in names:
            per_video = table[name].get(metric)
            if not per_video:
                continue
            x = report['entries'][name]['seconds_per_frame']
            y = sum(per_video.values()) / len(per_video)
            ax.plot(x, y, 'o')
            ax.annotate(name, (x, y), textcoords='offset points',
                        xytext=(5, 5))
        arrow = '(lower is better)' if metric == 'LPIPS' else \
            '(higher is better)'
        ax.set_xlabel('seconds per frame')
        ax.set_ylabel(f'{metric} {arrow}')
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"Quality against speed: {report['dataset']}",
                 fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)


def check_entries(args: argparse.Namespace) -> List[Tuple]:
    """Load every entry's config and dataset before any model runs.

    Returns:
        list[tuple]: ``(name, config path, Config, checkpoint, dataset)``
        per entry.

    Raises:
        ValueError: If an entry names no weights, or reads other videos
            than the first.
    """
    entries = []
    for entry in args.entry:
        name, config = entry[:2]
        cfg = Config.fromfile(resolve_config(config))
        checkpoint = entry_weights(name, cfg,
                                   entry[2] if len(entry) == 3 else None)
        dataset = build_dataset(cfg, args)
        if entries and dataset_identity(dataset) != dataset_identity(
                entries[0][4]):
            raise ValueError(
                f'--entry {name} ({config}) reads other videos than --entry '
                f'{entries[0][0]}: give --data-root/--ann-file so that '
                'every entry reads the same ones.')
        entries.append((name, config, cfg, checkpoint, dataset))
    return entries


def compare(args: argparse.Namespace) -> dict:
    """Evaluate and measure every entry; the report as a dict."""
    metrics = metric_configs(args.metrics)
    entries = check_entries(args)
    dataset = entries[0][4]
    first = dataset[0]['inputs']
    clip = (min(args.flops_frames, first.shape[0]), *first.shape[1:])
    report = dict(
        entries={},
        table={},
        dataset=(f'{dataset.data_root} ({osp.basename(dataset.ann_file)})'
                 if dataset.ann_file else dataset.data_root),
        videos=len(dataset),
        flops_clip='x'.join(map(str, clip)),
        device=args.device,
        machine=machine(args.device),
        load_average=[os.getloadavg()[0]])
    for name, config, cfg, checkpoint, dataset in entries:
        model, weights = load_entry(name, cfg, checkpoint, args.device)
        flops, uncounted = count_flops(model, clip, args.device)
        table, run = evaluate_entry(name, model, dataset, metrics,
                                    args.device,
                                    ROW_TITLES['lq'] in report['table'])
        report['table'].update(table)
        report['memory_method'] = run.pop('memory_method')
        report['entries'][name] = dict(
            config=config,
            weights=weights,
            parameters=sum(p.numel() for p in model.parameters()),
            flops_per_frame=flops,
            uncounted=uncounted,
            astf=isinstance(model, ASTF),
            **run)
        del model
    # other processes on the machine slow every entry down
    report['load_average'].append(os.getloadavg()[0])
    return report


def main(argv=None) -> None:
    args = parse_args(argv)
    stem = osp.splitext(args.out)[0]
    outputs = dict(md=args.out, json=stem + '.json', png=stem + '.png')
    inputs = [args.data_root] + [p for e in args.entry for p in e[1:]]
    try:
        for path in outputs.values():
            check_output_path(
                path, inputs, overwrite=args.overwrite, name='--out')
    except OutputPathError as err:
        sys.exit(f'error: {err}')
    report = compare(args)
    markdown = report_markdown(report)
    atomic_write_text(outputs['json'], json.dumps(report, indent=2))
    plot_quality_speed(report, outputs['png'])
    atomic_write_text(outputs['md'], markdown)
    print(markdown)


if __name__ == '__main__':
    main()
