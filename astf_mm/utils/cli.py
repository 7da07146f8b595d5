"""Command-line options shared by the tools that run ASTF."""
import argparse
from typing import Optional, Tuple

import torch
from mmengine.config import DictAction

from .checksum import check_sha256

# --self-ensemble's values: mmagic's SpatialTemporalEnsemble without (x8)
# and with (x16) the reversed clip (astf_mm.models.self_ensemble)
SELF_ENSEMBLE_PASSES = ('x8', 'x16')


def add_device_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--device`` (CUDA when available) to a tool's parser."""
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda[:N]')


def add_cfg_options_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--cfg-options key=value ...`` (mmengine's ``DictAction``)."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_cfg.max_iters=100)')


def _sha256_arg(text: str) -> str:
    """argparse type: a sha256 (:func:`astf_mm.utils.checksum.check_sha256`),
    in lower case."""
    try:
        return check_sha256(text, 'a sha256')
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'a sha256 is 64 hex digits, got "{text}" ({len(text)} '
            'characters)') from None


def add_astf_model_args(parser: argparse.ArgumentParser) -> None:
    """Add what :func:`astf_mm.apis.init_astf_model` takes besides the config.

    ``--checkpoints STAGE1 ENHANCENET1 ENHANCENET2``, ``--sha256 S1 E1 E2``
    (pins of those files, checked before loading), ``--cfg-options`` and
    ``--device``, shared by the tools that run the end-to-end model.
    """
    parser.add_argument(
        '--checkpoints',
        nargs=3,
        metavar=('STAGE1', 'ENHANCENET1', 'ENHANCENET2'),
        help='checkpoints of the three networks (default: the config\'s)')
    parser.add_argument(
        '--sha256',
        nargs=3,
        type=_sha256_arg,
        metavar=('S1', 'E1', 'E2'),
        help='refuse to run unless the three checkpoints have these sha256 '
        'digests (each run logs the digest of every checkpoint it loads)')
    add_cfg_options_arg(parser)
    add_device_arg(parser)


def _at_least_one(text: str) -> int:
    """argparse type: an integer >= 1 (chunks need a frame and context)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'must be an integer >= 1, got {text!r}') from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f'must be >= 1, got {value} (chunks keep at least one frame and '
            'see at least one context frame per side)')
    return value


def add_stream_args(parser: argparse.ArgumentParser) -> None:
    """Add the options of :func:`astf_mm.apis.stream_enhance`.

    ``--max-seq-len`` and ``--overlap`` (both at least 1, as
    :func:`astf_mm.models.chunking.check_chunking` demands), shared by the
    tools that run networks over whole videos (they add ``--device``
    themselves, e.g. with :func:`add_astf_model_args`).
    """
    parser.add_argument(
        '--max-seq-len',
        type=_at_least_one,
        default=30,
        help='frames per chunk: bounds memory')
    parser.add_argument(
        '--overlap',
        type=_at_least_one,
        default=2,
        help='context frames per side (>= 1)')


def add_stage1_run_args(parser: argparse.ArgumentParser) -> None:
    """Add how the ASTF model runs stage 1, for tools that run it alone.

    ``--chroma-420``, ``--self-ensemble [x8|x16]`` and ``--luma-only``, the
    model's ``chroma_420``, ``stage1_ensemble`` and ``stage1_luma_only``
    (:func:`astf_mm.models.astf_model.run_stage1`), so that a tool's
    stage-1 output is the one the model hands its refiners.
    """
    parser.add_argument(
        '--chroma-420',
        action='store_true',
        help='project the output onto 4:2:0 chroma, as the ASTF model\'s '
        'chroma_420 does (it hands that to the refiners)')
    parser.add_argument(
        '--self-ensemble',
        nargs='?',
        const='x8',
        choices=SELF_ENSEMBLE_PASSES,
        help='average the outputs of the 8 flips and transposes of each '
        'clip (x16: of the reversed clip\'s too), mmagic\'s '
        'SpatialTemporalEnsemble, as the ASTF model\'s stage1_ensemble; '
        'the sample config runs x8')
    parser.add_argument(
        '--luma-only',
        action='store_true',
        help='keep the input\'s colour and take only the output\'s luma, '
        'as the ASTF model\'s stage1_luma_only does')


def parse_size(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """argparse type: ``'WxH'`` (e.g. ``'480x270'``) as ``(width, height)``.

    Args:
        text (str, optional): The option's value; None passes through.

    Returns:
        tuple[int, int] | None: ``(width, height)``, both positive.

    Raises:
        argparse.ArgumentTypeError: If ``text`` is not two positive
            integers joined by ``x``.
    """
    if text is None:
        return None
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'size must look like 480x270 (WxH), got "{text}"') from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError(f'size must be positive: "{text}"')
    return width, height
