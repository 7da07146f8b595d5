"""Runner parts: the crash-safe checkpoint hook, the hook that watches
SPyNet's flows in training, the hook that gives validation/test samples
to the visualizer, the progress bar of validation
and test, the runner that keeps details out of the console, and the
wrapper that runs a frozen model on several processes."""
# registers FrameStripVisualizer, the default runtime's visualizer, which
# SampleImagesHook feeds (astf_mm imports engine, not visualization)
from .. import visualization  # noqa: F401
from .console import ConsoleSummaryRunner, LoopProgressHook
from .flow_monitor_hook import FlowMonitorHook
from .hooks import AtomicCheckpointHook
from .model_wrappers import FrozenModelWrapper
from .visualization_hook import SampleImagesHook

__all__ = [
    'AtomicCheckpointHook', 'ConsoleSummaryRunner', 'FlowMonitorHook',
    'FrozenModelWrapper', 'LoopProgressHook', 'SampleImagesHook'
]
