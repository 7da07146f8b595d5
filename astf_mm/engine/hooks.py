"""A checkpoint hook that never leaves a truncated or missing checkpoint.

mmengine's ``CheckpointHook`` (0.10.7) writes ``iter_N.pth``, the best
checkpoint and ``last_checkpoint`` directly under their final names, and
deletes the oldest checkpoint (``max_keep_ckpts``) and the previous best
*before* writing the new one. A kill or a failed write (full disk) in
between leaves a truncated file that resume then loads, or, with
``max_keep_ckpts=1``, no checkpoint at all.

:class:`AtomicCheckpointHook` keeps every option and file name of
``CheckpointHook`` and changes only the order of operations: each file is
written to a hidden temporary name in the same folder, flushed to disk and
renamed; ``last_checkpoint`` is updated after that rename; outdated
checkpoints and the previous best are removed last. The disk therefore
holds one checkpoint more than ``max_keep_ckpts`` for the length of a save.
Temporaries left by a killed run (``.iter_N.pth.astf-tmp-<pid>``) are
removed, with a log line, when the next run starts.
"""
import os
import os.path as osp
import re
from typing import Callable, List, Optional

from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from astf_mm.io import atomic_write

TMP_TAG = '.astf-tmp-'
_TMP_RE = re.compile(r'^\..+' + re.escape(TMP_TAG) + r'(\d+)$')


def temp_name(filename: str) -> str:
    """The hidden temporary name a checkpoint file is written under.

    Args:
        filename (str): The final file name (no folder).

    Returns:
        str: ``.<filename>.astf-tmp-<pid>``.
    """
    return f'.{filename}{TMP_TAG}{os.getpid()}'


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def write_atomically(path: str, write: Callable[[str], None]) -> None:
    """Write ``path`` through its hidden temporary (:func:`temp_name`).

    :func:`astf_mm.io.atomic_write` with the hook's temporary name, whose
    pid lets a later run tell a stale temporary from a live one: the data
    and the rename are flushed to disk; on any exception (or Ctrl-C) the
    temporary file is removed and the exception re-raised, so ``path`` is
    either untouched or complete.

    Args:
        path (str): The final path.
        write (Callable[[str], None]): Writes the content to the path given.
    """
    folder, name = osp.split(osp.abspath(path))
    atomic_write(path, write, tmp=osp.join(folder, temp_name(name)))


def _write_text(text: str) -> Callable[[str], None]:

    def write(path: str) -> None:
        with open(path, 'w') as f:
            f.write(text)

    return write


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` only record the path."""

    def __init__(self, backend, pending: List[str]) -> None:
        self._backend = backend
        self._pending = pending

    def remove(self, path: str) -> None:
        self._pending.append(path)

    def rmtree(self, path: str) -> None:
        self._pending.append(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


class _AtomicSaveRunner:
    """The runner as the parent hook sees it: ``save_checkpoint`` atomic."""

    def __init__(self, runner, written: List[str]) -> None:
        self.runner = runner
        self._written = written

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        path = osp.join(out_dir, filename)
        _save_runner_checkpoint(self.runner, path, *args, **kwargs)
        self._written.append(path)

    def __getattr__(self, name: str):
        return getattr(self.runner, name)


def _save_runner_checkpoint(runner, path: str, *args, **kwargs) -> None:
    """``runner.save_checkpoint`` to ``path`` through a temporary name."""
    folder, name = osp.split(path)
    if not is_main_process():
        # Runner.save_checkpoint is master-only: nothing to write or rename
        runner.save_checkpoint(folder, name, *args, **kwargs)
        return
    write_atomically(
        path, lambda tmp: runner.save_checkpoint(folder, osp.basename(tmp),
                                                 *args, **kwargs))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with crash-safe saving and removal.

    Same arguments and file names as ``CheckpointHook``. Every checkpoint
    (``iter_N.pth``/``epoch_N.pth``, ``best_*.pth``) and the
    ``last_checkpoint`` file is written to ``.<name>.astf-tmp-<pid>`` in the
    same folder, flushed and renamed; the checkpoints that ``max_keep_ckpts``
    drops and the previous best are removed only after the new file is
    complete. A save that fails leaves the previous checkpoints and
    ``last_checkpoint`` as they were, and no file under the new name.

    The out folder must be a local path (renames are what make the writes
    atomic); for other storage backends use ``CheckpointHook``. Copies made
    by ``published_keys`` are written by ``CheckpointHook`` unchanged.
    """

    def before_train(self, runner) -> None:
        """Set up as ``CheckpointHook``; remove stale temporaries.

        Args:
            runner (Runner): The runner.
        """
        super().before_train(runner)
        backend = getattr(self.file_backend, 'client', self.file_backend)
        if not isinstance(backend, LocalBackend):
            raise ValueError(
                f'AtomicCheckpointHook needs a local out_dir, got '
                f'{self.out_dir} ({type(backend).__name__}); use '
                "default_hooks.checkpoint.type='CheckpointHook' there.")
        if is_main_process():
            for folder in dict.fromkeys([self.out_dir, runner.work_dir]):
                self._remove_stale_temporaries(runner, folder)

    @staticmethod
    def _remove_stale_temporaries(runner, folder: str) -> None:
        if not osp.isdir(folder):
            return
        for name in sorted(os.listdir(folder)):
            match = _TMP_RE.match(name)
            path = osp.join(folder, name)
            if match and osp.isfile(path) and not _pid_alive(
                    int(match.group(1))):
                os.remove(path)
                runner.logger.warning(
                    f'Removed {path}: a partial checkpoint left by an '
                    'interrupted save.')

    def _remove_now(self, runner, path: str) -> None:
        if not is_main_process():
            return
        backend = getattr(self.file_backend, '_backend', self.file_backend)
        if backend.isfile(path):
            backend.remove(path)
        elif backend.isdir(path):  # deepspeed checkpoints are folders
            backend.rmtree(path)
        else:
            return
        runner.logger.info(f'Removed the outdated checkpoint {path}.')

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Save ``filename_tmpl.format(step)``, then drop the oldest one.

        Args:
            runner (Runner): The runner (or the view
                :meth:`_save_best_checkpoint` passes).
            step (int): Epoch or iteration of the checkpoint.
            meta (dict): Checkpoint meta.
        """
        runner = getattr(runner, 'runner', runner)
        dropped: Optional[int] = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                dropped = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        _save_runner_checkpoint(
            runner,
            self.last_ckpt,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_atomically(
            osp.join(runner.work_dir, 'last_checkpoint'),
            _write_text(self.last_ckpt))
        if dropped is not None and dropped != step:
            self._remove_now(
                runner,
                self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(dropped)))

    def _save_best_checkpoint(self, runner, metrics: dict) -> None:
        """``CheckpointHook``'s best-checkpoint logic, with the new best
        written atomically before the previous best is removed.

        Args:
            runner (Runner): The runner.
            metrics (dict): Evaluation results.
        """
        pending: List[str] = []
        written: List[str] = []
        backend = self.file_backend
        self.file_backend = _DeferredRemoval(backend, pending)
        try:
            super()._save_best_checkpoint(
                _AtomicSaveRunner(runner, written), metrics)
        finally:
            self.file_backend = backend
        for path in pending:
            if path not in written:
                self._remove_now(runner, path)
