"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR] ...``.

The OpenMMLab interface of mmagic's ``tools/train.py``, plus CPU
distributed training (``tools/dist_train.sh CONFIG N`` without GPUs).
"""
import argparse
import logging

from mmengine.config import Config

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.engine.console import ConsoleSummaryRunner, LoopProgressHook
from astf_mm.utils import (add_launch_args, apply_cli_options,
                           parse_launch_args, setup_cpu_distributed)
from astf_mm.utils.third_party_warnings import quiet_third_party_warnings


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the latest checkpoint in the work dir, or from '
        'the given checkpoint path')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the total batch size')
    add_launch_args(parser, 'the dir to save logs and models')
    return parse_launch_args(parser)


def enable_amp(cfg: Config) -> None:
    """Switch the optimizer wrapper to ``AmpOptimWrapper``."""
    wrapper = cfg.optim_wrapper
    if wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        logging.getLogger().warning('AMP is already enabled in the config.')
        return
    if wrapper.get('type', 'OptimWrapper') != 'OptimWrapper':
        raise ValueError('--amp needs optim_wrapper.type OptimWrapper, got '
                         f'{wrapper.type}.')
    wrapper.type = 'AmpOptimWrapper'
    wrapper.loss_scale = 'dynamic'


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    apply_cli_options(cfg, args.config, args.launcher, args.work_dir,
                      args.cfg_options)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    setup_cpu_distributed(cfg)

    # set-up detail (config dump, environment, paramwise_options) goes to
    # the work dir's log file only; validation/test get a progress bar
    runner = ConsoleSummaryRunner.from_cfg(cfg)
    runner.register_hook(LoopProgressHook())
    runner.train()


if __name__ == '__main__':
    with quiet_third_party_warnings():
        main()
