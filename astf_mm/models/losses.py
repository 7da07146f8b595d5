"""LPIPS loss, the Charbonnier + LPIPS trade-off loss (ASTF sec. 3.1), also
with its Charbonnier on block means only, and a per-frame PSNR loss for
clips.

All are drop-in ``pixel_loss`` modules for mmagic's ``BasicVSR`` model,
which calls ``pixel_loss(output, gt)`` on ``(n, t, c, h, w)`` clips in
``[0, 1]``, RGB (mmagic's data preprocessor keeps the pipeline's ``rgb``
order in training).

The LPIPS network is frozen, stays in eval mode when the model is put in
``train()``, and is never part of a checkpoint: ``state_dict()`` leaves it
out and ``load_state_dict()`` (strict or not, torch's or mmengine's)
keeps the network built from the weight files, so checkpoints saved
without it load strictly.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.models.losses import CharbonnierLoss, PSNRLoss
from mmagic.registry import MODELS

from .perceptual_nets import build_lpips

_NET = 'lpips'  # attribute name of the LPIPS network inside LPIPSLoss


def _drop_lpips_state(module: nn.Module, state_dict: dict, prefix: str,
                      local_metadata: dict) -> None:
    for key in [k for k in state_dict if k.startswith(prefix + _NET + '.')]:
        del state_dict[key]


def _supply_lpips_state(module: nn.Module, state_dict: dict, prefix: str,
                        *args) -> None:
    # Whatever the checkpoint holds (usually nothing), the network keeps the
    # weights it was built from: feed its own tensors back so that strict
    # loading finds every key.
    own = getattr(module, _NET).state_dict(prefix=prefix + _NET + '.')
    state_dict.update(own)


def _check_reduction(reduction: str, allowed: tuple, name: str) -> None:
    if reduction not in allowed:
        raise ValueError(f'{name} must be one of {allowed}, got '
                         f'{reduction!r}.')


@MODELS.register_module()
class LPIPSLoss(nn.Module):
    """LPIPS distance between predicted and ground-truth frames.

    ``lpips`` averages its distance over the pixels of each frame; the
    frames of all clips are then reduced by ``reduction``.

    Args:
        loss_weight (float): Multiplier of the loss. Default: 1.0.
        reduction (str): ``'mean'`` over all frames of the batch,
            ``'sum'`` over them, or ``'none'`` (per frame: ``(n, t)`` for
            clips, ``(n,)`` for images). Default: 'mean'.
        net (str): LPIPS trunk, ``'vgg'`` (the paper trains with it) or
            ``'alex'``. Default: 'vgg'.
        backbone_path (str, optional): Trunk weights in torchvision
            ``features`` layout; else the local cache, else torchvision's
            download (see :mod:`.perceptual_nets`). Default: None.
        pretrained_backbone (bool): False builds a random trunk, for
            wiring tests only. Default: True.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 net: str = 'vgg',
                 backbone_path: Optional[str] = None,
                 pretrained_backbone: bool = True) -> None:
        super().__init__()
        _check_reduction(reduction, ('none', 'mean', 'sum'), 'reduction')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.lpips = build_lpips(net, backbone_path, pretrained_backbone)
        self.register_state_dict_post_hook(_drop_lpips_state)
        self.register_load_state_dict_pre_hook(_supply_lpips_state)

    def train(self, mode: bool = True) -> 'LPIPSLoss':
        """Set the module's mode; the LPIPS network always stays in eval.

        Args:
            mode (bool): Training mode. Default: True.

        Returns:
            LPIPSLoss: self.
        """
        super().train(mode)
        self.lpips.eval()
        return self

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): ``(n, t, 3, h, w)`` or ``(n, 3, h, w)``, RGB in
                ``[0, 1]``.
            target (Tensor): Same shape as ``pred``.

        Returns:
            Tensor: Scalar, or per-frame values for ``reduction='none'``.
        """
        if pred.shape != target.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ in shape.')
        if pred.dim() not in (4, 5) or pred.shape[-3] != 3:
            raise ValueError('LPIPSLoss expects (n, t, 3, h, w) or '
                             f'(n, 3, h, w) RGB, got {tuple(pred.shape)}.')
        lead = pred.shape[:-3]
        # lpips maps [0, 1] to its [-1, 1] input range with normalize=True.
        dist = self.lpips(
            pred.reshape(-1, *pred.shape[-3:]),
            target.reshape(-1, *target.shape[-3:]),
            normalize=True).reshape(lead)
        if self.reduction == 'mean':
            dist = dist.mean()
        elif self.reduction == 'sum':
            dist = dist.sum()
        return self.loss_weight * dist


@MODELS.register_module()
class CharbonnierLPIPSLoss(nn.Module):
    """The trade-off loss ``alpha * Charbonnier + beta * LPIPS`` (eq. 2).

    The paper sets ``alpha = 0.15`` and ``beta = 10000`` "to make
    Charbonnier loss almost three times larger than lpips loss". That
    holds only for a Charbonnier *summed* over the pixels of the batch
    against an LPIPS *averaged* over its frames (a mean-reduced Charbonnier
    is ~10^4 times smaller than the LPIPS term), so those are the default
    reductions. The ratio then grows with the number of pixels per batch;
    see the measured values in the stage-2 config.

    Charbonnier is mmagic's :class:`CharbonnierLoss`, which computes
    ``sqrt(x^2 + eps)``: the paper's ``sqrt(x^2 + 1e-6^2)`` is
    ``eps=1e-12``.

    ``block_mean_weight=gamma > 0`` adds a third term, beyond the paper:
    ``gamma`` times the Charbonnier distance between the means of each
    ``block_size x block_size`` block of the two clips, averaged. It holds
    brightness and colour at coarse scale and leaves every texture finer
    than the blocks to the other terms. LPIPS lets them drift: the sample
    EnhanceNet1 trained with it alone darkened unseen clean wallpapers by
    3-6 8-bit levels; the per-pixel Charbonnier is L1-like, so a shift of a
    level under errors of several levels hardly moves it (README, model
    zoo).

    After each call, :attr:`last_terms` holds the parts as floats:
    ``charbonnier``, ``lpips`` and ``block_mean`` (reduced, unweighted) and
    ``loss_charbonnier`` / ``loss_lpips`` / ``loss_block_mean`` (times
    ``alpha`` / ``beta`` / ``block_mean_weight``; they add up to the
    returned loss). A term of weight 0 is not computed (0.0).

    Args:
        alpha (float): Weight of the Charbonnier term. Default: 0.15.
        beta (float): Weight of the LPIPS term. Default: 10000.0.
        charbonnier_reduction (str): ``'sum'`` or ``'mean'`` over every
            element of the batch. Default: 'sum'.
        lpips_reduction (str): ``'mean'`` or ``'sum'`` over the frames of
            the batch. Default: 'mean'.
        eps (float): Added to ``x^2`` under the Charbonnier square root.
            Default: 1e-12.
        block_mean_weight (float): Weight of the block-mean term; 0 leaves
            it out, as the paper. Default: 0.0.
        block_size (int): Side of the blocks whose means that term
            compares (average pooling; partial blocks at the right and
            bottom edges average what they hold). Default: 8.
        net (str): LPIPS trunk, ``'vgg'`` or ``'alex'``. Default: 'vgg'.
        backbone_path (str, optional): See :class:`LPIPSLoss`.
            Default: None.
        pretrained_backbone (bool): See :class:`LPIPSLoss`. Default: True.
    """

    def __init__(self,
                 alpha: float = 0.15,
                 beta: float = 1e4,
                 charbonnier_reduction: str = 'sum',
                 lpips_reduction: str = 'mean',
                 eps: float = 1e-12,
                 block_mean_weight: float = 0.0,
                 block_size: int = 8,
                 net: str = 'vgg',
                 backbone_path: Optional[str] = None,
                 pretrained_backbone: bool = True) -> None:
        super().__init__()
        _check_reduction(charbonnier_reduction, ('mean', 'sum'),
                         'charbonnier_reduction')
        _check_reduction(lpips_reduction, ('mean', 'sum'), 'lpips_reduction')
        if int(block_size) != block_size or block_size < 1:
            raise ValueError('block_size must be a positive integer, got '
                             f'{block_size!r}.')
        if block_mean_weight < 0:
            raise ValueError('block_mean_weight must be >= 0, got '
                             f'{block_mean_weight!r}.')
        self.block_size = int(block_size)
        self.alpha = alpha
        self.beta = beta
        self.block_mean_weight = block_mean_weight
        self.charbonnier = CharbonnierLoss(
            loss_weight=1.0, reduction=charbonnier_reduction, eps=eps)
        self.block_charbonnier = CharbonnierLoss(
            loss_weight=1.0, reduction='mean', eps=eps)
        self.lpips_loss = LPIPSLoss(
            loss_weight=1.0,
            reduction=lpips_reduction,
            net=net,
            backbone_path=backbone_path,
            pretrained_backbone=pretrained_backbone)
        self.last_terms: Dict[str, float] = {}

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): ``(n, t, 3, h, w)`` or ``(n, 3, h, w)``, RGB in
                ``[0, 1]``.
            target (Tensor): Same shape as ``pred``.

        Returns:
            Tensor: Scalar loss.
        """
        zero = pred.new_zeros(())
        terms = dict(
            charbonnier=(self.charbonnier(pred, target)
                         if self.alpha else zero),
            lpips=self.lpips_loss(pred, target) if self.beta else zero,
            block_mean=(self.block_charbonnier(
                self.block_means(pred), self.block_means(target))
                        if self.block_mean_weight else zero))
        weights = dict(
            charbonnier=self.alpha,
            lpips=self.beta,
            block_mean=self.block_mean_weight)
        weighted = {name: weights[name] * term for name, term in terms.items()}
        self.last_terms = {
            **{name: float(term.detach())
               for name, term in terms.items()},
            **{f'loss_{name}': float(term.detach())
               for name, term in weighted.items()}
        }
        return sum(weighted.values())

    def block_means(self, frames: torch.Tensor) -> torch.Tensor:
        """The means of the ``block_size``-sided blocks of each frame (the
        frames themselves for 1).

        Args:
            frames (Tensor): ``(..., c, h, w)``.

        Returns:
            Tensor: ``(..., c, ceil(h / s), ceil(w / s))``.
        """
        size = self.block_size
        if size == 1:
            return frames
        flat = frames.reshape(-1, *frames.shape[-3:])
        # ceil_mode: a partial block at the edge averages the pixels it has
        means = F.avg_pool2d(flat, size, ceil_mode=True)
        return means.reshape(*frames.shape[:-2], *means.shape[-2:])


