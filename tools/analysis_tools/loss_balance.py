"""Measure the balance of a two-term loss on a config's real training batches.

The paper chose alpha = 0.15 and beta = 1e4 in EnhanceNet2's loss "to make
Charbonnier loss almost three times larger than lpips loss". With the
Charbonnier summed over pixels, that ratio grows with the pixels per batch,
so a config whose batches differ from the paper's (fewer frames, other crops)
needs another alpha to keep the paper's balance. This tool builds the
config's model (with its ``init_cfg``: the stage-1 weights a stage-2 run
starts from) and training data, runs the loss on ``--batches`` batches
without training, and reports ``alpha x Charbonnier : beta x LPIPS``
per batch, and the alpha that gives ``--target`` at the median.

``python tools/analysis_tools/loss_balance.py CONFIG --batches 20``

The loss must record its weighted parts in ``last_terms`` (as
``CharbonnierLPIPSLoss`` does).
"""
import argparse
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.utils.cli import add_cfg_options_arg, add_device_arg


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='alpha x Charbonnier : beta x LPIPS on training batches')
    parser.add_argument('config', help='training config (EnhanceNet2)')
    parser.add_argument(
        '--batches', type=int, default=20, help='batches to measure')
    parser.add_argument(
        '--target',
        type=float,
        default=3.0,
        help='wanted Charbonnier : LPIPS ratio (the paper: about 3)')
    parser.add_argument('--seed', type=int, default=0, help='data seed')
    add_device_arg(parser)
    add_cfg_options_arg(parser)
    return parser.parse_args(argv)


def measure(cfg: Config,
            batches: int,
            device: str = 'cpu',
            seed: int = 0) -> Dict[str, object]:
    """Weighted loss parts on ``batches`` training batches of ``cfg``.

    Returns:
        dict: ``ratios`` (per batch), ``median``, ``alpha``, ``beta``,
        ``batch_shape`` and ``loss_charbonnier`` / ``loss_lpips`` (per
        batch).
    """
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner, set_random_seed
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    # random, numpy and torch: the crops and flips draw from all three
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).eval()
    loss = model.pixel_loss
    if not hasattr(loss, 'last_terms'):
        raise TypeError(f'{type(loss).__name__} does not record its parts '
                        '(last_terms); it is not a two-term loss.')
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg['num_workers'] = 0
    loader_cfg.pop('persistent_workers', None)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    parts = dict(loss_charbonnier=[], loss_lpips=[])
    shape = None
    iterator = iter(loader)
    with torch.no_grad():
        for _ in tqdm(range(batches), desc='batches', unit='batch'):
            try:
                data = next(iterator)
            except StopIteration:
                iterator = iter(loader)
                data = next(iterator)
            data = model.data_preprocessor(data, training=True)
            pred = model.forward_tensor(data['inputs'], data['data_samples'])
            shape = tuple(pred.shape)
            loss(pred, data['data_samples'].gt_img)
            for key in parts:
                parts[key].append(loss.last_terms[key])
    ratios = np.array(parts['loss_charbonnier']) / np.array(
        parts['loss_lpips'])
    return dict(
        ratios=ratios.tolist(),
        median=float(np.median(ratios)),
        alpha=float(loss.alpha),
        beta=float(loss.beta),
        batch_shape=shape,
        **parts)


def report(result: Dict[str, object], target: float) -> str:
    """Markdown summary of :func:`measure`."""
    ratios = np.array(result['ratios'])
    median = result['median']
    alpha = result['alpha']
    return '\n'.join([
        f'batches: {len(ratios)} of shape {result["batch_shape"]} '
        '(n, t, c, h, w)',
        f'alpha = {alpha:g}, beta = {result["beta"]:g}',
        f'alpha x Charbonnier (median): '
        f'{np.median(result["loss_charbonnier"]):.1f}',
        f'beta x LPIPS (median): {np.median(result["loss_lpips"]):.1f}',
        f'ratio: median {median:.3f}, min {ratios.min():.3f}, '
        f'max {ratios.max():.3f}',
        f'alpha for a median ratio of {target:g}: '
        f'{alpha * target / median:.4g}',
    ])


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = measure(cfg, args.batches, args.device, args.seed)
    print(report(result, args.target))


if __name__ == '__main__':
    main()
