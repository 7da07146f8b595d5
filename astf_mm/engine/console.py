"""What ``tools/train.py`` and ``tools/test.py`` show on the console.

mmengine's runner logs everything to the console and to
``<work_dir>/<timestamp>/<timestamp>.log`` alike: the environment, a
several-hundred-line config dump, one ``paramwise_options`` line per
parameter, the hook table. :class:`ConsoleSummaryRunner` keeps those in the
log file only, so the console shows progress, results and where files
went; :class:`LoopProgressHook` gives validation and test a progress bar
with a total, a rate and an ETA (mmengine logs them only every
``LoggerHook.interval`` iterations, which a test of a few long videos never
reaches).
"""
import logging
from typing import Dict, Optional, Sequence, Union

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import MMLogger
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from tqdm import tqdm

# starts of the runner's (and mmengine's) INFO/WARNING records that go to
# the log file only: set-up detail and deprecation notes users cannot act on
FILE_ONLY_PREFIXES = (
    '\n' + '-' * 60 + '\nSystem environment:',
    'Config:\n',
    'paramwise_options -- ',
    'Hooks will be executed in the following order:',
    'Distributed training is not used, all SyncBatchNorm',
    '"FileClient" will be deprecated in future.',
    '"HardDiskBackend" is the alias of "LocalBackend"',
    'The prefix is not set in metric class',
)
FILE_ONLY_SUFFIXES = ('is not a meta file, simply parsed as meta information',
                      )
# the default hooks mmengine's Runner registers itself; a None value removes
# one of these, and mmengine asserts on a None under any other name
MMENGINE_DEFAULT_HOOKS = ('runtime_info', 'timer', 'sampler_seed', 'logger',
                          'param_scheduler', 'checkpoint')


class FileOnlyFilter(logging.Filter):
    """Drop the records of :data:`FILE_ONLY_PREFIXES` (and suffixes) below
    ERROR from the handler it is added to."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        message = record.getMessage()
        return not (message.startswith(FILE_ONLY_PREFIXES)
                    or message.endswith(FILE_ONLY_SUFFIXES))


def keep_details_in_file(logger: logging.Logger) -> None:
    """Add :class:`FileOnlyFilter` to ``logger``'s console handlers.

    File handlers (``logging.FileHandler``, a ``StreamHandler`` subclass)
    keep every record.
    """
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler) and not any(
                    isinstance(f, FileOnlyFilter) for f in handler.filters):
            handler.addFilter(FileOnlyFilter())


class ConsoleSummaryRunner(Runner):
    """mmengine's :class:`Runner` whose console leaves out set-up detail.

    The environment, the config dump, the ``paramwise_options`` lines and
    the hook table go to the work dir's log file only
    (:func:`keep_details_in_file`). Any ``default_hooks`` entry set to None
    is left out, as mmengine does for its own six (so
    ``--cfg-options default_hooks.flow_monitor=None`` turns that hook off
    instead of failing an assertion); the runner is otherwise unchanged.
    """

    def register_default_hooks(
            self,
            hooks: Optional[Dict[str, Union[Hook, Dict]]] = None) -> None:
        if hooks is not None:
            hooks = {
                name: hook
                for name, hook in hooks.items()
                if hook is not None or name in MMENGINE_DEFAULT_HOOKS
            }
        super().register_default_hooks(hooks)

    def build_logger(self,
                     log_level: str = 'INFO',
                     log_file: Optional[str] = None,
                     **kwargs) -> MMLogger:
        logger = super().build_logger(log_level, log_file, **kwargs)
        keep_details_in_file(logger)
        return logger


@HOOKS.register_module()
class LoopProgressHook(Hook):
    """A progress bar (total, rate, ETA) over validation and test batches.

    On the main process only; written to stderr by tqdm, one line that
    updates in place on a terminal.

    Args:
        modes (Sequence[str]): Loops that get a bar, of ``'val'`` and
            ``'test'``. Default: ``('val', 'test')``.
    """
    # before LoggerHook (BELOW_NORMAL), whose results line must not land
    # on the bar's line
    priority = 'NORMAL'

    def __init__(self, modes: Sequence[str] = ('val', 'test')) -> None:
        unknown = set(modes) - {'val', 'test'}
        if unknown:
            raise ValueError(f'LoopProgressHook: modes must be val or test, '
                             f'got {sorted(unknown)}.')
        self.modes = tuple(modes)
        self.bar: Optional[tqdm] = None

    def _start(self, runner, mode: str) -> None:
        if mode not in self.modes or not is_main_process():
            return
        loop = runner.val_loop if mode == 'val' else runner.test_loop
        # mmagic's MultiValLoop/MultiTestLoop (the configs' loops) run
        # several dataloaders, mmengine's loops one
        loaders = getattr(loop, 'dataloaders', None) or [loop.dataloader]
        self.bar = tqdm(
            total=sum(len(loader) for loader in loaders),
            desc=mode,
            unit='batch')

    def _step(self) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n >= self.bar.total:
                self._end()  # the line is finished before results print

    def _end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def before_val_epoch(self, runner) -> None:
        self._start(runner, 'val')

    def before_test_epoch(self, runner) -> None:
        self._start(runner, 'test')

    def after_val_iter(self, runner, batch_idx, data_batch=None,
                       outputs=None) -> None:
        self._step()

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None) -> None:
        self._step()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._end()

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._end()