@MODELS.register_module()
class FramePSNRLoss(nn.Module):
    """Negative PSNR of every frame, averaged: mmagic's :class:`PSNRLoss`
    (HINet's ``10 / ln 10 * mean log(MSE + 1e-8)`` over images) on clips.

    Under MSE a frame's pull on the gradient is its squared error, so a clean
    frame at 42 dB weighs ~100 times less than a 22 dB one and the network
    may spoil it for a gain elsewhere. ``d log(MSE)`` weights each frame by
    ``1 / its MSE``: every frame counts by its own PSNR, as the per-video
    evaluation counts it. Beyond the paper (stage 1 uses Charbonnier there).

    Args:
        loss_weight (float): Multiplier of the loss. Default: 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.psnr_loss = PSNRLoss(loss_weight=loss_weight)

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): ``(n, t, c, h, w)`` or ``(n, c, h, w)`` in
                ``[0, 1]``.
            target (Tensor): Same shape as ``pred``.

        Returns:
            Tensor: Scalar, minus the mean per-frame PSNR (peak 1) times
            ``loss_weight``.
        """
        if pred.shape != target.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ in shape.')
        if pred.dim() not in (4, 5):
            raise ValueError('FramePSNRLoss expects (n, t, c, h, w) or '
                             f'(n, c, h, w), got {tuple(pred.shape)}.')
        return self.psnr_loss(
            pred.reshape(-1, *pred.shape[-3:]),
            target.reshape(-1, *target.shape[-3:]))
