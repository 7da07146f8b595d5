"""Watch the flows a generator's SPyNet gives while it trains.

A SPyNet trained along with its network can drift to flows that point far
out of the frame; every warped feature is then zero and the network, still
training and validating normally, silently works frame by frame. That
happened to the sample stage 1 of issue 15 (SPyNet at 2.5e-4 after a
100-iteration freeze: mean flow about 1300 pixels on 96x64 inputs, against
0.7 for the pretrained SPyNet) and nothing in the logs showed it.
"""
from typing import Optional

import torch
from mmagic.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn


@HOOKS.register_module()
class FlowMonitorHook(Hook):
    """Log the mean flow length of the generator's SPyNet; warn on drift.

    Reads the flows the training forward computes anyway (a forward hook
    on ``model.generator.spynet``, so nothing is computed twice) and logs
    their mean length in pixels of the frames SPyNet sees as
    ``train/flow_px``. Every ``interval`` iterations it warns when that
    mean exceeds ``warn_fraction`` of the frames' shorter side: most warped
    features then come from outside the frame. Models without a SPyNet
    (an ``ASTF`` test model, a network without flows) are left alone.

    Args:
        interval (int): Check for drift every ``interval`` iterations.
            Default: 50.
        warn_fraction (float): Warn when the mean flow is longer than this
            fraction of the shorter side of SPyNet's input. Default: 0.5.
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 50, warn_fraction: float = 0.5):
        if interval < 1 or warn_fraction <= 0:
            raise ValueError('interval must be >= 1 and warn_fraction > 0, '
                             f'got {interval} and {warn_fraction}.')
        self.interval = interval
        self.warn_fraction = warn_fraction
        self._handle = None
        self._reset()

    def _reset(self) -> None:
        self._length_sum = 0.0
        self._count = 0
        self._short_side: Optional[int] = None

    @staticmethod
    def spynet_of(model: nn.Module) -> Optional[nn.Module]:
        """The SPyNet of ``model``'s generator, or None."""
        if is_model_wrapper(model):
            model = model.module
        generator = getattr(model, 'generator', None)
        spynet = getattr(generator, 'spynet', None)
        return spynet if isinstance(spynet, nn.Module) else None

    def _record(self, module: nn.Module, inputs, flow: torch.Tensor) -> None:
        # SPyNet runs in validation too (with the EMA weights swapped in);
        # only the training forward counts
        if not module.training or not isinstance(flow, torch.Tensor):
            return
        flow = flow.detach()
        self._length_sum += flow.float().norm(dim=1).mean().item()
        self._count += 1
        self._short_side = min(flow.shape[-2:])

    def before_train(self, runner) -> None:
        spynet = self.spynet_of(runner.model)
        if spynet is None:
            runner.logger.info('FlowMonitorHook: the model has no '
                               'generator.spynet; no flows to watch.')
            return
        self._handle = spynet.register_forward_hook(self._record)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        self._reset()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self._count:  # no SPyNet, or frozen out of the forward
            return
        mean_px = self._length_sum / self._count
        runner.message_hub.update_scalar('train/flow_px', mean_px)
        limit = self.warn_fraction * self._short_side
        if self.every_n_train_iters(runner, self.interval) and \
                mean_px > limit:
            runner.logger.warning(
                f'Iteration {runner.iter + 1}: the mean SPyNet flow is '
                f'{mean_px:.1f} px, more than {self.warn_fraction:g} of '
                f'the {self._short_side}-px shorter side of the frames it '
                'sees: most warped '
                'features fall outside the frame, so the network no longer '
                'uses its neighbouring frames. SPyNet has probably drifted: '
                'lower its learning rate (optim_wrapper.paramwise_cfg, '
                "custom_keys 'spynet' lr_mult) or "
                'freeze it longer (model.train_cfg.fix_iter).')
