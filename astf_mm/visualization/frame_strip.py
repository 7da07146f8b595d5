"""Image strips of validation and test samples: one frame of every stream
(input, each stage, mask, ground truth) side by side, titled, written to
the visualizer's backends (a PNG per sample with ``LocalVisBackend``).

The panels keep their pixels exactly (the titles sit in a band above them),
so a strip can be read back and compared with the model's outputs.
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmagic.registry import VISUALIZERS
from mmengine.dist import master_only
from mmengine.structures import BaseDataElement
from mmengine.visualization import Visualizer

# Data-sample key -> panel title, in strip order. A stage network's sample
# holds input, pred_img and gt_img; the end-to-end ASTF model's holds every
# stage (its pred_img is the sharpened fusion). Absent keys are skipped.
STRIP_KEYS = {
    'input': 'input',
    'lq_img': 'input',
    'stage1_img': 'stage 1',
    'enhancenet1_img': 'EnhanceNet1',
    'enhancenet2_img': 'EnhanceNet2',
    'fused_img': 'fused',
    'pred_img': 'output',
    'mask_img': 'mask',
    'gt_img': 'GT',
}
# How to get the optional TensorBoard backend (pyproject's extra).
TENSORBOARD_INSTALL = 'pip install "astf_mm[tensorboard]"'
TITLE_HEIGHT = 22  # pixels of the white band above each panel
GAP = 4  # white pixels between panels


def title_band(title: str, width: int) -> np.ndarray:
    """A white ``(TITLE_HEIGHT, width, 3)`` band with ``title`` in black,
    the type scaled down where a narrow panel would cut it."""
    band = np.full((TITLE_HEIGHT, width, 3), 255, np.uint8)
    text_width = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                                 1)[0][0]
    scale = 0.45 * min(1., (width - 8) / max(text_width, 1))
    cv2.putText(band, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (0, 0, 0), 1, cv2.LINE_AA)
    return band


def frame_strip(panels: Sequence[Tuple[str, np.ndarray]]) -> np.ndarray:
    """Titled panels side by side.

    Panel ``i`` (of width ``w_i``) lies at rows ``TITLE_HEIGHT:`` and
    columns from ``sum(w_j + GAP for j < i)``; shorter panels are padded
    with white below.

    Args:
        panels (Sequence[tuple[str, np.ndarray]]): ``(title, image)`` pairs,
            each image ``(h, w, 3)`` uint8 RGB.

    Returns:
        np.ndarray: The ``(TITLE_HEIGHT + max h, sum w + gaps, 3)`` strip.
    """
    height = max(image.shape[0] for _, image in panels)
    columns = []
    for title, image in panels:
        h, w = image.shape[:2]
        pad = np.full((height - h, w, 3), 255, np.uint8)
        columns.append(
            np.concatenate([title_band(title, w), image, pad], axis=0))
        columns.append(np.full((TITLE_HEIGHT + height, GAP, 3), 255,
                               np.uint8))
    return np.concatenate(columns[:-1], axis=1)


def check_backend_dependencies(vis_backends: Optional[List[dict]]) -> None:
    """Refuse, when the visualizer is built, a backend whose package is
    missing (mmengine would fail only at its first write, asking for
    ``pip install future tensorboard``).

    Raises:
        ImportError: Naming the backend and the command that installs it.
    """
    for backend in vis_backends or []:
        kind = backend.get('type', '')
        kind = kind if isinstance(kind, str) else kind.__name__
        if kind.split('.')[-1] != 'TensorboardVisBackend':
            continue
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError as err:
            raise ImportError(
                'TensorboardVisBackend needs the tensorboard package, which '
                f'is not installed ({err}): {TENSORBOARD_INSTALL} (or pip '
                'install tensorboard), or drop the backend from '
                'visualizer.vis_backends.') from err


def _to_frame(value, frame: Optional[int]) -> np.ndarray:
    """A sample's BGR image or clip on 0-255 -> one ``(h, w, 3)`` uint8 RGB
    frame."""
    if isinstance(value, BaseDataElement) or (isinstance(value, dict)
                                              and 'data' in value):
        value = value['data'] if isinstance(value, dict) else value.data
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    if value.ndim == 4:  # (t, c, h, w): one frame of the clip
        t = value.shape[0]
        index = t // 2 if frame is None else frame
        if not -t <= index < t:
            raise IndexError(f'frame {frame} of a {t}-frame clip')
        value = value[index]
    if value.ndim != 3:
        raise ValueError(f'expected (c, h, w) or (t, c, h, w), got shape '
                         f'{value.shape}')
    # mmagic's DataPreprocessor hands images back in BGR order (its
    # ``destruct``), ground truth included: flip them to RGB
    image = value.transpose(1, 2, 0)[..., ::-1]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).round().astype(np.uint8)
    return np.ascontiguousarray(image)


@VISUALIZERS.register_module()
class FrameStripVisualizer(Visualizer):
    """Write one titled strip per data sample: a frame of each stream.

    Streams are the data sample's images and clips on 0-255, in the BGR
    order in which mmagic's ``DataPreprocessor`` returns them (whatever
    order the frames were loaded in), looked up in the sample and in its
    ``output`` (the model's predictions); see :data:`STRIP_KEYS`. The
    image is named after the sample's video (the folder of its frames,
    from ``img_path``) and written to every backend with the step given
    (LocalVisBackend: ``vis_image/<video>_<step>.png``).

    Args:
        name (str): Instance name. Default: 'visualizer'.
        img_keys (dict[str, str], optional): Sample key -> panel title, in
            strip order. Default: :data:`STRIP_KEYS`.
        frame (int, optional): Which frame of a clip; None for the middle
            one. Default: None.
        vis_backends (list[dict], optional): Backends, e.g.
            ``[dict(type='LocalVisBackend')]``;
            ``dict(type='TensorboardVisBackend')`` needs
            :data:`TENSORBOARD_INSTALL`. Default: None.
        save_dir (str, optional): Where backends write (the runner gives
            its log folder). Default: None.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 img_keys: Optional[Dict[str, str]] = None,
                 frame: Optional[int] = None,
                 vis_backends: Optional[List[dict]] = None,
                 save_dir: Optional[str] = None) -> None:
        check_backend_dependencies(vis_backends)
        super().__init__(
            name=name, vis_backends=vis_backends, save_dir=save_dir)
        self.img_keys = dict(STRIP_KEYS if img_keys is None else img_keys)
        self.frame = frame

    def strip_of(self, data_sample: BaseDataElement) -> np.ndarray:
        """The strip of one data sample (see :func:`frame_strip`).

        Raises:
            KeyError: If the sample holds none of ``img_keys``.
        """
        fields = data_sample.to_dict()
        fields.update(fields.pop('output', None) or {})
        panels = [(title, _to_frame(fields[key], self.frame))
                  for key, title in self.img_keys.items() if key in fields]
        if not panels:
            raise KeyError(
                f'The data sample holds none of {list(self.img_keys)} '
                f'(it has {sorted(fields)}); set the visualizer\'s img_keys.')
        return frame_strip(panels)

    @staticmethod
    def image_name(data_sample: BaseDataElement) -> str:
        """The video of a clip sample (its frames' folder), the file stem of
        an image sample, else ``sample<index>``."""
        path = data_sample.get('img_path')
        if isinstance(path, (list, tuple)) and path:
            return osp.basename(osp.dirname(path[0]))
        if isinstance(path, str):
            return osp.splitext(osp.basename(path))[0]
        return f'sample{data_sample.get("sample_idx", 0)}'

    @master_only
    def add_datasample(self, data_sample: BaseDataElement,
                       step: int = 0) -> None:
        """Write the strip of ``data_sample`` to every backend.

        Args:
            data_sample (BaseDataElement): A validation/test sample with
                the model's ``output``.
            step (int): The training iteration. Default: 0.
        """
        strip = self.strip_of(data_sample)
        for backend in self._vis_backends.values():
            backend.add_image(self.image_name(data_sample), strip, step)
