"""FlowMonitorHook: the mean SPyNet flow length it logs, the drift warning,
and a real tiny training run that logs it every iteration."""
import math
import os.path as osp
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner
from torch import nn

from astf_mm.engine import FlowMonitorHook
from tests.utils import (ROOT, SAMPLE_STAGE1, make_frames_dataset,
                         tiny_overrides)


class ConstantFlow(nn.Module):
    """A SPyNet stand-in whose flow is (3, 4) px everywhere: length 5."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, ref, supp):
        flow = torch.empty(ref.size(0), 2, self.size, self.size)
        flow[:, 0], flow[:, 1] = 3.0, 4.0
        return flow


class Generator(nn.Module):

    def __init__(self, size: int) -> None:
        super().__init__()
        self.spynet = ConstantFlow(size)

    def forward(self, x):
        return self.spynet(x, x)


def fake_runner(model: nn.Module, iteration: int = 49):
    model = nn.ModuleDict(dict(generator=model)) if model is not None \
        else nn.Module()
    return SimpleNamespace(
        model=model,
        iter=iteration,
        logger=mock.Mock(),
        message_hub=MessageHub.get_instance('flow_monitor_test'))


def train_iteration(hook, runner, forwards: int = 2) -> None:
    hook.before_train_iter(runner, 0)
    for _ in range(forwards):
        runner.model.generator(torch.zeros(2, 3, 8, 8))
    hook.after_train_iter(runner, 0)


@pytest.mark.parametrize('size, warned', [(8, True), (16, False)])
def test_logs_mean_length_and_warns_past_the_fraction(size, warned):
    # length 5 against half of the shorter side: 4 (warn) and 8 (no warning)
    hook = FlowMonitorHook(interval=50, warn_fraction=0.5)
    runner = fake_runner(Generator(size), iteration=49)
    hook.before_train(runner)
    train_iteration(hook, runner)
    assert runner.message_hub.get_scalar('train/flow_px').current() == \
        pytest.approx(5.0)
    assert runner.logger.warning.called == warned
    if warned:
        message = runner.logger.warning.call_args[0][0]
        assert 'Iteration 50' in message and '5.0 px' in message
        assert '8-px shorter side' in message


def test_warns_only_every_interval_iterations():
    hook = FlowMonitorHook(interval=50)
    runner = fake_runner(Generator(8), iteration=10)  # iteration 11
    hook.before_train(runner)
    train_iteration(hook, runner)
    assert not runner.logger.warning.called
    runner.iter = 99  # iteration 100
    train_iteration(hook, runner)
    assert runner.logger.warning.call_count == 1


def test_ignores_evaluation_forwards_and_stops_after_training():
    hook = FlowMonitorHook()
    generator = Generator(8)
    runner = fake_runner(generator)
    hook.before_train(runner)
    generator.eval()  # validation with the EMA weights swapped in
    hub = runner.message_hub
    before = len(hub.log_scalars['train/flow_px'].data[0]) \
        if 'train/flow_px' in hub.log_scalars else 0
    train_iteration(hook, runner)
    after = len(hub.log_scalars['train/flow_px'].data[0]) \
        if 'train/flow_px' in hub.log_scalars else 0
    assert after == before
    hook.after_train(runner)
    assert not generator.spynet._forward_hooks


def test_model_without_spynet_is_left_alone():
    hook = FlowMonitorHook()
    runner = fake_runner(None)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    hook.after_train_iter(runner, 0)
    assert 'no generator.spynet' in runner.logger.info.call_args[0][0]
    assert not runner.logger.warning.called


@pytest.mark.parametrize('kwargs', [dict(interval=0), dict(warn_fraction=0)])
def test_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match='interval must be'):
        FlowMonitorHook(**kwargs)


def test_default_runtime_logs_flow_length_in_a_real_run(tmp_path):
    # the sample stage-1 config inherits the hook from the default runtime
    data_root = tmp_path / 'data'
    make_frames_dataset(data_root)
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    assert cfg.default_hooks.flow_monitor.type == 'FlowMonitorHook'
    options = tiny_overrides(data_root, tmp_path / 'work', max_iters=3)
    options.update(val_dataloader=None, val_cfg=None, val_evaluator=None)
    cfg.merge_from_dict(options)
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    runner.train()
    values = runner.message_hub.log_scalars['train/flow_px'].data[0]
    assert len(values) == 3
    assert all(math.isfinite(v) and v >= 0 for v in values)
    assert not runner.model.generator.spynet._forward_hooks
