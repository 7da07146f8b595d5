"""Images of validation and test samples, a bounded number per run."""
from typing import Optional, Sequence

from mmagic.registry import HOOKS
from mmengine.hooks import Hook


@HOOKS.register_module()
class SampleImagesHook(Hook):
    """Give validation and test samples to the runner's visualizer.

    With :class:`~astf_mm.visualization.FrameStripVisualizer` (the default
    runtime's), each sample becomes one titled image strip (input, every
    stage, mask, ground truth) in the visualizer's backends. At most
    ``max_samples`` per validation or test run, so that long schedules on
    large validation sets (LDV) do not write thousands of images.

    Args:
        interval (int): Visualize every ``interval``-th batch. Default: 1.
        max_samples (int): Samples per validation/test run; 0 turns the
            hook off. Default: 2.
        on_val (bool): During validation. Default: True.
        on_test (bool): During testing. Default: True.
    """

    priority = 'NORMAL'

    def __init__(self,
                 interval: int = 1,
                 max_samples: int = 2,
                 on_val: bool = True,
                 on_test: bool = True) -> None:
        if interval < 1 or max_samples < 0:
            raise ValueError('interval must be >= 1 and max_samples >= 0, '
                             f'got {interval} and {max_samples}.')
        self.interval = interval
        self.max_samples = max_samples
        self.on_val = on_val
        self.on_test = on_test
        self._shown = 0

    def before_val_epoch(self, runner) -> None:
        self._shown = 0

    def before_test_epoch(self, runner) -> None:
        self._shown = 0

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: Optional[dict] = None,
                       outputs: Optional[Sequence] = None) -> None:
        if self.on_val:
            self._show(runner, batch_idx, outputs)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if self.on_test:
            self._show(runner, batch_idx, outputs)

    def _show(self, runner, batch_idx: int,
              outputs: Optional[Sequence]) -> None:
        if not outputs or not self.every_n_inner_iters(
                batch_idx, self.interval):
            return
        for sample in outputs:
            if self._shown >= self.max_samples:
                return
            runner.visualizer.add_datasample(sample, step=runner.iter)
            self._shown += 1
