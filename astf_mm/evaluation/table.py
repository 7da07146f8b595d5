"""The hook that writes the paper-style per-video tables.

One ``tools/test.py`` run of the end-to-end ASTF config evaluates every row
(lq, stage-1, cb+lpips, lpips, fuse, fuse+sharp) with metric entries that
differ only in ``pred_key`` and ``prefix``. Every per-video metric keeps its
videos' values in ``per_video``; :class:`PerVideoTableHook` gathers them
into one table (rows x metrics, per video and averaged) written as markdown
and JSON.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
from mmagic.registry import HOOKS
from mmengine.dist import master_only
from mmengine.hooks import Hook

from ..io import atomic_write_text
from ..models.astf_model import ROW_TITLES

LOWER_IS_BETTER = ('LPIPS', 'FID', 'tOF', 'tLP', 'WarpingError')


def collect_table(metrics) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Gather ``per_video`` values: row (prefix) -> metric -> video -> value.

    Args:
        metrics (Iterable): Evaluator metrics; those without ``per_video``
            are skipped.

    Returns:
        dict: The nested table, rows in evaluation order.
    """
    table: Dict[str, Dict[str, Dict[str, float]]] = {}
    for metric in metrics:
        per_video = getattr(metric, 'per_video', None)
        if not per_video:
            continue
        row = metric.prefix or metric.pred_key
        name = metric.metric
        cells = table.setdefault(row, {}).setdefault(name, {})
        for entry in per_video:
            cells[entry['video']] = float(entry[name])
    return table


def _fmt(value: Optional[float], name: str) -> str:
    if value is None or np.isnan(value):
        return '-'
    if name in ('PSNR', ):
        # three decimals: sample-scale gains are hundredths of a dB
        return f'{value:.3f}'
    if name in ('FID', 'tLP'):
        return f'{value:.2f}'
    if name == 'WarpingError':
        return f'{value:.2e}'
    return f'{value:.4f}'


def table_markdown(table: Dict[str, Dict[str, Dict[str, float]]],
                   row_titles: Optional[Dict[str, str]] = None) -> str:
    """Markdown: an average table, then one table per metric by video."""
    row_titles = row_titles or {}
    names: List[str] = []
    videos: List[str] = []
    for cells in table.values():
        for name, per_video in cells.items():
            if name not in names:
                names.append(name)
            videos.extend(v for v in per_video if v not in videos)
    arrows = {n: ('↓' if n in LOWER_IS_BETTER else '↑') for n in names}
    lines = ['### Average over videos', '',
             '| row | ' + ' | '.join(f'{n} {arrows[n]}' for n in names) +
             ' |', '|---' * (len(names) + 1) + '|']
    for row, cells in table.items():
        values = [
            _fmt(
                float(np.mean(list(cells[n].values())))
                if n in cells else None, n) for n in names
        ]
        lines.append(f'| {row_titles.get(row, row)} | ' +
                     ' | '.join(values) + ' |')
    for name in names:
        lines += ['', f'### {name} {arrows[name]} per video', '',
                  '| row | ' + ' | '.join(videos) + ' |',
                  '|---' * (len(videos) + 1) + '|']
        for row, cells in table.items():
            per_video = cells.get(name, {})
            lines.append(f'| {row_titles.get(row, row)} | ' + ' | '.join(
                _fmt(per_video.get(v), name) for v in videos) + ' |')
    return '\n'.join(lines) + '\n'


@HOOKS.register_module()
class PerVideoTableHook(Hook):
    """Write the per-video results of a test run as markdown and JSON.

    Args:
        out_dir (str, optional): Folder of ``{filename}.md`` and
            ``{filename}.json``. Default: the run's log folder.
        filename (str): Base name of the files. Default: ``'astf_table'``.
        row_titles (dict, optional): Row (metric prefix) -> title.
            Default: the paper's row names for the ASTF rows.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 filename: str = 'astf_table',
                 row_titles: Optional[Dict[str, str]] = None) -> None:
        self.out_dir = out_dir
        self.filename = filename
        self.row_titles = ROW_TITLES if row_titles is None else row_titles

    @master_only
    def after_test_epoch(self, runner, metrics=None) -> None:
        table = collect_table(runner.test_evaluator.metrics)
        if not table:
            runner.logger.warning('PerVideoTableHook: no per-video metric '
                                  'in the test evaluator.')
            return
        out_dir = self.out_dir or runner.log_dir
        os.makedirs(out_dir, exist_ok=True)
        markdown = table_markdown(table, self.row_titles)
        base = osp.join(out_dir, self.filename)
        atomic_write_text(base + '.md', markdown)
        atomic_write_text(base + '.json', json.dumps(table, indent=2))
        runner.logger.info(f'Per-video results ({base}.md):\n{markdown}')
