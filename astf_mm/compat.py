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
from typing import Any, Callable, List, Optional

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
    import succeeds; the deformable convolutions then run on torchvision
    (:func:`patch_deform_conv_with_torchvision`) and any other compiled op
    raises :class:`MissingMMCVOpsError` saying how to get it. Active only
    when ``mmcv._ext`` is missing.

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
    return True


def torchvision_modulated_deform_conv2d(
        input: torch.Tensor,
        offset: torch.Tensor,
        mask: Optional[torch.Tensor],
        weight: torch.Tensor,
        bias: Optional[torch.Tensor] = None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        deform_groups: int = 1) -> torch.Tensor:
    """mmcv's ``modulated_deform_conv2d`` computed by torchvision.

    Same arguments and layout as mmcv's op: ``offset`` holds (dy, dx) pairs
    per kernel position and deform group, ``mask`` is already through the
    sigmoid. torchvision infers ``groups`` and ``deform_groups`` from the
    weight and offset shapes; they are checked against the arguments.
    """
    from torch.nn.modules.utils import _pair
    from torchvision.ops import deform_conv2d as tv_deform_conv2d
    if input.dim() != 4:
        raise ValueError(
            f'Expected a 4D input tensor, got {input.dim()}D instead.')
    kernel_h, kernel_w = weight.shape[-2:]
    if input.size(1) != weight.size(1) * groups:
        raise ValueError(
            f'groups={groups} does not match the input ({input.size(1)} '
            f'channels) and weight ({weight.size(1)} per group).')
    if offset.size(1) != 2 * deform_groups * kernel_h * kernel_w:
        raise ValueError(
            f'deform_groups={deform_groups} does not match the offset '
            f'({offset.size(1)} channels for a {kernel_h}x{kernel_w} '
            'kernel).')
    # as mmcv: under autocast the offset conv runs in half precision
    input = input.type_as(offset)
    weight = weight.type_as(input)
    if bias is not None:
        bias = bias.type_as(input)
    if mask is not None:
        mask = mask.type_as(input)
    return tv_deform_conv2d(
        input,
        offset,
        weight,
        bias=bias,
        stride=_pair(stride),
        padding=_pair(padding),
        dilation=_pair(dilation),
        mask=mask)


def torchvision_deform_conv2d(input: torch.Tensor,
                              offset: torch.Tensor,
                              weight: torch.Tensor,
                              stride: Any = 1,
                              padding: Any = 0,
                              dilation: Any = 1,
                              groups: int = 1,
                              deform_groups: int = 1,
                              bias: bool = False,
                              im2col_step: int = 32) -> torch.Tensor:
    """mmcv's ``deform_conv2d`` computed by torchvision.

    ``im2col_step`` only tunes mmcv's CUDA kernel and has no effect here;
    like mmcv, ``bias`` must be False.
    """
    if bias:
        raise ValueError('deform_conv2d: bias=True is not supported (as in '
                         'mmcv).')
    return torchvision_modulated_deform_conv2d(input, offset, None, weight,
                                               None, stride, padding, dilation,
                                               groups, deform_groups)


def patch_deform_conv_with_torchvision() -> bool:
    """Run mmcv's deformable convolutions on torchvision's kernels.

    Upstream problem: mmcv-lite has no compiled ops, so every mmagic
    restorer with deformable alignment (BasicVSR++, EDVR, TDAN, IconVSR)
    fails to build, and the full mmcv build is slow and fragile.
    ``torchvision.ops.deform_conv2d`` (CPU and CUDA kernels) computes the
    same (modulated) deformable convolution with the same offset layout.
    The shim rebinds mmcv's functional ops ``deform_conv2d`` and
    ``modulated_deform_conv2d`` wherever they were imported, so mmcv's
    module classes (``DeformConv2d``, ``ModulatedDeformConv2d`` and their
    ``Pack`` variants) and mmagic's subclasses keep their constructors,
    parameters and state-dict keys. Active only when ``mmcv._ext`` is
    missing.

    Returns:
        bool: Whether the shim was applied.
    """
    if mmcv_has_compiled_ops():
        return False
    import mmcv.ops.deform_conv as deform_conv
    import mmcv.ops.modulated_deform_conv as modulated_deform_conv
    stand_ins = (
        (deform_conv.DeformConv2dFunction.apply, torchvision_deform_conv2d),
        (modulated_deform_conv.ModulatedDeformConv2dFunction.apply,
         torchvision_modulated_deform_conv2d),
    )
    # ``from mmcv.ops import modulated_deform_conv2d`` binds the op by name
    # in every importer (mmcv.ops itself, and mmagic's BasicVSR++, EDVR
    # and TDAN when they were imported first).
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith('mm'):
            continue
        namespace = getattr(module, '__dict__', {})
        for name, value in list(namespace.items()):
            for original, stand_in in stand_ins:
                if (getattr(value, '__func__', None) is original.__func__ and
                        getattr(value, '__self__', None) is original.__self__):
                    namespace[name] = stand_in
    return True


