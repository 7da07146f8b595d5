"""Geometric self-ensemble for a restorer at test time.

mmagic's :class:`SpatialTemporalEnsemble` runs the network on the eight
flips and transposes of a clip (and, temporally, on the reversed clip too),
undoes each on its output and averages them, as mmagic's ``BasicVSR``
model does with its ``ensemble`` setting. Averaging removes the part of a
small network's correction that depends on orientation; on the corpus
validation split it lifted the sample stage 1 on every one of 32 videos
(configs/astf/README.md).
"""
from typing import Optional

from mmagic.models.archs.ensemble import SpatialTemporalEnsemble

from astf_mm.utils.cli import SELF_ENSEMBLE_PASSES

SELF_ENSEMBLES = ('SpatialTemporalEnsemble', )
# is_temporal_ensemble of each of the tools' --self-ensemble values
ENSEMBLE_PASSES = {p: p == 'x16' for p in SELF_ENSEMBLE_PASSES}


def build_self_ensemble(
        cfg: Optional[dict]) -> Optional[SpatialTemporalEnsemble]:
    """The ensemble of ``cfg``, mmagic ``BasicVSR``'s ``ensemble`` format.

    Args:
        cfg (dict, optional): ``dict(type='SpatialTemporalEnsemble',
            is_temporal_ensemble=False)`` (x8; True: x16), or None.

    Returns:
        SpatialTemporalEnsemble or None: Call it as ``ensemble(frames,
        network)``; None for no ensemble.

    Raises:
        ValueError: For another type or other keys.
    """
    if cfg is None:
        return None
    cfg = dict(cfg)
    kind = cfg.pop('type', None)
    if kind not in SELF_ENSEMBLES:
        raise ValueError(f'self-ensemble type must be one of '
                         f'{SELF_ENSEMBLES}, got {kind!r}.')
    unknown = set(cfg) - {'is_temporal_ensemble'}
    if unknown:
        raise ValueError(f'{kind} takes only is_temporal_ensemble, got '
                         f'{sorted(unknown)}.')
    return SpatialTemporalEnsemble(bool(cfg.get('is_temporal_ensemble')))


def self_ensemble_of_passes(
        passes: Optional[str]) -> Optional[SpatialTemporalEnsemble]:
    """The ensemble a tool's ``--self-ensemble`` value names.

    Args:
        passes (str, optional): ``'x8'`` (flips and transposes), ``'x16'``
            (those of the reversed clip too) or None (no ensemble).

    Returns:
        SpatialTemporalEnsemble or None: As :func:`build_self_ensemble`.

    Raises:
        ValueError: For another value.
    """
    if passes is None:
        return None
    if passes not in ENSEMBLE_PASSES:
        raise ValueError(f'self-ensemble passes must be one of '
                         f'{sorted(ENSEMBLE_PASSES)}, got {passes!r}.')
    return build_self_ensemble(
        dict(
            type='SpatialTemporalEnsemble',
            is_temporal_ensemble=ENSEMBLE_PASSES[passes]))
