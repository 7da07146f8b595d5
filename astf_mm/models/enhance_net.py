"""EnhanceNet: BasicVSR's bidirectional propagation without an upsampler."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.models.editors.basicvsr.basicvsr_net import (
    ResidualBlocksWithInputConv, SPyNet)
from mmagic.models.utils import flow_warp
from mmagic.registry import MODELS
from mmengine.model import BaseModule

from astf_mm.utils.shipped_files import resolve_shipped
from .frame_padding import pad_to_multiple
from .weight_init import init_cfg_loads_weights


@MODELS.register_module()
class EnhanceNet(BaseModule):
    """BasicVSR with the pixel-shuffle upsampler removed (ASTF, sec. 3.1).

    Features of every frame are propagated backward and forward in time,
    aligned by SPyNet flow, fused, and mapped to a residual that is added
    to the input frame, so the output has the input's resolution.

    With ``propagation_scale`` > 1 the features are propagated at reduced
    resolution (strided convolutions in, pixel shuffle out), as BasicVSR++
    does for its NTIRE 2021 decompression entries; the residual is still
    added at full resolution.

    Args:
        mid_channels (int): Channels of the propagated features.
            Default: 64.
        num_blocks (int): Residual blocks per propagation branch.
            Default: 30.
        spynet_pretrained (str, optional): Local path or URL of mmagic's
            SPyNet checkpoint (a relative path missing under the working
            directory is looked up among the package's shipped ones, see
            :mod:`astf_mm.utils.shipped_files`). Default: None (random
            init).
        zero_init_residual (bool): Zero the last convolution so the
            untrained network is the identity. Default: True.
        zero_last_after_load (bool): Zero the last convolution also when
            ``init_cfg`` loads trained weights: a refiner that starts from
            stage 1's weights then starts as the identity on its input
            (stage 1's output) instead of applying stage 1 a second time
            (issue 15: that second pass cost 0.15 dB on unseen footage).
            Default: False.
        zero_init_flow (bool): Zero the output layer of every SPyNet level
            so flows start at 0 (identity alignment): for training without
            pretrained SPyNet weights, where random flows scramble the
            propagated features. Default: False.
        propagation_scale (int): 1 (full resolution) or 4 (propagate at
            1/4 resolution). Default: 1.
        lq_to_head (bool): Feed each input frame to the full-resolution
            head (``conv_hr``) beside the propagated features. Not in
            BasicVSR: with 1/4-resolution propagation the head otherwise
            sees the frame only through features computed at 1/4
            resolution; the hypothesis (issue 15) is that a small, briefly
            trained network does not learn full-resolution filters
            (deblocking, deringing) through them. Default: False.
        init_cfg (dict, optional): mmengine initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='generator.')``.
            Default: None.
    """

    def __init__(self,
                 mid_channels: int = 64,
                 num_blocks: int = 30,
                 spynet_pretrained: Optional[str] = None,
                 zero_init_residual: bool = True,
                 zero_last_after_load: bool = False,
                 zero_init_flow: bool = False,
                 propagation_scale: int = 1,
                 lq_to_head: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if isinstance(init_cfg, dict) and init_cfg.get('checkpoint'):
            # mmengine's Pretrained opens the path as written
            init_cfg = dict(
                init_cfg, checkpoint=resolve_shipped(init_cfg['checkpoint']))
        super().__init__(init_cfg=init_cfg)
        if propagation_scale not in (1, 4):
            raise ValueError('propagation_scale must be 1 or 4, got '
                             f'{propagation_scale}.')
        if zero_init_flow and spynet_pretrained:
            raise ValueError('zero_init_flow would discard the pretrained '
                             f'SPyNet weights of {spynet_pretrained}.')
        self.mid_channels = mid_channels
        self.propagation_scale = propagation_scale
        self.lq_to_head = lq_to_head
        self.zero_init_residual = zero_init_residual
        self.zero_last_after_load = zero_last_after_load
        self.zero_init_flow = zero_init_flow

        self.spynet = SPyNet(pretrained=resolve_shipped(spynet_pretrained))
        if spynet_pretrained:
            # SPyNet loads its weights in __init__ but does not mark itself
            # initialised, so the runner's init_weights() would let mmcv's
            # ConvModule.init_weights overwrite them with Kaiming noise.
            self.spynet._is_init = True
        in_channels = 3
        if propagation_scale == 4:
            self.feat_extract = nn.Sequential(
                nn.Conv2d(3, mid_channels, 3, 2, 1),
                nn.LeakyReLU(negative_slope=0.1, inplace=True),
                nn.Conv2d(mid_channels, mid_channels, 3, 2, 1),
                nn.LeakyReLU(negative_slope=0.1, inplace=True))
            in_channels = mid_channels
        self.backward_resblocks = ResidualBlocksWithInputConv(
            in_channels + mid_channels, mid_channels, num_blocks)
        self.forward_resblocks = ResidualBlocksWithInputConv(
            in_channels + mid_channels, mid_channels, num_blocks)
        self.fusion = nn.Conv2d(mid_channels * 2, mid_channels, 1, 1, 0)
        if propagation_scale == 4:
            self.upsample = nn.Sequential(
                nn.Conv2d(mid_channels, mid_channels * 16, 3, 1, 1),
                nn.PixelShuffle(4))
        head_channels = mid_channels + (3 if lq_to_head else 0)
        self.conv_hr = nn.Conv2d(head_channels, mid_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(mid_channels, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)
        self._zero_last()

    def _zero_conv_last(self) -> None:
        """Make the residual zero: the network outputs its input."""
        nn.init.zeros_(self.conv_last.weight)
        nn.init.zeros_(self.conv_last.bias)

    def _zero_last(self) -> None:
        if self.zero_init_residual:
            self._zero_conv_last()
        if self.zero_init_flow:
            for level in self.spynet.basic_module:
                last = level.basic_module[-1].conv
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)

    @torch.no_grad()
    def restart_propagation(self, spynet_state: dict) -> None:
        """Give the network new flows and make it ignore what they carry.

        Loads ``spynet_state`` into SPyNet and zeroes, in both branches'
        input convolution, the weights that read the propagated features,
        so the network's output is what it gives with no propagated
        features at all; training can then grow their use from there.
        For a network whose SPyNet has drifted to flows that point out of
        the frame (the warped features are then zero and the network works
        frame by frame, issue 15).

        Args:
            spynet_state (dict): A SPyNet state dict (mmagic's keys; the
                fixed ImageNet ``mean``/``std`` buffers may be left out,
                as in the files ``tools/pretrain_spynet.py`` writes).

        Raises:
            ValueError: If ``spynet_state`` lacks a weight or has others.
        """
        missing, unexpected = self.spynet.load_state_dict(
            spynet_state, strict=False)
        missing = set(missing) - {'mean', 'std'}
        if missing or unexpected:
            raise ValueError(
                'not SPyNet weights: missing '
                f'{sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}')
        for branch in (self.backward_resblocks, self.forward_resblocks):
            # the input conv reads cat([frame features, propagated])
            conv = branch.main[0]
            conv.weight[:, conv.in_channels - self.mid_channels:] = 0

    def init_weights(self) -> None:
        """Initialise (mmengine hook), keeping the identity start."""
        super().init_weights()
        if not init_cfg_loads_weights(self.init_cfg):
            self._zero_last()
        elif self.zero_last_after_load:
            self._zero_conv_last()

    def compute_flow(
            self, frames: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """SPyNet flows between neighbouring frames.

        Args:
            frames (Tensor): Frames of shape (n, t, 3, h, w), in [0, 1].

        Returns:
            tuple[Tensor | None]: ``flows_forward`` (frame i -> i-1) and
            ``flows_backward`` (frame i -> i+1), each (n, t-1, 2, h, w);
            both None when t == 1.
        """
        n, t, c, h, w = frames.shape
        if t == 1:
            return None, None
        prev = frames[:, :-1].reshape(-1, c, h, w)
        nxt = frames[:, 1:].reshape(-1, c, h, w)
        flows_backward = self.spynet(prev, nxt).view(n, t - 1, 2, h, w)
        flows_forward = self.spynet(nxt, prev).view(n, t - 1, 2, h, w)
        return flows_forward, flows_backward

    def _pad(self, lqs: torch.Tensor) -> torch.Tensor:
        """Pad h and w up to a multiple of ``propagation_scale``."""
        return pad_to_multiple(lqs, self.propagation_scale)

    def _flow_frames(self, padded: torch.Tensor) -> torch.Tensor:
        """The frames SPyNet sees: the padded input at propagation scale."""
        if self.propagation_scale == 1:
            return padded
        n, t, c, hp, wp = padded.shape
        s = self.propagation_scale
        return F.interpolate(
            padded.reshape(-1, c, hp, wp),
            size=(hp // s, wp // s),
            mode='bilinear',
            align_corners=False).view(n, t, c, hp // s, wp // s)

    def flows(
        self, lqs: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """The flows :meth:`forward` computes for ``lqs``.

        Two networks with the same SPyNet weights and propagation scale
        that read the same frames (ASTF's refiners) can compute them once
        and pass them to :meth:`forward`.

        Args:
            lqs (Tensor): Frames (n, t, 3, h, w) in [0, 1].

        Returns:
            tuple[Tensor | None]: As :meth:`compute_flow`.
        """
        return self.compute_flow(self._flow_frames(self._pad(lqs)))

    def forward(
        self,
        lqs: torch.Tensor,
        flows: Optional[Tuple[Optional[torch.Tensor],
                              Optional[torch.Tensor]]] = None
    ) -> torch.Tensor:
        """Enhance a clip.

        Args:
            lqs (Tensor): Compressed frames, shape (n, t, 3, h, w), any
                h, w >= 1 and t >= 1, values in [0, 1].
            flows (tuple[Tensor | None], optional): ``self.flows(lqs)``,
                computed beforehand (e.g. shared by two networks). Default:
                None (computed here).

        Returns:
            Tensor: Enhanced frames, shape (n, t, 3, h, w).
        """
        if lqs.dim() != 5 or lqs.size(2) != 3:
            raise ValueError('EnhanceNet expects (n, t, 3, h, w) frames, got '
                             f'shape {tuple(lqs.shape)}.')
        n, t, c, h, w = lqs.shape
        padded = self._pad(lqs)
        hp, wp = padded.shape[-2:]
        if self.propagation_scale == 1:
            inputs = padded
        else:
            inputs = self.feat_extract(padded.reshape(-1, c, hp, wp))
            inputs = inputs.view(n, t, -1, *inputs.shape[-2:])
        fh, fw = inputs.shape[-2:]
        if flows is None:
            flows = self.compute_flow(self._flow_frames(padded))
        flows_forward, flows_backward = flows

        backward_feats = []
        feat = inputs.new_zeros(n, self.mid_channels, fh, fw)
        for i in range(t - 1, -1, -1):
            if i < t - 1:
                flow = flows_backward[:, i].permute(0, 2, 3, 1)
                feat = flow_warp(feat, flow)
            feat = self.backward_resblocks(
                torch.cat([inputs[:, i], feat], dim=1))
            backward_feats.append(feat)
        backward_feats = backward_feats[::-1]

        outputs = []
        feat = torch.zeros_like(feat)
        for i in range(t):
            if i > 0:
                flow = flows_forward[:, i - 1].permute(0, 2, 3, 1)
                feat = flow_warp(feat, flow)
            feat = self.forward_resblocks(
                torch.cat([inputs[:, i], feat], dim=1))
            out = self.lrelu(
                self.fusion(torch.cat([backward_feats[i], feat], dim=1)))
            if self.propagation_scale > 1:
                out = self.lrelu(self.upsample(out))
            if self.lq_to_head:
                out = torch.cat([out, padded[:, i]], dim=1)
            out = self.conv_last(self.lrelu(self.conv_hr(out)))
            outputs.append(out + padded[:, i])
        return torch.stack(outputs, dim=1)[..., :h, :w]
