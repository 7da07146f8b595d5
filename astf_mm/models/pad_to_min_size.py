"""Run a clip restorer on frames smaller than it accepts."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.model import BaseModule

from .frame_padding import pad_bottom_right


@MODELS.register_module()
class PadToMinSize(BaseModule):
    """Pad frames up to a restorer's minimum size, and crop its output.

    BasicVSR++ in its NTIRE 2021 decompression mode runs SPyNet on 1/4-size
    frames and refuses frames under 256 x 256, so it cannot restore the
    sample videos (144-270 pixels high) or train on small crops. This
    wrapper pads h and w at the bottom and right to ``min_size`` by
    reflection (replication where a side is too small to reflect) and
    crops the output back, so the wrapped restorer sees image-like content
    and its result has the input's size. Larger frames pass unchanged.

    Args:
        generator (dict): Config of the wrapped restorer, which maps
            (n, t, c, h, w) to frames of the same shape.
        min_size (int): Smallest h and w the restorer accepts.
            Default: 256.
        zero_init_layers (Sequence[str]): Submodules of the restorer (for
            instance its last convolution, ``'conv_last'``) whose weights
            and biases are zeroed at initialisation, so that a residual
            restorer starts at the identity like the sample EnhanceNets
            (equal-recipe comparisons; mmagic's restorers do not take an
            ``init_cfg``). Default: () (the restorer's own initialisation).
        init_cfg (dict, optional): mmengine initialisation config.
            Default: None.
    """

    def __init__(self,
                 generator: dict,
                 min_size: int = 256,
                 zero_init_layers: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if min_size < 1:
            raise ValueError(f'min_size must be >= 1, got {min_size}.')
        self.min_size = min_size
        self.generator = MODELS.build(generator)
        self.zero_init_layers = tuple(zero_init_layers)
        self._zero_layers()

    def _zero_layers(self) -> None:
        for name in self.zero_init_layers:
            layer = self.generator.get_submodule(name)
            nn.init.zeros_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

    def init_weights(self) -> None:
        """Initialise (mmengine hook), keeping the zeroed layers."""
        super().init_weights()
        self._zero_layers()

    def forward(self, lqs: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        """Restore a clip of any size.

        Args:
            lqs (Tensor): Frames, shape (n, t, c, h, w).

        Returns:
            Tensor: The wrapped restorer's output for the padded frames,
            cropped to (n, t, c, h, w).
        """
        h, w = lqs.shape[-2:]
        pad_h, pad_w = max(self.min_size - h, 0), max(self.min_size - w, 0)
        out = self.generator(
            pad_bottom_right(lqs, pad_h, pad_w), *args, **kwargs)
        return out[..., :h, :w]
