"""OpenMMLab-style inference: a compressed video in, the enhanced video out.

.. code-block:: python

    from astf_mm.apis import ASTFInferencer
    inferencer = ASTFInferencer()  # the shipped sample models
    result = inferencer('clip.mkv', out_path='clip_enhanced.mkv')

:class:`ASTFInferencer` follows mmengine's ``BaseInferencer``: inputs are
read (:meth:`preprocess`), enhanced chunk by chunk with temporal context as
``tools/enhance_video.py`` does (:meth:`forward`, through
:func:`~astf_mm.apis.stream_enhance` and ``ASTF.enhance_chunk``), written
safely (:meth:`visualize`) and returned (:meth:`postprocess`).
"""
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.infer import BaseInferencer
from tqdm import tqdm

from astf_mm.io import check_output_path, open_writer, probe_video, read_frames
from astf_mm.models.astf_model import ASTF, ROWS
from astf_mm.utils.shipped_files import (CONFIG_SCOPE, SAMPLE_ASTF_CONFIG,
                                         resolve_config)
from .inference import stream_enhance
from .model_loading import init_astf_model

# The shipped sample models (see astf_mm.utils.shipped_files).
SAMPLE_CONFIG = CONFIG_SCOPE + SAMPLE_ASTF_CONFIG
# Frames per second written when neither the caller nor the input says.
DEFAULT_FPS = 25.
# What ``intermediates=True`` returns besides the enhanced frames.
INTERMEDIATE_KEYS = tuple(r for r in ROWS if r != 'fused_sharp') + ('mask', )

VideoInput = Union[str, os.PathLike, np.ndarray]


