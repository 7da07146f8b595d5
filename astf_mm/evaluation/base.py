"""What every per-video metric shares: the base class, a content-keyed
cache and the shared LPIPS networks.

Every metric of this package is a sample-wise metric registered in mmagic's
``METRICS``, used in ``val_evaluator`` / ``test_evaluator`` beside mmagic's
own, with the same ``gt_key`` / ``pred_key`` / ``prefix`` arguments (one
entry per output key gives one row of a results table). In the video
configs each sample is a whole video ``(t, 3, h, w)`` in [0, 255], BGR (what
mmagic's data preprocessor hands metrics in the test stage). Frames are
rounded to 8 bits first, as when they are saved to PNG, so the numbers match
a run on written frames.

Each metric averages per video (a video split over several samples is
regrouped by its key), then over videos, and keeps the per-video values in
``per_video`` (``[{'video': key, <metric>: value}, ...]``, filled by
``compute_metrics`` on the rank that computes the metrics).

Every row of a results table shares the ground truth, so what is computed
from it alone (flows, LPIPS distances, Inception features) is kept in
:data:`DEFAULT_CACHE`, keyed by the frames' content.
"""
import functools
import hashlib
import itertools
import os.path as osp
import weakref
from collections import OrderedDict
from typing import (Callable, Dict, Hashable, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
from mmagic.evaluation.metrics.base_sample_wise_metric import \
    BaseSampleWiseMetric
from mmagic.evaluation.metrics.metrics_utils import obtain_data

from ..models.perceptual_nets import build_lpips, canonical_net

CHANNEL_ORDERS = ('BGR', 'RGB')


class ArrayCache:
    """A least-recently-used cache of numpy arrays under a byte budget.

    Keys are built by the caller from the content of the frames (a hash),
    never from object identity, so a cached value can only be returned for
    identical input frames. Cached arrays are read-only.

    Args:
        max_bytes (int): Total size of the arrays kept; the least recently
            used are dropped beyond it, and an array larger than the budget
            is returned without being cached. Default: 4 GiB (the forward
            and backward flows of a 960x536 video of about 500 frames).
    """

    def __init__(self, max_bytes: int = 4 * 1024**3) -> None:
        self.max_bytes = max_bytes
        self._items: 'OrderedDict[Hashable, np.ndarray]' = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """int: Bytes held by the cached arrays."""
        return self._bytes

    def clear(self) -> None:
        """Drop every cached array."""
        self._items.clear()
        self._bytes = 0

    def get_or_compute(self, key: Hashable,
                       compute: Callable[[], np.ndarray]) -> np.ndarray:
        """Return the array cached under ``key``, computing it if needed.

        Args:
            key (Hashable): Cache key.
            compute (Callable[[], np.ndarray]): Called on a miss.

        Returns:
            np.ndarray: The (read-only) array.
        """
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = np.asarray(compute())
        value.flags.writeable = False
        if value.nbytes <= self.max_bytes:
            self._items[key] = value
            self._bytes += value.nbytes
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.nbytes
        return value


# Shared by every metric in the process, so what the ground truth of a video
# gives is computed once for all rows of a table. Lower ``max_bytes`` to
# bound memory (a budget below one video's flows means recomputing them).
DEFAULT_CACHE = ArrayCache()


def cached(cache: Optional[ArrayCache], key: Hashable,
           compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``cache.get_or_compute(key, compute)``; None computes every time."""
    if cache is None:
        return compute()
    return cache.get_or_compute(key, compute)


def content_digest(array: np.ndarray) -> Tuple:
    """A cache-key part identifying an array by shape, dtype and bytes."""
    data = np.ascontiguousarray(array)
    return (data.shape, str(data.dtype),
            hashlib.blake2b(data.data, digest_size=16).hexdigest())


_NET_TOKENS: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()
_TOKEN_COUNTER = itertools.count()


def net_token(net: Callable) -> Optional[int]:
    """A cache-key part naming a network object while it lives.

    Ids can be reused after garbage collection, tokens cannot: a result
    cached for one network is never returned for another.

    Args:
        net (Callable): The network (or any weak-referenceable callable).

    Returns:
        int | None: Its token; None if it cannot be weakly referenced, in
        which case its results must not be cached.
    """
    try:
        if net not in _NET_TOKENS:
            _NET_TOKENS[net] = next(_TOKEN_COUNTER)
        return _NET_TOKENS[net]
    except TypeError:
        return None


@functools.lru_cache(maxsize=None)
def _build_shared_lpips(net: str, backbone_path: Optional[str],
                        pretrained_backbone: bool,
                        device: str) -> torch.nn.Module:
    return build_lpips(net, backbone_path, pretrained_backbone).to(device)


def shared_lpips(net: str = 'alex',
                 backbone_path: Optional[str] = None,
                 pretrained_backbone: bool = True,
                 device: Union[str, torch.device] = 'cpu') -> torch.nn.Module:
    """One frozen ``lpips.LPIPS`` per setting, shared by every metric.

    Sharing the object lets the ground-truth results cached under its
    :func:`net_token` serve every metric entry (every table row).

    Args:
        net (str): ``'alex'`` or ``'vgg'``. Default: 'alex'.
        backbone_path (str, optional): Trunk weights; else the local cache
            (see :func:`astf_mm.models.perceptual_nets.build_lpips`, which
            raises a clear error when they are missing). Default: None.
        pretrained_backbone (bool): False uses a random trunk, for wiring
            tests only. Default: True.
        device (str | torch.device): Device of the network.
            Default: 'cpu'.

    Returns:
        torch.nn.Module: The network (eval mode, no gradients).
    """
    return _build_shared_lpips(
        canonical_net(net), backbone_path, bool(pretrained_backbone),
        str(device))


def video_key(data_sample: dict) -> Optional[str]:
    """The video a data sample belongs to.

    Args:
        data_sample (dict): A data sample as metrics receive it
            (``DataSample.to_dict()``).

    Returns:
        str | None: metainfo ``key`` if present, else the folder of the
        first ``gt_path`` frame (``BasicFramesDataset`` with
        ``GenerateSegmentIndices`` lists the frames of the video folder),
        else the file stem of a single ``gt_path``, else None.
    """
    key = data_sample.get('key')
    if isinstance(key, str) and key:
        return key
    path = data_sample.get('gt_path')
    if isinstance(path, (list, tuple)) and path:
        return osp.basename(osp.dirname(str(path[0])))
    if isinstance(path, str) and path:
        return osp.splitext(osp.basename(path.rstrip('/\\')))[0]
    return None


def to_rgb_frames(frames: Union[torch.Tensor, np.ndarray],
                  channel_order: str = 'BGR',
                  name: str = 'frames') -> torch.Tensor:
    """Make ``(t, 3, h, w)`` 8-bit-valued float RGB frames in [0, 255].

    Args:
        frames (Tensor | np.ndarray): ``(t, 3, h, w)`` video or
            ``(3, h, w)`` image in [0, 255].
        channel_order (str): 'BGR' or 'RGB'. Default: 'BGR'.
        name (str): Name used in error messages. Default: 'frames'.

    Returns:
        Tensor: ``(t, 3, h, w)`` float32, rounded and clipped to
        ``0 .. 255``, RGB.
    """
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(frames)
    if frames.dim() == 3:
        frames = frames.unsqueeze(0)
    if frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f'{name}: expected a (t, 3, h, w) video or a '
                         f'(3, h, w) image, got {tuple(frames.shape)}.')
    frames = frames.detach().float().round().clamp(0, 255)
    order = channel_order.upper()
    if order == 'BGR':
        frames = frames.flip(1)
    elif order != 'RGB':
        raise ValueError(
            f'channel_order must be BGR or RGB, got {channel_order!r}.')
    return frames


class PerVideoMetric(BaseSampleWiseMetric):
    """Reads each sample's video pair and groups the results by video.

    Subclasses set ``metric`` and implement :meth:`process_video`; the
    default :meth:`video_value` is the mean of per-frame (or per-pair)
    values, from entries holding their ``sum`` and ``count``, so the mean
    is exact even if a video arrives as several samples, and the entries
    survive mmengine's collection across ranks.

    Args:
        gt_key (str): Key of the ground truth. Default: 'gt_img'.
        pred_key (str): Key of the prediction in ``output``.
            Default: 'pred_img'.
        channel_order (str): Order of the frames handed to the metric
            (mmagic's test-stage data preprocessor gives BGR).
            Default: 'BGR'.
        device (str): Device of the computation. Default: 'cpu'.
        collect_device (str): Device for collecting results across ranks.
            Default: 'cpu'.
        prefix (str, optional): Prefix of the result name, e.g. 'stage1'
            gives 'stage1/<metric>'. Default: None.
    """

    def __init__(self,
                 gt_key: str = 'gt_img',
                 pred_key: str = 'pred_img',
                 channel_order: str = 'BGR',
                 device: str = 'cpu',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            gt_key=gt_key,
            pred_key=pred_key,
            mask_key=None,
            device=device,
            collect_device=collect_device,
            prefix=prefix)
        if channel_order.upper() not in CHANNEL_ORDERS:
            raise ValueError(
                f'channel_order must be BGR or RGB, got {channel_order!r}.')
        self.channel_order = channel_order.upper()
        self.per_video: List[dict] = []

    def to_frames(self, frames: Union[torch.Tensor, np.ndarray],
                  name: str) -> torch.Tensor:
        """RGB ``(t, 3, h, w)`` frames in [0, 255] of a sample's video."""
        return to_rgb_frames(frames, self.channel_order, name)

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor,
                      data_sample: dict) -> dict:
        """The entry of one sample, from RGB ``(t, 3, h, w)`` frames."""
        raise NotImplementedError

    def process(self, data_batch: Optional[Sequence[dict]],
                data_samples: Sequence[dict]) -> None:
        """Compute the entry of each sample of a batch.

        Args:
            data_batch (Sequence[dict], optional): Unused.
            data_samples (Sequence[dict]): Data samples with an ``output``
                dict, each holding a video ``(t, 3, h, w)`` (or an image).
        """
        for data in data_samples:
            video = video_key(data) or f'sample_{len(self.results):04d}'
            pred = self.to_frames(
                obtain_data(data['output'], self.pred_key, self.device),
                f'{video}: {self.pred_key}')
            gt = self.to_frames(
                obtain_data(data, self.gt_key, self.device),
                f'{video}: {self.gt_key}')
            if pred.shape != gt.shape:
                raise ValueError(
                    f'{video}: {self.pred_key} {tuple(pred.shape)} and '
                    f'{self.gt_key} {tuple(gt.shape)} differ in shape.')
            entry = self.process_video(pred, gt, data)
            entry['video'] = video
            self.results.append(entry)

    def video_value(self, entries: List[dict]) -> float:
        """The metric of one video from its samples' entries.

        Args:
            entries (list[dict]): Entries with ``sum`` and ``count``.

        Returns:
            float: ``sum / count`` over the entries (NaN if no count).
        """
        total = sum(e['sum'] for e in entries)
        count = sum(e['count'] for e in entries)
        return total / count if count else float('nan')

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute each video's value, then their mean.

        Args:
            results (list[dict]): Entries of :meth:`process` (all ranks).

        Returns:
            dict[str, float]: ``{self.metric: mean over videos}``; videos
            whose value is NaN are left out (NaN if all are).
        """
        grouped: Dict[str, List[dict]] = {}
        for entry in results:
            grouped.setdefault(entry['video'], []).append(entry)
        self.per_video = [{
            'video': video,
            self.metric: self.video_value(entries)
        } for video, entries in grouped.items()]
        values = [
            v[self.metric] for v in self.per_video
            if not np.isnan(v[self.metric])
        ]
        mean = float(np.mean(values)) if values else float('nan')
        return {self.metric: mean * self.scaling}


class FrameAveragedMetric(PerVideoMetric):
    """A per-frame image metric averaged over the frames of each video."""

    def frame_value(self, pred: np.ndarray, gt: np.ndarray) -> float:
        """The metric of one ``(h, w, 3)`` RGB frame pair."""
        raise NotImplementedError

    def process_video(self, pred: torch.Tensor, gt: torch.Tensor,
                      data_sample: dict) -> dict:
        pred_np = pred.permute(0, 2, 3, 1).cpu().numpy()
        gt_np = gt.permute(0, 2, 3, 1).cpu().numpy()
        values = [self.frame_value(p, g) for p, g in zip(pred_np, gt_np)]
        return dict(sum=float(np.sum(values)), count=len(values))
