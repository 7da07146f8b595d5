"""AtomicCheckpointHook on real tiny training runs: a save that fails
mid-write (a kill or a full disk) leaves the previous checkpoints, the
previous best and ``last_checkpoint`` intact, and resume works."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from astf_mm.engine import AtomicCheckpointHook
from astf_mm.engine.hooks import TMP_TAG, write_atomically
from tests.utils import (ROOT, SAMPLE_STAGE1, make_frames_dataset,
                         tiny_overrides)

_put = LocalBackend.put


def build_runner(tmp_path,
                 hook='AtomicCheckpointHook',
                 validate=False,
                 **extra) -> Runner:
    data_root = tmp_path / 'data'
    if not data_root.exists():
        make_frames_dataset(data_root)
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    options = tiny_overrides(data_root, tmp_path / 'work', max_iters=3)
    options.update({
        'default_hooks.checkpoint.type': hook,
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        'custom_hooks': [],
    })
    if not validate:
        options.update(val_dataloader=None, val_cfg=None, val_evaluator=None)
    options.update(extra)
    cfg.merge_from_dict(options)
    cfg.launcher = 'none'
    return Runner.from_cfg(cfg)


def fail_writing(monkeypatch, marker: str) -> list:
    """Make writes of files whose name holds ``marker`` stop half-way."""
    calls = []

    def put(self, obj, filepath):
        calls.append(osp.basename(str(filepath)))
        if marker in osp.basename(str(filepath)):
            _put(self, obj[:len(obj) // 2], filepath)
            raise OSError(28, 'No space left on device (test)')
        _put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put)
    return calls


def checkpoint_iter(path) -> int:
    return torch.load(path, map_location='cpu',
                      weights_only=False)['meta']['iter']


def listing(folder):
    return sorted(n for n in os.listdir(folder)
                  if n.endswith('.pth') or TMP_TAG in n)


def hook_of(runner):
    return next(h for h in runner.hooks if isinstance(h, CheckpointHook))


def test_mmengine_hook_loses_the_run(tmp_path, monkeypatch):
    # The problem AtomicCheckpointHook exists for (mmengine 0.10.7):
    # with max_keep_ckpts=1 the old checkpoint is gone before the new one
    # is written, and the failed write stays under its final name.
    runner = build_runner(tmp_path, hook='CheckpointHook')
    fail_writing(monkeypatch, 'iter_3')
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    work = tmp_path / 'work'
    assert listing(work) == ['iter_3.pth']
    with pytest.raises(RuntimeError):
        checkpoint_iter(work / 'iter_3.pth')  # truncated


def test_failed_save_keeps_previous_checkpoint_and_resume_works(
        tmp_path, monkeypatch):
    runner = build_runner(tmp_path)
    calls = fail_writing(monkeypatch, 'iter_3')
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    work = tmp_path / 'work'
    # the write went to a hidden temporary name, removed on failure
    assert f'.iter_3.pth{TMP_TAG}{os.getpid()}' in calls
    assert 'iter_3.pth' not in calls
    assert listing(work) == ['iter_2.pth']
    assert checkpoint_iter(work / 'iter_2.pth') == 2
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    assert [n for n in os.listdir(work) if 'tmp' in n] == []

    monkeypatch.setattr(LocalBackend, 'put', _put)
    resumed = build_runner(tmp_path, resume=True)
    resumed.train()
    assert resumed.iter == 3
    assert listing(work) == ['iter_3.pth']
    assert checkpoint_iter(work / 'iter_3.pth') == 3
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_3.pth')


def test_max_keep_removes_old_checkpoint_only_after_new_one(
        tmp_path, monkeypatch):
    work = tmp_path / 'work'
    seen = {}

    def put(self, obj, filepath):
        name = osp.basename(str(filepath))
        seen[name] = listing(work)  # what was on disk when it was written
        _put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put)
    build_runner(tmp_path).train()
    tmp = f'{TMP_TAG}{os.getpid()}'
    assert seen == {
        f'.iter_1.pth{tmp}': [],
        f'.iter_2.pth{tmp}': ['iter_1.pth'],
        f'.iter_3.pth{tmp}': ['iter_2.pth'],
    }
    assert listing(work) == ['iter_3.pth']


@pytest.mark.parametrize('hook', ['CheckpointHook', 'AtomicCheckpointHook'])
def test_failed_best_save(tmp_path, monkeypatch, hook):
    # validation at iteration 2 makes best_PSNR_iter_2.pth
    options = {'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2}
    runner = build_runner(tmp_path, hook=hook, validate=True, **options)
    runner.train()
    work = tmp_path / 'work'
    assert listing(work) == ['best_PSNR_iter_2.pth', 'iter_2.pth']
    # a better score later, whose best checkpoint fails to write
    runner.train_loop._iter = 5
    fail_writing(monkeypatch, 'best_PSNR_iter_5')
    with pytest.raises(OSError, match='No space left'):
        hook_of(runner).after_val_epoch(runner, {'PSNR': 1000.0})
    if hook == 'CheckpointHook':  # before: the previous best is lost
        assert listing(work) == ['best_PSNR_iter_5.pth', 'iter_2.pth']
        return
    assert listing(work) == ['best_PSNR_iter_2.pth', 'iter_2.pth']
    assert checkpoint_iter(work / 'best_PSNR_iter_2.pth') == 2

    # the run resumes from what is left; a complete new best then
    # replaces the old one
    monkeypatch.setattr(LocalBackend, 'put', _put)
    resumed = build_runner(tmp_path, resume=True, validate=True, **options)
    resumed.train()
    resumed.train_loop._iter = 6
    hook_of(resumed).after_val_epoch(resumed, {'PSNR': 1001.0})
    assert listing(work) == ['best_PSNR_iter_6.pth', 'iter_2.pth']
    assert checkpoint_iter(work / 'best_PSNR_iter_6.pth') == 6
    hub = resumed.message_hub
    assert hub.get_info('best_ckpt') == str(work / 'best_PSNR_iter_6.pth')
    assert hub.get_info('best_score') == 1001.0


def test_stale_temporaries_removed_at_start(tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    stale = work / f'.iter_7.pth{TMP_TAG}{dead.pid}'
    stale.write_bytes(b'partial')
    live = work / f'.iter_7.pth{TMP_TAG}{os.getpid()}'
    live.write_bytes(b'being written')
    other = work / '.iter_7.pth.tmp-1'
    other.write_bytes(b'not ours')
    runner = build_runner(tmp_path, **{'train_cfg.max_iters': 1})
    runner.train()
    assert not stale.exists()
    assert live.read_bytes() == b'being written'
    assert other.read_bytes() == b'not ours'
    assert listing(work) == sorted(['iter_1.pth', live.name])


def test_hook_is_the_default_of_every_config():
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'
    assert issubclass(AtomicCheckpointHook, CheckpointHook)


def test_write_atomically_uses_the_pid_temporary(tmp_path, monkeypatch):
    # io.atomic_write with the hook's temporary name (what the stale
    # removal above recognises)
    path = tmp_path / 'last_checkpoint'
    path.write_text('old')
    seen = []

    def fail(tmp):
        seen.append(osp.basename(tmp))
        with open(tmp, 'w') as f:
            f.write('half')
        raise OSError(28, 'No space left on device (test)')

    with pytest.raises(OSError, match='No space left'):
        write_atomically(str(path), fail)
    assert seen == [f'.last_checkpoint{TMP_TAG}{os.getpid()}']
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, 'fsync',
                        lambda fd: synced.append(fd) or real_fsync(fd))
    write_atomically(str(path), lambda tmp: open(tmp, 'w').write('new'))
    assert path.read_text() == 'new'
    assert os.listdir(tmp_path) == ['last_checkpoint']
    assert len(synced) == 2  # the data, then the folder's rename
