"""Run a clip restorer on frames smaller than it accepts."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.model import BaseModule

from .frame_padding import pad_bottom_right
from .weight_init import init_cfg_loads_weights


@MODELS.register_module()
class PadToMinSize(BaseModule):
    """Pad frames up to a restorer's minimum size, and crop its output.

    BasicVSR++ in its NTIRE 2021 decompression mode runs SPyNet on 1/4-size
    frames: it refuses frames under 256 x 256 and fails on sides that are
    not multiples of 4, so it cannot restore the sample videos (136-270
    pixels high, 270 not a multiple of 4) or train on small crops. This
    wrapper pads h and w at the bottom and right, by reflection (see
    :func:`~astf_mm.models.frame_padding.pad_bottom_right`), to at least
    ``min_size`` and to a multiple of ``size_multiple``, and crops the
    output back, so the wrapped restorer sees image-like content and its
    result has the input's size. Frames it accepts pass unchanged.

    Args:
        generator (dict): Config of the wrapped restorer, which maps
            (n, t, c, h, w) to frames of the same shape.
        min_size (int): Smallest h and w the restorer accepts.
            Default: 256.
        size_multiple (int): What h and w must be multiples of.
            Default: 4.
        zero_init_layers (Sequence[str]): Submodules of the restorer (for
            instance its last convolution, ``'conv_last'``) whose weights
            and biases are zeroed at initialisation, so that a residual
            restorer starts at the identity like the sample EnhanceNets
            (equal-recipe comparisons; mmagic's restorers do not take an
            ``init_cfg``). Not applied when ``init_cfg`` loads weights.
            Default: () (the restorer's own initialisation).
        init_cfg (dict, optional): mmengine initialisation config.
            Default: None.
    """

    def __init__(self,
                 generator: dict,
                 min_size: int = 256,
                 size_multiple: int = 4,
                 zero_init_layers: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if min_size < 1 or size_multiple < 1:
            raise ValueError('min_size and size_multiple must be >= 1, got '
                             f'{min_size} and {size_multiple}.')
        self.min_size = min_size
        self.size_multiple = size_multiple
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
        """Initialise (mmengine hook), keeping the zeroed layers unless
        weights were loaded."""
        super().init_weights()
        if not init_cfg_loads_weights(self.init_cfg):
            self._zero_layers()

    def padded_size(self, size: int) -> int:
        """The side the wrapped restorer sees for a side of ``size``."""
        size = max(size, self.min_size)
        return size + (-size) % self.size_multiple

    def forward(self, lqs: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        """Restore a clip of any size.

        Args:
            lqs (Tensor): Frames, shape (n, t, c, h, w).

        Returns:
            Tensor: The wrapped restorer's output for the padded frames,
            cropped to (n, t, c, h, w).
        """
        h, w = lqs.shape[-2:]
        padded = pad_bottom_right(lqs,
                                  self.padded_size(h) - h,
                                  self.padded_size(w) - w)
        out = self.generator(padded, *args, **kwargs)
        return out[..., :h, :w]
