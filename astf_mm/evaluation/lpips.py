"""LPIPS per video (ASTF, Table 2)."""
from typing import Optional

import numpy as np
import torch
from mmagic.registry import METRICS

from .base import PerVideoMetric, shared_lpips


@METRICS.register_module()
class VideoLPIPS(PerVideoMetric):
    """LPIPS per video: the mean over its frames, then over videos.

    The paper validates with LPIPS-alex (``lpips`` v0.1 heads).

    Args:
        net (str): ``'alex'`` or ``'vgg'``. Default: 'alex'.
        backbone_path (str, optional): Trunk weights; else the local cache
            (see :mod:`astf_mm.models.perceptual_nets`). Default: None.
        batch_size (int): Frames per forward pass. Default: 8.
        gt_key (str): Key of the ground truth. Default: 'gt_img'.
        pred_key (str): Key of the prediction in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric.
            Default: 'BGR'.
        device (str): Device of the computation. Default: 'cpu'.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the result name, e.g. 'stage1'
            gives 'stage1/LPIPS'. Default: None.
        pretrained_backbone (bool): False uses a random trunk, for wiring
            tests only. Default: True.
    """

    metric = 'LPIPS'

    def __init__(self,
                 net: str = 'alex',
                 backbone_path: Optional[str] = None,
                 batch_size: int = 8,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 pretrained_backbone: bool = True) -> None:
        super().__init__(gt_key, pred_key, channel_order, device,
                         collect_device, prefix)
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        self.batch_size = batch_size
        self.net = shared_lpips(net, backbone_path, pretrained_backbone,
                                device)

    @torch.no_grad()
    def frame_distances(self, pred: torch.Tensor,
                        gt: torch.Tensor) -> torch.Tensor:
        """LPIPS of each frame pair.

        Args:
            pred (Tensor): ``(t, 3, h, w)`` RGB in [0, 255].
            gt (Tensor): Same shape.

        Returns:
            Tensor: ``(t,)`` distances.
        """
        dists = []
        for start in range(0, pred.shape[0], self.batch_size):
            stop = start + self.batch_size
            dists.append(
                self.net(
                    pred[start:stop] / 255.,
                    gt[start:stop] / 255.,
                    normalize=True).flatten().cpu())
        return torch.cat(dists)

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor,
                      data_sample: dict) -> dict:
        dists = self.frame_distances(pred, gt)
        return dict(sum=float(dists.sum()), count=int(dists.numel()))


@torch.no_grad()
def frame_lpips(pred: np.ndarray, gt: np.ndarray, net: str = 'alex') -> float:
    """LPIPS of one frame pair (the shared, real-weight network).

    Args:
        pred (np.ndarray): ``(h, w, 3)`` uint8 RGB.
        gt (np.ndarray): Same shape.
        net (str): ``'alex'`` or ``'vgg'``. Default: 'alex'.

    Returns:
        float: The distance.
    """
    model = shared_lpips(net)
    device = next(model.parameters()).device

    def to_tensor(frame: np.ndarray) -> torch.Tensor:
        if not frame.flags.writeable:
            frame = frame.copy()  # torch warns on read-only arrays
        return torch.from_numpy(frame).to(device).permute(
            2, 0, 1)[None].float() / 255.

    return float(model(to_tensor(pred), to_tensor(gt), normalize=True))
