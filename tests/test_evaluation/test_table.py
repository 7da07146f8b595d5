"""The per-video table: collection and markdown."""
from types import SimpleNamespace

from astf_mm.evaluation import table_markdown
from astf_mm.evaluation.table import collect_table


def test_collect_and_markdown():
    metrics = [
        SimpleNamespace(
            prefix='stage1',
            pred_key='pred_img',
            metric='PSNR',
            per_video=[{
                'video': 'a',
                'PSNR': 30.0
            }, {
                'video': 'b',
                'PSNR': 32.5
            }]),
        SimpleNamespace(
            prefix=None,
            pred_key='fuse',
            metric='tLP',
            per_video=[{
                'video': 'a',
                'tLP': 1.234
            }]),
        SimpleNamespace(prefix='x', pred_key='y', metric='FID', per_video=[]),
        object(),  # a metric without per-video values
    ]
    table = collect_table(metrics)
    assert table == {
        'stage1': {
            'PSNR': {
                'a': 30.0,
                'b': 32.5
            }
        },
        'fuse': {
            'tLP': {
                'a': 1.234
            }
        }
    }
    assert table_markdown(table, {'stage1': 'Stage 1'}) == '\n'.join([
        '### Average over videos', '', '| row | PSNR ↑ | tLP ↓ |',
        '|---|---|---|', '| Stage 1 | 31.250 | - |', '| fuse | - | 1.23 |',
        '', '### PSNR ↑ per video', '', '| row | a | b |', '|---|---|---|',
        '| Stage 1 | 30.000 | 32.500 |', '| fuse | - | - |', '',
        '### tLP ↓ per video', '', '| row | a | b |', '|---|---|---|',
        '| Stage 1 | - | - |', '| fuse | 1.23 | - |'
    ]) + '\n'
