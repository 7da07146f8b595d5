"""Test (and evaluate) a model: ``python tools/test.py CONFIG [CHECKPOINT]``.

The OpenMMLab interface of mmagic's ``tools/test.py``. The checkpoint is
optional for configs whose model loads its own weights (the end-to-end
ASTF config names one checkpoint per network).
"""
import argparse

import mmengine
from mmengine.config import Config
from mmengine.dist import master_only
from mmengine.hooks import Hook

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.engine.console import ConsoleSummaryRunner, LoopProgressHook
from astf_mm.io import atomic_write
from astf_mm.utils import (add_launch_args, apply_cli_options,
                           parse_launch_args, setup_cpu_distributed)
from astf_mm.utils.third_party_warnings import quiet_third_party_warnings


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument('--out', help='JSON file to save the metrics to')
    add_launch_args(parser,
                    'the dir to save logs and evaluation results')
    return parse_launch_args(parser)


class SaveMetricsHook(Hook):
    """Dump the test metrics to a JSON file (written atomically).

    Every process of a distributed run receives the gathered metrics; the
    first writes them.
    """

    def __init__(self, out: str) -> None:
        self.out = out

    @master_only
    def after_test_epoch(self, runner, metrics=None) -> None:
        if metrics is None:
            return
        atomic_write(
            self.out, lambda tmp: mmengine.dump(
                metrics, tmp, file_format='json', indent=2))


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    apply_cli_options(cfg, args.config, args.launcher, args.work_dir,
                      args.cfg_options)
    if args.checkpoint:
        cfg.load_from = args.checkpoint
    setup_cpu_distributed(cfg)

    # set-up detail (config dump, environment, paramwise_options) goes to
    # the work dir's log file only; validation/test get a progress bar
    runner = ConsoleSummaryRunner.from_cfg(cfg)
    runner.register_hook(LoopProgressHook())
    if args.out:
        runner.register_hook(SaveMetricsHook(args.out), 'LOWEST')
    runner.test()


if __name__ == '__main__':
    with quiet_third_party_warnings():
        main()
