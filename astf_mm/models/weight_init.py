"""A weight initializer that loads a checked checkpoint, strictly, and the
building of trained networks on it."""
import copy
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmagic.registry import MODELS, WEIGHT_INITIALIZERS
from mmengine.model.weight_init import update_init_info

from astf_mm.utils.checkpoint import load_checked_state_dict


def init_cfg_loads_weights(init_cfg) -> bool:
    """Whether an mmengine ``init_cfg`` loads trained weights.

    True for mmengine's ``Pretrained`` and this module's
    ``CheckedPretrained``: networks that zero a layer for an identity start
    must not zero it over loaded weights.
    """
    return isinstance(init_cfg, dict) and 'Pretrained' in init_cfg.get(
        'type', '')


@WEIGHT_INITIALIZERS.register_module('CheckedPretrained')
class CheckedPretrainedInit:
    """Initialise a module from a checkpoint whose sha256 may be pinned.

    Like mmengine's ``Pretrained`` initializer, with what a pipeline of
    trained networks needs: every key must fit (``strict``), the file is
    checked (see :func:`~astf_mm.utils.checkpoint.load_checked_state_dict`)
    and its digest is logged and kept as ``module.checkpoint_sha256``.

    Args:
        checkpoint (str): The checkpoint file.
        sha256 (str, optional): Its expected digest. Default: None.
        prefix (str, optional): Sub-module prefix of the checkpoint's keys.
            Default: ``'generator.'``.
        strict (bool): Whether every key must match. Default: True.
        map_location (str): Default: ``'cpu'``.
        name (str, optional): Name for messages. Default: the module's
            class name.
    """

    def __init__(self,
                 checkpoint: str,
                 sha256: Optional[str] = None,
                 prefix: Optional[str] = 'generator.',
                 strict: bool = True,
                 map_location: str = 'cpu',
                 name: Optional[str] = None) -> None:
        if not checkpoint:
            raise ValueError(
                f'{name or "CheckedPretrained"}: no checkpoint given. Train '
                'the network (see the README) or set its init_cfg.checkpoint'
                ' (e.g. model.stage1.init_cfg.checkpoint=PATH).')
        self.checkpoint = checkpoint
        self.sha256 = sha256
        self.prefix = prefix
        self.strict = strict
        self.map_location = map_location
        self.name = name

    def __call__(self, module: nn.Module) -> None:
        name = self.name or type(module).__name__
        state, digest = load_checked_state_dict(self.checkpoint, self.sha256,
                                                self.prefix, name,
                                                self.map_location)
        try:
            module.load_state_dict(state, strict=self.strict)
        except RuntimeError as err:
            raise RuntimeError(
                f'{name}: checkpoint {self.checkpoint} does not fit '
                f'{type(module).__name__}: {err}') from None
        module.checkpoint_sha256 = digest
        if hasattr(module, '_params_init_info'):
            update_init_info(
                module, init_info=f'CheckedPretrained: {self.checkpoint}')


def build_network(cfg: dict) -> Tuple[nn.Module, Optional[dict]]:
    """Build a generator config without loading its weights.

    Args:
        cfg (dict): Generator config; its ``init_cfg`` names the trained
            weights.

    Returns:
        tuple[nn.Module, dict | None]: The network and its ``init_cfg``.
    """
    cfg = copy.deepcopy(dict(cfg))
    weights = cfg.pop('init_cfg', None)
    # the checkpoint holds every weight, SPyNet's included
    if cfg.get('spynet_pretrained'):
        cfg['spynet_pretrained'] = None
    return MODELS.build(cfg), weights


def load_trained(network: nn.Module, weights: Optional[dict], name: str,
                 channels_last: bool) -> nn.Module:
    """Load a network's checkpoint through its initializer and freeze it.

    Args:
        network (nn.Module): Built by :func:`build_network`.
        weights (dict, optional): Its ``init_cfg`` (a ``CheckedPretrained``
            config).
        name (str): Name for messages (e.g. ``'stage1'``).
        channels_last (bool): Store the weights channels-last (NHWC
            convolutions, as the ASTF pipeline runs them).

    Returns:
        nn.Module: ``network`` in eval mode without gradients; its file's
        digest is ``network.checkpoint_sha256``.

    Raises:
        ValueError: If ``weights`` is empty.
    """
    if not weights:
        raise ValueError(
            f'{name}: no checkpoint given. Train it (see the README) '
            f'or set model.{name}.init_cfg=dict(type='
            "'CheckedPretrained', checkpoint=PATH).")
    weights = dict(weights)
    weights.setdefault('name', name)
    WEIGHT_INITIALIZERS.build(weights)(network)
    if channels_last:
        network.to(memory_format=torch.channels_last)
    return network.eval().requires_grad_(False)
