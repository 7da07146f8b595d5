"""A distributed wrapper for models that only run inference.

mmengine wraps the model in ``DistributedDataParallel`` whenever a launcher
is set, and DDP refuses a module without a parameter that requires a
gradient ("DistributedDataParallel is not needed when a module doesn't have
any parameter that requires a gradient"). The end-to-end ASTF model freezes
every network, so ``tools/dist_test.sh`` on it failed in every rank. A
test-only model needs nothing DDP does (no gradients to reduce): each rank
runs its share of the videos and the evaluator gathers the results.
"""
from typing import Union

import torch.nn as nn
# mmengine's Runner looks wrappers up in its own (root) registry
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class FrozenModelWrapper(nn.Module):
    """Holds a model with no trainable parameter for distributed testing.

    Used through ``model_wrapper_cfg = dict(type='FrozenModelWrapper')``.
    ``val_step``/``test_step`` run the wrapped model's, as
    ``MMDistributedDataParallel`` does; training is refused.

    Args:
        module (nn.Module): The model (a ``BaseModel``); none of its
            parameters may require a gradient.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        trainable = [
            n for n, p in module.named_parameters() if p.requires_grad
        ]
        if trainable:
            raise ValueError(
                f'FrozenModelWrapper is for models without trainable '
                f'parameters; {type(module).__name__} has {len(trainable)} '
                f'(e.g. {trainable[0]}). Remove model_wrapper_cfg to train '
                'it with DistributedDataParallel.')
        self.module = module

    def train_step(self, data, optim_wrapper) -> dict:
        raise RuntimeError(
            'FrozenModelWrapper cannot train: the model has no trainable '
            'parameters.')

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Run the wrapped model's ``val_step``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Run the wrapped model's ``test_step``."""
        return self.module.test_step(data)
