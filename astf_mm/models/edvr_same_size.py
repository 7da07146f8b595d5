"""EDVR restoring whole clips at their own size (a peer for compression)."""
from typing import Optional

import torch
import torch.nn as nn
from mmagic.models.editors.edvr.edvr_net import EDVRNet
from mmagic.registry import MODELS

from .frame_padding import pad_to_multiple
from .weight_init import init_cfg_loads_weights


@MODELS.register_module()
class EDVRSameSizeNet(EDVRNet):
    """EDVR (Wang et al., CVPRW 2019) with output the size of its input.

    mmagic's ``EDVRNet`` is x4 super-resolution only. For restoration at
    the same size, EDVR's authors feed the full-size frames through two
    stride-2 convolutions after the first convolution, so that alignment,
    fusion and reconstruction run at 1/4 size and the x4 upsampler brings
    the residual back to full size, where it is added to the centre frame
    (BasicSR's ``hr_in``). This is that network, built on mmagic's modules
    (PCD alignment with modulated deformable convolutions, TSA fusion), so
    that EDVR can be scored beside ASTF against same-size ground truth.

    EDVR restores the centre of a window of ``num_frames`` frames; this
    network takes a whole clip (n, t, c, h, w), like BasicVSR, and restores
    every frame with the window centred on it (border frames repeat the
    first or last frame). Each frame's pyramid features are computed once
    and shared by the windows that contain it.

    Args:
        in_channels (int): Input channels. Default: 3.
        out_channels (int): Output channels, equal to ``in_channels`` (the
            output is a residual on the input). Default: 3.
        mid_channels (int): Feature channels. Default: 64.
        num_frames (int): Window length, odd. Default: 5.
        deform_groups (int): Deformable groups of the PCD alignment.
            Default: 8.
        num_blocks_extraction (int): Residual blocks before alignment.
            Default: 5.
        num_blocks_reconstruction (int): Residual blocks after fusion.
            Default: 10.
        with_tsa (bool): TSA fusion (else a 1x1 convolution). Default: True.
        zero_init_residual (bool): Zero the last convolution so that the
            untrained network is the identity, as the sample EnhanceNets
            start (for equal-recipe comparisons). Default: False (EDVR's
            own initialisation).
        init_cfg (dict, optional): mmengine initialisation config.
            Default: None.
    """

    # Alignment and fusion run at 1/4 size and the PCD pyramid halves that
    # twice: h and w are padded to a multiple of 4 * 2 * 2.
    size_multiple = 16

    def __init__(self,
                 in_channels: int = 3,
                 out_channels: int = 3,
                 mid_channels: int = 64,
                 num_frames: int = 5,
                 deform_groups: int = 8,
                 num_blocks_extraction: int = 5,
                 num_blocks_reconstruction: int = 10,
                 with_tsa: bool = True,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if num_frames < 1 or num_frames % 2 == 0:
            raise ValueError('EDVRSameSizeNet needs an odd window length, '
                             f'got num_frames={num_frames}.')
        if out_channels != in_channels:
            raise ValueError('EDVRSameSizeNet adds its output to its input: '
                             f'out_channels ({out_channels}) must equal '
                             f'in_channels ({in_channels}).')
        super().__init__(
            in_channels,
            out_channels,
            mid_channels=mid_channels,
            num_frames=num_frames,
            deform_groups=deform_groups,
            num_blocks_extraction=num_blocks_extraction,
            num_blocks_reconstruction=num_blocks_reconstruction,
            center_frame_idx=num_frames // 2,
            with_tsa=with_tsa,
            init_cfg=init_cfg)
        self.num_frames = num_frames
        self.zero_init_residual = zero_init_residual
        self.stride_convs = nn.Sequential(
            nn.Conv2d(mid_channels, mid_channels, 3, 2, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Conv2d(mid_channels, mid_channels, 3, 2, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True))
        # the residual is added at full size: no x4 image upsampling
        del self.img_upsample
        self._zero_last()

    def _zero_last(self) -> None:
        if self.zero_init_residual:
            nn.init.zeros_(self.conv_last.weight)
            nn.init.zeros_(self.conv_last.bias)

    def init_weights(self) -> None:
        """Initialise (mmengine hook), keeping the identity start."""
        super().init_weights()
        if not init_cfg_loads_weights(self.init_cfg):
            self._zero_last()

    def forward(self, lqs: torch.Tensor) -> torch.Tensor:
        """Restore a clip.

        Args:
            lqs (Tensor): Frames, shape (n, t, c, h, w), any t, h, w >= 1.

        Returns:
            Tensor: Restored frames, shape (n, t, c, h, w).
        """
        if lqs.dim() != 5:
            raise ValueError('EDVRSameSizeNet expects (n, t, c, h, w) '
                             f'frames, got shape {tuple(lqs.shape)}.')
        n, t, c, h, w = lqs.shape
        padded = pad_to_multiple(lqs, self.size_multiple)
        hp, wp = padded.shape[-2:]

        feat = self.lrelu(self.conv_first(padded.reshape(-1, c, hp, wp)))
        l1_feat = self.feature_extraction(self.stride_convs(feat))
        l2_feat = self.feat_l2_conv2(self.feat_l2_conv1(l1_feat))
        l3_feat = self.feat_l3_conv2(self.feat_l3_conv1(l2_feat))
        pyramid = [
            level.view(n, t, *level.shape[1:])
            for level in (l1_feat, l2_feat, l3_feat)
        ]

        half = self.num_frames // 2
        outputs = []
        for i in range(t):
            ref_feats = [level[:, i] for level in pyramid]
            # the window centred on frame i, border frames repeated
            window = [
                min(max(j, 0), t - 1) for j in range(i - half, i + half + 1)
            ]
            aligned = [
                self.pcd_alignment([level[:, j] for level in pyramid],
                                   ref_feats) for j in window
            ]
            aligned_feat = torch.stack(aligned, dim=1)
            if not self.with_tsa:
                aligned_feat = aligned_feat.flatten(1, 2)
            out = self.reconstruction(self.fusion(aligned_feat))
            out = self.lrelu(self.upsample1(out))
            out = self.lrelu(self.upsample2(out))
            out = self.conv_last(self.lrelu(self.conv_hr(out)))
            outputs.append(out + padded[:, i])
        return torch.stack(outputs, dim=1)[..., :h, :w]
