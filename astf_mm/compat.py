"""Compatibility shims for the pinned OpenMMLab stack.

Every shim here covers one named upstream problem, switches itself on only
where that problem exists, and is covered by ``tests/test_compat.py``.
:func:`apply_all` is called once when :mod:`astf_mm` is imported, before
anything imports ``mmagic.models``.
"""
import importlib.machinery
import importlib.util
import os
import os.path as osp
import pickle
import sys
import types
from typing import Any, Callable, List

import torch

MMCV_OPS_HINT = (
    'This environment has mmcv-lite, which lacks mmcv\'s compiled ops. '
    'Install the full build (about 25 min on 2 CPU cores):\n'
    '  pip uninstall -y mmcv-lite && MMCV_WITH_OPS=1 MAX_JOBS=2 pip install '
    '--no-build-isolation "setuptools<81" mmcv==2.1.0\n'
    'or, on a CUDA machine, see "GPU install" in the README.')

TRUST_ENV = 'ASTF_TRUSTED_CHECKPOINTS'


class MissingMMCVOpsError(RuntimeError):
    """Raised when an mmcv compiled op is needed but mmcv-lite is installed."""


def _missing_op(name: str) -> Callable:

    def _raise(*args, **kwargs):
        raise MissingMMCVOpsError(
            f'mmcv op "{name}" is not available. {MMCV_OPS_HINT}')

    return _raise


class _MissingExtModule(types.ModuleType):
    """Stand-in for ``mmcv._ext`` whose every attribute raises on call."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        return _missing_op(name)


def mmcv_has_compiled_ops() -> bool:
    """Whether the installed mmcv ships its compiled ``_ext`` module."""
    if 'mmcv._ext' in sys.modules:
        return not isinstance(sys.modules['mmcv._ext'], _MissingExtModule)
    return importlib.util.find_spec('mmcv._ext') is not None


def patch_missing_mmcv_ops() -> bool:
    """Let ``mmagic.models`` import without mmcv's compiled ops.

    Upstream problem: ``import mmagic.models`` imports every editor, and
    BasicVSR++, EDVR and TDAN import ``mmcv.ops`` at module level, which
    fails with ``No module named 'mmcv._ext'`` under mmcv-lite, even for
    models (BasicVSR, ours) that use no compiled op. With the shim the
    import succeeds, and *building* a network that needs a deformable
    convolution raises :class:`MissingMMCVOpsError` saying how to get the
    ops. Active only when ``mmcv._ext`` is missing.

    Returns:
        bool: Whether the shim was applied.
    """
    if mmcv_has_compiled_ops():
        return False
    stand_in = _MissingExtModule('mmcv._ext')
    # A spec without a loader: ``find_spec``/``pkgutil.find_loader`` (used
    # by mmengine's ``mmcv_full_available``) then report "no compiled ops"
    # instead of raising on a module whose ``__spec__`` is None.
    stand_in.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    stand_in.__loader__ = None
    sys.modules['mmcv._ext'] = stand_in
    import mmcv.ops as ops

    def _refuse_init(cls_name: str) -> Callable:

        def __init__(self, *args, **kwargs):
            raise MissingMMCVOpsError(
                f'{type(self).__name__} needs mmcv.ops.{cls_name}, a '
                f'compiled op. {MMCV_OPS_HINT}')

        return __init__

    for cls_name in ('DeformConv2d', 'ModulatedDeformConv2d'):
        cls = getattr(ops, cls_name)
        if not getattr(cls, '_astf_refuses_init', False):
            cls.__init__ = _refuse_init(cls_name)
            cls._astf_refuses_init = True
    return True


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to what a pickled ``HistoryBuffer`` needs.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'min')``; a free ``getattr`` would let a
    crafted file walk from any allowed object to ``__globals__``.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint.')


def checkpoint_safe_globals() -> List[Any]:
    """The non-tensor globals that mmengine/mmagic checkpoints pickle.

    A Runner checkpoint holds the message hub (``HistoryBuffer`` of numpy
    arrays and scalars, whose statistics methods pickle through
    ``getattr``), ``collections.Counter`` and numpy byte payloads
    (``_codecs.encode``, ``bytes``); nothing else outside torch's own
    allowlist.
    """
    import collections

    import _codecs
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    from numpy.core.multiarray import _reconstruct, scalar

    dtype_classes = [type(np.dtype(c)) for c in '?bBhHiIlLqQefdgFDG']
    return [
        HistoryBuffer, collections.Counter, _codecs.encode, bytes,
        _reconstruct, scalar, np.ndarray, np.dtype, *dtype_classes,
        (_history_buffer_getattr, 'builtins.getattr')
    ]


def _trusted(filename: str) -> bool:
    entries = os.environ.get(TRUST_ENV, '')
    trusted = [
        osp.realpath(osp.expanduser(p)) for p in entries.split(os.pathsep)
        if p
    ]
    return osp.realpath(filename) in trusted


def safe_torch_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's globals.

    A file that needs any other global is refused unless the user trusts
    it by listing its path in the ``ASTF_TRUSTED_CHECKPOINTS`` environment
    variable (``os.pathsep``-separated): unpickling runs code.

    Args:
        filename (str): Local checkpoint path.
        map_location (Any): As in :func:`torch.load`. Default: None.

    Returns:
        Any: The loaded object.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if _trusted(filename):
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    with torch.serialization.safe_globals(checkpoint_safe_globals()):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as err:
            raise pickle.UnpicklingError(
                f'Refusing to load checkpoint {filename}: it contains a '
                'pickled object outside the tensors, numbers and mmengine '
                'log buffers a checkpoint needs, and unpickling it could run '
                'code. If you trust this file, allow it with\n'
                f'  export {TRUST_ENV}={osp.realpath(filename)}\n'
                f'Details: {str(err).splitlines()[0]}') from None


def patch_mmengine_checkpoint_loading() -> bool:
    """Make mmengine 0.10.7 load its own checkpoints on torch >= 2.6.

    Upstream problem: mmengine 0.10.7 calls ``torch.load`` without
    ``weights_only``; since torch 2.6 that defaults to True and refuses the
    ``HistoryBuffer`` and numpy objects every Runner checkpoint holds, so
    ``resume``, ``load_from`` and ``tools/test.py --checkpoint`` fail. The
    shim replaces mmengine's local-file scheme (through its public
    ``CheckpointLoader.register_scheme``) by :func:`safe_torch_load`, which
    allows exactly those globals instead of all of them. Active only on
    torch >= 2.6.

    Returns:
        bool: Whether the shim was applied.
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    from mmengine.utils import digit_version
    if digit_version(torch.__version__) < digit_version('2.6.0'):
        return False
    CheckpointLoader.register_scheme(prefixes='', force=True)(safe_torch_load)
    return True


def apply_all() -> dict:
    """Apply every shim that this environment needs.

    Returns:
        dict: Shim name -> whether it was applied.
    """
    return dict(
        missing_mmcv_ops=patch_missing_mmcv_ops(),
        mmengine_checkpoint_loading=patch_mmengine_checkpoint_loading())