class _MissingOptionalModule(types.ModuleType):
    """Stand-in for an optional package: importing names from it works,
    using any of them raises an ImportError that says what to install."""

    def __init__(self, name: str, hint: str) -> None:
        super().__init__(name)
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)
        self.__loader__ = None
        self._astf_hint = hint

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith('__'):
            raise AttributeError(attr)
        message = (f'{self.__name__}.{attr} is needed, but {self.__name__} '
                   f'is not installed: {self._astf_hint}')

        class _Missing:

            def __init__(self, *args, **kwargs):
                raise ImportError(message)

            @classmethod
            def from_pretrained(cls, *args, **kwargs):
                raise ImportError(message)

        _Missing.__name__ = _Missing.__qualname__ = attr
        return _Missing


def patch_missing_controlnet_aux() -> bool:
    """Let ``mmagic.apis`` import without ``controlnet_aux``.

    Upstream problem: ``mmagic.apis`` imports every inferencer, and the
    ControlNet-animation one imports ``controlnet_aux`` at module level,
    a text-to-image dependency that restoration installs leave out
    (mmagic is installed with ``--no-deps``). So ``import mmagic.apis``,
    ``MMagicInferencer`` and ``init_model`` all fail with
    ``No module named 'controlnet_aux'``. The shim installs a stand-in
    module: the import succeeds, and only *using* a ``controlnet_aux``
    class raises, saying what to install. Active only when
    ``controlnet_aux`` is not installed.

    Returns:
        bool: Whether the shim was applied.
    """
    existing = sys.modules.get('controlnet_aux')
    if isinstance(existing, _MissingOptionalModule):
        return True
    if existing is not None or importlib.util.find_spec(
            'controlnet_aux') is not None:
        return False
    sys.modules['controlnet_aux'] = _MissingOptionalModule(
        'controlnet_aux',
        'pip install controlnet-aux (only mmagic\'s ControlNet animation '
        'inferencer uses it).')
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
        osp.realpath(osp.expanduser(p)) for p in entries.split(os.pathsep) if p
    ]
    return osp.realpath(filename) in trusted


class CheckpointError(RuntimeError):
    """A checkpoint file is empty, truncated or corrupt."""


def check_checkpoint_file(filename: str) -> None:
    """Refuse a path that cannot be a checkpoint, naming it and why.

    Args:
        filename (str): Local checkpoint path.

    Raises:
        FileNotFoundError: If nothing exists at ``filename``.
        IsADirectoryError: If it is a directory.
        CheckpointError: If it is an empty file.
    """
    if osp.isdir(filename):
        raise IsADirectoryError(
            f'Checkpoint {filename} is a directory, not a checkpoint file: '
            'give the .pth file inside it.')
    if not osp.exists(filename):
        raise FileNotFoundError(f'Checkpoint {filename} does not exist.')
    if osp.getsize(filename) == 0:
        raise CheckpointError(
            f'Checkpoint {filename} is an empty file (0 bytes): it was not '
            'written completely; save or download it again.')


def _unsafe_global(err: pickle.UnpicklingError) -> bool:
    # torch's weights-only unpickler says so when it refuses something;
    # other UnpicklingErrors come from bytes that are not a pickle at all.
    return 'Weights only load failed' in str(err)


