import logging
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.runner import Runner

from astf_mm.engine import console
from astf_mm.engine.console import (ConsoleSummaryRunner, LoopProgressHook,
                                    keep_details_in_file)
from tests.utils import ROOT, SAMPLE_STAGE1


def test_details_go_to_the_log_file_only(tmp_path, capsys):
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance(
        'test_console_details', log_file=str(log_file), log_level='INFO')
    keep_details_in_file(logger)
    keep_details_in_file(logger)  # once per handler, however often called
    console_handlers = [
        h for h in logger.handlers if not isinstance(h, logging.FileHandler)
    ]
    assert [len(h.filters) for h in console_handlers] == [2]  # + mmengine's
    logger.info('Config:\nmodel = dict(\n    type=...)')
    logger.info('\n' + '-' * 60 + '\nSystem environment:\n    Python: 3')
    logger.info('paramwise_options -- generator.spynet.weight:lr_mult=0.25')
    logger.warning('ldv is not a meta file, simply parsed as meta '
                   'information')
    logger.info('Iter(train) [2/2]  loss: 0.1')
    logger.error('Config: an error is always shown')
    for handler in logger.handlers:
        handler.flush()
    shown = capsys.readouterr().out
    assert 'Iter(train) [2/2]' in shown
    assert 'an error is always shown' in shown
    for detail in ('model = dict(', 'System environment', 'paramwise',
                   'not a meta file'):
        assert detail not in shown
    kept = log_file.read_text()
    for line in ('model = dict(', 'System environment', 'paramwise_options',
                 'not a meta file', 'Iter(train) [2/2]', 'always shown'):
        assert line in kept


class RecordingBar:

    def __init__(self, total=None, desc=None, **kwargs):
        self.total, self.desc, self.n, self.closed = total, desc, 0, False

    def update(self, n=1):
        self.n += n

    def close(self):
        self.closed = True


def test_loop_progress_hook_counts_batches(monkeypatch):
    monkeypatch.setattr(console, 'tqdm', RecordingBar)
    # mmagic's loops hold several dataloaders, mmengine's one
    runner = SimpleNamespace(
        val_loop=SimpleNamespace(dataloader=[0] * 2),
        test_loop=SimpleNamespace(dataloaders=[[0] * 2, [0]]))
    hook = LoopProgressHook()
    for mode, total in (('test', 3), ('val', 2)):
        getattr(hook, f'before_{mode}_epoch')(runner)
        bar = hook.bar
        assert (bar.desc, bar.total, bar.n) == (mode, total, 0)
        for i in range(total - 1):
            getattr(hook, f'after_{mode}_iter')(runner, i)
        assert bar.n == total - 1 and not bar.closed
        # closed with the last batch: the results line starts a new line
        getattr(hook, f'after_{mode}_iter')(runner, total - 1)
        assert bar.n == total and bar.closed and hook.bar is None
        getattr(hook, f'after_{mode}_epoch')(runner)
    # only the loops asked for
    hook = LoopProgressHook(modes=('test', ))
    hook.before_val_epoch(runner)
    assert hook.bar is None
    with pytest.raises(ValueError, match="must be val or test, got"):
        LoopProgressHook(modes=('train', ))


def test_a_default_hook_set_to_none_is_left_out(tmp_path):
    # mmengine's Runner asserts on None for names outside its six defaults;
    # ours removes any, and still removes a built-in one as mmengine does
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    cfg.merge_from_dict({
        'work_dir': str(tmp_path / 'work'),
        'default_hooks.flow_monitor': None,
        'default_hooks.visualization': None,
        'default_hooks.timer': None,
        'train_dataloader': None, 'train_cfg': None, 'optim_wrapper': None,
        'param_scheduler': None, 'val_dataloader': None, 'val_cfg': None,
        'val_evaluator': None, 'test_dataloader': None, 'test_cfg': None,
        'test_evaluator': None, 'launcher': 'none'})
    with pytest.raises(AssertionError):
        Runner.from_cfg(cfg.copy())
    runner = ConsoleSummaryRunner.from_cfg(cfg)
    names = [type(hook).__name__ for hook in runner.hooks]
    for removed in ('FlowMonitorHook', 'SampleImagesHook', 'IterTimerHook'):
        assert removed not in names
    assert {'RuntimeInfoHook', 'DistSamplerSeedHook', 'LoggerHook',
            'AtomicCheckpointHook'} <= set(names)
