"""Build the end-to-end ASTF model of a config, as the tools do."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.config import Config

from astf_mm.models.astf_model import ASTF, NETWORKS
from astf_mm.models.weight_init import build_network, load_trained
from astf_mm.utils.shipped_files import resolve_config


def init_astf_model(config: Union[str, Config],
                    checkpoints: Optional[Sequence[str]] = None,
                    cfg_options: Optional[dict] = None,
                    sha256: Optional[Sequence[str]] = None,
                    device: Union[str, torch.device] = 'cpu') -> ASTF:
    """Build an end-to-end ASTF config's model, in eval mode.

    Args:
        config (str | Config): End-to-end ASTF config (a path, or
            ``astf_mm::PATH`` for a shipped one; see
            :func:`~astf_mm.utils.shipped_files.resolve_config`).
        checkpoints (Sequence[str], optional): Checkpoints of stage 1,
            EnhanceNet1 and EnhanceNet2 replacing the config's. The config
            file's sha256 pins name its own files, so they are dropped;
            pins given in ``cfg_options`` or ``sha256`` still apply.
            Default: None.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
            Default: None.
        sha256 (Sequence[str], optional): sha256 pins of the three
            checkpoints, in the same order (``--sha256``). Default: None.
        device (str | torch.device): Where the model goes. Default: cpu.

    Returns:
        ASTF: The model, its networks loaded.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(
        resolve_config(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = cfg.model.to_dict()
    for given, what in ((checkpoints, 'checkpoints'), (sha256, 'sha256')):
        if given and len(given) != len(NETWORKS):
            raise ValueError(f'{what} needs {len(NETWORKS)} values '
                             f'({", ".join(NETWORKS)}), got {len(given)}.')
    for i, name in enumerate(NETWORKS):
        if model_cfg.get(name) is None:  # ASTF without a stage 1
            continue
        weights = model_cfg[name].setdefault(
            'init_cfg', dict(type='CheckedPretrained'))
        if checkpoints:
            weights['checkpoint'] = checkpoints[i]
            # a user's checkpoint is not the one the config file's hash
            # names; a pin given on the command line still holds
            if f'model.{name}.init_cfg.sha256' not in (cfg_options or {}):
                weights.pop('sha256', None)
        if sha256:
            weights['sha256'] = sha256[i]
    return MODELS.build(model_cfg).to(device).eval()


def init_generator(config: Union[str, Config],
                   checkpoint: str,
                   sha256: Optional[str] = None,
                   channels_last: bool = True,
                   device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """Build a training config's generator with its trained weights.

    Args:
        config (str | Config): A stage's training config (as in
            :func:`init_astf_model`); its ``model.generator`` is built.
        checkpoint (str): That stage's checkpoint (Runner or bare).
        sha256 (str, optional): Pin of the checkpoint. Default: None.
        channels_last (bool): Channels-last weights, as
            :class:`~astf_mm.models.ASTF` runs them (same outputs to the
            last bit as the pipeline's stage 1). Default: True.
        device (str | torch.device): Default: cpu.

    Returns:
        nn.Module: The frozen network in eval mode; its file's digest is
        ``network.checkpoint_sha256``.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(
        resolve_config(config))
    network, _ = build_network(cfg.model.generator.to_dict())
    weights = dict(
        type='CheckedPretrained', checkpoint=checkpoint, sha256=sha256)
    return load_trained(network, weights, 'generator',
                        channels_last).to(device)
