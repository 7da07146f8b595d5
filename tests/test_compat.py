import collections
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

from astf_mm import compat


def test_mmcv_ops_shim_state_matches_environment():
    applied = compat.mmcv_has_compiled_ops()
    # under mmcv-lite the stand-in is installed and mmagic.models imports
    import mmagic.models  # noqa: F401
    if not applied:
        assert isinstance(
            __import__('sys').modules['mmcv._ext'], compat._MissingExtModule)


@pytest.mark.skipif(
    compat.mmcv_has_compiled_ops(), reason='full mmcv ops are installed')
def test_a_missing_compiled_op_gives_a_clear_error():
    # deformable convolutions run on torchvision (test_compat_deform_conv)
    from mmcv.ops import nms
    with pytest.raises(compat.MissingMMCVOpsError, match='not available'):
        nms(torch.rand(2, 4), torch.rand(2), 0.5)


def runner_like_checkpoint() -> dict:
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    return dict(
        meta=dict(
            iter=7,
            seed=np.int64(3),
            hist=collections.Counter(a=1),
            arr=np.arange(4, dtype=np.float32),
            dtype=np.dtype('float32')),
        message_hub=dict(log_scalars={'train/loss': buffer}),
        state_dict={'w': torch.ones(2)})


def test_mmengine_checkpoint_loads_without_trusting(tmp_path):
    path = tmp_path / 'iter_7.pth'
    torch.save(runner_like_checkpoint(), path)
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert ckpt['meta']['iter'] == 7
    assert isinstance(ckpt['message_hub']['log_scalars']['train/loss'],
                      HistoryBuffer)
    assert CheckpointLoader._schemes[''] is compat.safe_torch_load


class Foreign:

    def __reduce__(self):
        return (os.getcwd, ())


def test_foreign_object_is_refused_then_trusted(tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': Foreign()}, path)
    monkeypatch.delenv(compat.TRUST_ENV, raising=False)
    with pytest.raises(pickle.UnpicklingError) as err:
        _load_checkpoint(str(path), map_location='cpu')
    assert str(path) in str(err.value)
    assert compat.TRUST_ENV in str(err.value)
    monkeypatch.setenv(compat.TRUST_ENV, str(path))
    ckpt = _load_checkpoint(str(path), map_location='cpu')
    assert ckpt['payload'] == os.getcwd()


class EscapesThroughGetattr:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': EscapesThroughGetattr()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Refusing'):
        compat.safe_torch_load(str(path))


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        compat.safe_torch_load(str(tmp_path / 'nope.pth'))


@pytest.mark.skipif(
    compat.mmcv_has_compiled_ops(), reason='full mmcv ops are installed')
def test_mmengine_sees_no_compiled_ops():
    from mmengine.utils.dl_utils import mmcv_full_available
    assert mmcv_full_available() is False


def bad_checkpoints(tmp_path) -> dict:
    """A good checkpoint and its broken variants, by name."""
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.arange(2000.)}}, good)
    data = good.read_bytes()
    files = {'good': good}
    for name, content in (('empty', b''), ('truncated', data[:len(data) // 2]),
                          ('text', 'résumé: not a checkpoint'.encode()),
                          ('pickle_junk', b'\x80\x02}q\x00(X\x01')):
        files[name] = tmp_path / f'{name}.pth'
        files[name].write_bytes(content)
    files['folder'] = tmp_path / 'folder.pth'
    files['folder'].mkdir()
    return files


@pytest.mark.parametrize(
    'name, error, problem',
    [('empty', compat.CheckpointError, 'is an empty file (0 bytes)'),
     ('truncated', compat.CheckpointError, 'is truncated or corrupt'),
     ('text', compat.CheckpointError, 'is truncated or corrupt'),
     ('pickle_junk', compat.CheckpointError, 'is truncated or corrupt'),
     ('folder', IsADirectoryError, 'is a directory, not a checkpoint file')])
def test_broken_checkpoints_name_the_file_and_the_problem(
        tmp_path, name, error, problem):
    files = bad_checkpoints(tmp_path)
    path = str(files[name])
    # through mmengine (load_from, resume, init_cfg) and directly
    for load in (compat.safe_torch_load,
                 lambda p: _load_checkpoint(p, map_location='cpu')):
        with pytest.raises(error) as err:
            load(path)
        assert f'Checkpoint {path} {problem}' in str(err.value)
    if name == 'truncated':
        size = files['truncated'].stat().st_size
        assert f'({size} bytes; torch.load raised ' in str(err.value)
    assert compat.safe_torch_load(str(files['good']))['state_dict'][
        'w'][1999] == 1999