class ASTFInferencer(BaseInferencer):
    """Enhance compressed videos with an end-to-end ASTF config.

    Calling it (``inferencer(inputs, **kwargs)``) takes one video or a list
    of videos: a video file (mp4, mkv, a raw .hevc/.h265/.h264 bitstream,
    .yuv with ``size``), a folder of frames, or a ``(t, h, w, 3)`` uint8
    RGB array. The keyword arguments are dispatched as in mmengine:

    - :meth:`preprocess`: ``size``, ``pix_fmt``, ``max_frames``.
    - :meth:`forward`: ``max_seq_len``, ``overlap``, ``intermediates``.
    - :meth:`visualize`: ``out_path``, ``fps``, ``codec``, ``crf``,
      ``overwrite``.

    Every output path is checked before any frame is enhanced (see
    :func:`~astf_mm.io.check_output_path`: an existing output is refused
    unless ``overwrite=True``, an input is never an output) and written
    under a temporary name renamed when complete.

    Args:
        config (str | Config, optional): End-to-end ASTF config: a path,
            or ``astf_mm::PATH`` for a shipped one (relative paths in it
            are looked up as :mod:`astf_mm.utils.shipped_files` says).
            Default: None, the shipped sample models
            (:data:`SAMPLE_CONFIG`), usable from any folder.
        checkpoints (Sequence[str], optional): Checkpoints of stage 1,
            EnhanceNet1 and EnhanceNet2 replacing the config's (as
            ``--checkpoints``). Default: None.
        sha256 (Sequence[str], optional): Pins of the three checkpoints
            (as ``--sha256``). Default: None.
        cfg_options (dict, optional): Config overrides (as
            ``--cfg-options``). Default: None.
        device (str, optional): Where the model runs. Default: None (CUDA
            when available).
        show_progress (bool): A progress bar over the frames.
            Default: True.
    """

    preprocess_kwargs: set = {'size', 'pix_fmt', 'max_frames'}
    forward_kwargs: set = {'max_seq_len', 'overlap', 'intermediates'}
    visualize_kwargs: set = {'out_path', 'fps', 'codec', 'crf', 'overwrite'}
    postprocess_kwargs: set = set()

    def __init__(self,
                 config: Union[str, Config, None] = None,
                 checkpoints: Optional[Sequence[str]] = None,
                 sha256: Optional[Sequence[str]] = None,
                 cfg_options: Optional[dict] = None,
                 device: Optional[str] = None,
                 show_progress: bool = True) -> None:
        if config is None:
            config = SAMPLE_CONFIG
        if not isinstance(config, Config):
            path = resolve_config(os.fspath(config))
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'ASTF config {config} does not exist (give an '
                    f'end-to-end ASTF config, e.g. {SAMPLE_CONFIG}).')
            config = Config.fromfile(path)
        self._model_args = dict(
            checkpoints=checkpoints, sha256=sha256, cfg_options=cfg_options)
        super().__init__(
            model=config,
            weights=None,
            device=device,
            scope='mmagic',
            show_progress=show_progress)

    # -- building ---------------------------------------------------------

    def _init_model(self, cfg: Config, weights: Optional[str],
                    device: str) -> ASTF:
        """The ASTF model of ``cfg`` (``weights`` is unused: each network
        loads its checkpoint through its ``init_cfg``)."""
        self.device = torch.device(device)
        return init_astf_model(cfg, device=device, **self._model_args)

    def _init_pipeline(self, cfg: Config):
        """The reader of one input: path or array -> frames and frame rate."""
        return self._load_video

    def _init_collate(self, cfg: Config):
        """No collation: a video is enhanced on its own, in chunks."""
        return None

    def _init_visualizer(self, cfg: Config) -> None:
        """No image visualizer: :meth:`visualize` writes videos."""
        return None

    # -- the four steps -----------------------------------------------------

    def __call__(self,
                 inputs: Union[VideoInput, Sequence[VideoInput]],
                 return_datasamples: bool = False,
                 batch_size: int = 1,
                 **kwargs) -> dict:
        """Enhance one video or a list of videos.

        Args:
            inputs: A video (file, frame folder or ``(t, h, w, 3)`` uint8
                array) or a list of them.
            return_datasamples (bool): Return :class:`DataSample` objects
                (``pred_img`` and, with ``intermediates``, ``<row>_img``,
                each ``(t, c, h, w)`` on 0-255, as ``ASTF`` stores them)
                instead of dicts of arrays. Default: False.
            batch_size (int): Must be 1: a video is one batch, bounded in
                memory by chunking. Default: 1.
            **kwargs: Dispatched to the four steps (see the class).

        Returns:
            dict: ``predictions``: per input, a dict with ``'enhanced'``
            (``(t, h, w, 3)`` uint8 RGB) and, with ``intermediates=True``,
            ``'lq'``, ``'stage1'`` (when the model has a stage 1),
            ``'enhancenet1'``, ``'enhancenet2'``, ``'fused'`` (same shape)
            and ``'mask'`` (``(t, h, w, 1)``);
            ``visualization``: per input, the written path or None.
        """
        if batch_size != 1:
            raise ValueError(
                f'batch_size={batch_size}: ASTFInferencer enhances one video '
                'at a time (chunks of max_seq_len frames bound memory).')
        pre, fwd, vis, post = self._dispatch_kwargs(**kwargs)
        videos = self._inputs_to_list(inputs)
        # refuse a bad output before any frame is enhanced
        vis['out_path'] = self._check_out_paths(videos, vis)
        preds: List[dict] = []
        for data in self.preprocess(videos, **pre):
            preds.extend(self.forward(data, **fwd))
        written = self.visualize(videos, preds, **vis)
        return self.postprocess(preds, written, return_datasamples, **post)

    def _inputs_to_list(
            self, inputs: Union[VideoInput,
                                Sequence[VideoInput]]) -> List[VideoInput]:
        """One video (a frame folder is one video, not a list of images) or
        a list of videos."""
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def _check_out_paths(self, videos: List[VideoInput],
                         vis: dict) -> List[Optional[str]]:
        out_path = vis.get('out_path')
        if out_path is None:
            return [None] * len(videos)
        paths = ([out_path] if isinstance(out_path, (str, os.PathLike)) else
                 list(out_path))
        if len(paths) != len(videos):
            raise ValueError(
                f'out_path names {len(paths)} output(s) for {len(videos)} '
                'input video(s); give one path per input.')
        sources = [v for v in videos if not isinstance(v, np.ndarray)]
        checked = []
        for path in paths:
            if path is None:  # this input's frames are only returned
                checked.append(None)
                continue
            path = os.fspath(path)
            kind = 'file' if osp.splitext(path)[1] else 'folder'
            check_output_path(
                path,
                sources,
                kind=kind,
                overwrite=vis.get('overwrite', False),
                name='out_path')
            checked.append(path)
        named = [osp.realpath(p) for p in checked if p is not None]
        if len(set(named)) != len(named):
            raise ValueError(f'out_path names one path twice: {checked}.')
        return checked

    def _load_video(self,
                    video: VideoInput,
                    size: Optional[tuple] = None,
                    pix_fmt: str = 'yuv420p',
                    max_frames: Optional[int] = None) -> dict:
        """``source``, ``frames`` (an iterator of HxWx3 uint8 RGB frames),
        ``num_frames`` (None when unknown) and ``fps`` (None when unknown)."""
        if isinstance(video, np.ndarray):
            if video.ndim != 4 or video.shape[-1] != 3 or (video.dtype !=
                                                           np.uint8):
                raise ValueError(
                    'An array input must be (t, h, w, 3) uint8 RGB frames, '
                    f'got {video.dtype} of shape {video.shape}.')
            frames = video[:max_frames] if max_frames else video
            return dict(
                source=None,
                frames=iter(frames),
                num_frames=len(frames),
                fps=None)
        path = os.fspath(video)
        if not osp.exists(path):
            raise FileNotFoundError(f'{path} does not exist.')
        info = probe_video(path, size=size, pix_fmt=pix_fmt)
        total = info.num_frames
        if max_frames:
            total = min(total, max_frames) if total else max_frames
        return dict(
            source=path,
            frames=read_frames(
                path, size=size, pix_fmt=pix_fmt, max_frames=max_frames),
            num_frames=total,
            fps=info.fps)

    def preprocess(self,
                   inputs: List[VideoInput],
                   batch_size: int = 1,
                   **kwargs) -> Iterator[dict]:
        """Open each video lazily: frames are read as they are enhanced.

        Args:
            inputs (list): Videos, as :meth:`__call__` takes them.
            batch_size (int): Unused (one video at a time). Default: 1.
            **kwargs: ``size`` (``(width, height)`` of a raw .yuv),
                ``pix_fmt`` (of a raw .yuv, default ``'yuv420p'``),
                ``max_frames`` (stop after N frames).

        Yields:
            dict: See :meth:`_load_video`.
        """
        for video in inputs:
            yield self.pipeline(video, **kwargs)

    @torch.no_grad()
    def forward(self,
                inputs: dict,
                intermediates: bool = False,
                **chunking) -> List[Dict[str, np.ndarray]]:
        """Enhance one video in chunks with temporal context.

        Args:
            inputs (dict): One item of :meth:`preprocess`.
            intermediates (bool): Also keep the input, every stage and the
                mask (memory: seven streams instead of one).
                Default: False.
            **chunking: ``max_seq_len`` and ``overlap`` of
                :func:`~astf_mm.apis.stream_enhance` (its defaults when not
                given).

        Returns:
            list[dict]: One dict of ``(t, h, w, c)`` uint8 arrays, with
            ``'fps'`` and ``'source'`` of the input.
        """
        wanted = ('fused_sharp', ) + (INTERMEDIATE_KEYS if intermediates
                                      else ())
        frames: Dict[str, list] = {}
        results = stream_enhance(inputs['frames'], self.model.enhance_chunk,
                                 device=self.device, **chunking)
        if self.show_progress:
            results = tqdm(
                results, total=inputs['num_frames'], unit='frame',
                desc='ASTF')
        for result in results:
            # a model without a stage 1 has no 'stage1' row
            for key in wanted:
                if key in result:
                    frames.setdefault(key, []).append(result[key])
        if not frames:
            raise ValueError(f'{inputs["source"] or "the array input"} '
                             'holds no frames.')
        pred = {k: np.stack(v) for k, v in frames.items()}
        pred['enhanced'] = pred.pop('fused_sharp')
        return [dict(pred, fps=inputs['fps'], source=inputs['source'])]

    def visualize(self,
                  inputs: List[VideoInput],
                  preds: List[dict],
                  out_path: Optional[List[Optional[str]]] = None,
                  fps: Optional[float] = None,
                  codec: Optional[str] = None,
                  crf: Optional[int] = None,
                  overwrite: bool = False) -> List[Optional[str]]:
        """Write each enhanced video where ``out_path`` says.

        Args:
            inputs (list): The videos.
            preds (list[dict]): :meth:`forward`'s results.
            out_path (list[str], optional): Per input, a video file
                (``.mkv``: lossless FFV1, ``.mp4``: H.264, lossless unless
                ``crf``) or a folder of PNG frames (no extension), or None.
                Default: None (nothing written).
            fps (float, optional): Frame rate written. Default: the
                input's, else 25.
            codec (str, optional): ``ffv1``, ``libx264``, ``libx265`` or
                ``png``. Default: by suffix.
            crf (int, optional): Lossy quality (libx264/libx265).
                Default: None (lossless).
            overwrite (bool): Replace an existing file, or write into an
                existing frame folder (only the frames written are
                replaced). Default: False.

        Returns:
            list[str | None]: The paths written.
        """
        out_path = out_path or [None] * len(preds)
        for path, pred in zip(out_path, preds):
            if path is None:
                continue
            rate = fps or pred['fps'] or DEFAULT_FPS
            with open_writer(
                    path, fps=rate, codec=codec, crf=crf,
                    overwrite=overwrite) as writer:
                for frame in pred['enhanced']:
                    writer.write(frame)
        return list(out_path)

    def postprocess(self,
                    preds: List[dict],
                    visualization: List[Optional[str]],
                    return_datasample: bool = False) -> dict:
        """Pack the frames (or data samples) and the written paths.

        Args:
            preds (list[dict]): :meth:`forward`'s results.
            visualization (list): :meth:`visualize`'s paths.
            return_datasample (bool): :class:`DataSample` objects instead of
                dicts of arrays. Default: False.

        Returns:
            dict: ``predictions`` and ``visualization``.
        """
        arrays = [{k: v
                   for k, v in pred.items() if isinstance(v, np.ndarray)}
                  for pred in preds]
        if return_datasample:
            arrays = [self._to_datasample(a, p) for a, p in zip(arrays, preds)]
        return dict(predictions=arrays, visualization=visualization)

    @staticmethod
    def _to_datasample(arrays: Dict[str, np.ndarray],
                       pred: dict) -> DataSample:
        """The arrays as ``ASTF`` names them in a test data sample:
        ``pred_img`` (fuse+sharp) and ``<row>_img``, ``(t, c, h, w)`` float
        tensors on 0-255."""
        fields = {('pred' if k == 'enhanced' else k) + '_img':
                  torch.from_numpy(v).permute(0, 3, 1, 2).float()
                  for k, v in arrays.items()}
        return DataSample(
            metainfo=dict(source=pred['source'], fps=pred['fps']), **fields)