def safe_torch_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and mmengine's globals.

    A file that needs any other global is refused unless the user trusts
    it by listing its path in the ``ASTF_TRUSTED_CHECKPOINTS`` environment
    variable (``os.pathsep``-separated): unpickling runs code. A directory,
    an empty, truncated or corrupt file raises an error that names the file
    and the problem instead of torch's ``EOFError``,
    ``UnicodeDecodeError`` or "PytorchStreamReader failed ...".

    Args:
        filename (str): Local checkpoint path.
        map_location (Any): As in :func:`torch.load`. Default: None.

    Returns:
        Any: The loaded object.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        IsADirectoryError: If it is a directory.
        CheckpointError: If it is empty, truncated or corrupt.
        pickle.UnpicklingError: If it holds an object outside the allowed
            globals (and is not trusted).
    """
    filename = osp.expanduser(filename)
    check_checkpoint_file(filename)
    try:
        if _trusted(filename):
            return torch.load(
                filename, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if not _unsafe_global(err):
            raise _corrupt(filename, err) from None
        raise pickle.UnpicklingError(
            f'Refusing to load checkpoint {filename}: it contains a '
            'pickled object outside the tensors, numbers and mmengine '
            'log buffers a checkpoint needs, and unpickling it could run '
            'code. If you trust this file, allow it with\n'
            f'  export {TRUST_ENV}={osp.realpath(filename)}\n'
            f'Details: {str(err).splitlines()[0]}') from None
    except Exception as err:  # EOFError, RuntimeError (zip), KeyError, ...
        if isinstance(err, MemoryError) or 'CUDA' in str(err):
            raise  # not the file's fault (e.g. a CUDA map_location)
        raise _corrupt(filename, err) from None


def _corrupt(filename: str, err: BaseException) -> CheckpointError:
    detail = (str(err).splitlines() or [''])[0][:200]
    return CheckpointError(
        f'Checkpoint {filename} is truncated or corrupt '
        f'({osp.getsize(filename)} bytes; torch.load raised '
        f'{type(err).__name__}: {detail}). Save, copy or download it again.')


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


def _astf_mm_installed_path(original: Callable) -> Callable:

    def get_installed_path(package: str) -> str:
        if package == 'astf_mm':
            return osp.dirname(osp.abspath(__file__))
        return original(package)

    get_installed_path.original = original
    return get_installed_path


def patch_mmengine_config_scope() -> bool:
    """Let a config inherit ours with ``_base_ = 'astf_mm::PATH'``.

    Upstream problems (mmengine 0.10.7, ``Config._get_cfg_path``): a
    ``scope::`` base is accepted only for the packages of a fixed table,
    ``mmengine.config.utils.MODULE2PACKAGE`` (OpenMMLab's own, no way to
    add one), and the package's folder is ``get_installed_path``: the
    distribution's location joined with the module name, which is wrong
    for an editable install (PEP 660: the files stay in the source tree).
    The shim adds ``astf_mm`` to the table and answers
    ``get_installed_path('astf_mm')`` with the folder this package was
    imported from (mmengine's own answer for any other package). Active
    only while mmengine does not know ``astf_mm``.

    Returns:
        bool: Whether the shim was applied.
    """
    from mmengine.config import config as mmengine_config
    from mmengine.config import utils as mmengine_config_utils
    if getattr(mmengine_config.get_installed_path, 'original', None):
        return True
    if 'astf_mm' in mmengine_config_utils.MODULE2PACKAGE:
        return False
    mmengine_config_utils.MODULE2PACKAGE['astf_mm'] = 'astf_mm'
    mmengine_config.get_installed_path = _astf_mm_installed_path(
        mmengine_config.get_installed_path)
    return True


def apply_all() -> dict:
    """Apply every shim that this environment needs.

    Returns:
        dict: Shim name -> whether it was applied.
    """
    return dict(
        missing_mmcv_ops=patch_missing_mmcv_ops(),
        deform_conv_on_torchvision=patch_deform_conv_with_torchvision(),
        missing_controlnet_aux=patch_missing_controlnet_aux(),
        mmengine_checkpoint_loading=patch_mmengine_checkpoint_loading(),
        mmengine_config_scope=patch_mmengine_config_scope())
