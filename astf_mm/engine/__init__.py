"""Runner parts: the crash-safe checkpoint hook and the wrapper that runs
a frozen model on several processes."""
from .hooks import AtomicCheckpointHook
from .model_wrappers import FrozenModelWrapper

__all__ = ['AtomicCheckpointHook', 'FrozenModelWrapper']
