"""A side-by-side HTML viewer for enhanced videos.

:func:`write_viewer` turns a few videos of one clip (the compressed
input, stage 1, the enhanced output, the ASTF mask, the reference, ...)
into one self-contained HTML page that plays them in sync, with a wipe
between any two, frame stepping and per-frame metric curves.

Browsers do not play the lossless FFV1 ``.mkv`` files the tools write, so
every video is re-encoded for the page: H.264 High profile, yuv420p, CRF
:data:`VIEWER_CRF` (near-lossless; what Chromium, Firefox and Safari all
play), into the folder ``<stem>_viewer_files/`` beside ``<stem>.html``.
The page refers to them by relative path: move the page and its folder
together. Nothing is embedded, so the page stays small for long clips.
"""
import contextlib
import html
import json
import math
import os
import os.path as osp
import re
import shutil
import urllib.parse
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from astf_mm.io import (VideoReadError, VideoWriter, atomic_folder,
                        atomic_write, check_output_path, probe_video,
                        read_frames)
from .viewer_page import PAGE

PathLike = Union[str, os.PathLike]
Metrics = Mapping[str, Mapping[str, Sequence[Optional[float]]]]

# x264 constant rate factor of the page's copies: near-lossless (a CRF 18
# copy already loses ~0.3 dB on compressed-video content), still playable.
VIEWER_CRF = 12
FILES_SUFFIX = '_viewer_files'


@dataclass(frozen=True)
class ViewerFiles:
    """What :func:`write_viewer` wrote.

    Attributes:
        html (str): The page.
        files_dir (str): The folder of its browser-playable videos.
        videos (dict[str, str]): Label -> video file in ``files_dir``.
        num_frames (int): Frames per video.
        fps (float): Frame rate of the page's videos.
    """
    html: str
    files_dir: str
    videos: Dict[str, str]
    num_frames: int
    fps: float


def viewer_files_dir(out_html: PathLike) -> str:
    """The folder of the page's videos: ``<stem>_viewer_files`` beside it.

    Args:
        out_html (str | PathLike): The page's path.

    Returns:
        str: The folder's absolute path.
    """
    stem = osp.splitext(osp.abspath(os.fspath(out_html)))[0]
    return stem + FILES_SUFFIX


def _file_name(index: int, label: str) -> str:
    slug = re.sub(r'[^a-z0-9]+', '_', label.lower()).strip('_') or 'video'
    return f'{index:02d}_{slug[:40]}.mp4'


def check_metrics(metrics: Optional[Metrics],
                  num_frames: Optional[int] = None
                  ) -> Optional[Dict[str, Dict[str, List[Optional[float]]]]]:
    """Validate per-frame metrics and make them JSON-ready.

    Args:
        metrics (dict, optional): ``{metric: {series: values}}``, e.g.
            ``{'PSNR': {'input': [28.1, ...], 'enhanced': [...]}}``; one
            value per frame. ``None``, NaN and infinite values (the PSNR of
            identical frames) become gaps in the curve. Default: None.
        num_frames (int, optional): Required length of every series; None
            checks only that the series of all metrics have one length.
            Default: None.

    Returns:
        dict | None: The same structure with plain floats/None, or None.

    Raises:
        ValueError: Naming the metric and series that is malformed or of
            the wrong length.
    """
    if metrics is None:
        return None
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError('metrics must be a non-empty dict {metric: {series:'
                         f' [value per frame]}}, got {type(metrics).__name__}'
                         f' {metrics!r:.80}.')
    out = {}
    lengths = {}
    for metric, series in metrics.items():
        if not isinstance(series, Mapping) or not series:
            raise ValueError(f'metrics[{metric!r}] must be a non-empty dict '
                             '{series: [value per frame]}.')
        out[str(metric)] = {}
        for name, values in series.items():
            where = f'metrics[{metric!r}][{name!r}]'
            if isinstance(values, (str, bytes)) or not isinstance(
                    values, (Sequence, np.ndarray)):
                raise ValueError(f'{where} must be a list of numbers, got '
                                 f'{type(values).__name__}.')
            clean = []
            for k, v in enumerate(values):
                if v is None:
                    clean.append(None)
                    continue
                if isinstance(v, bool) or not isinstance(
                        v, (int, float, np.integer, np.floating)):
                    raise ValueError(f'{where}[{k}] is {v!r}, not a number.')
                v = float(v)
                clean.append(v if math.isfinite(v) else None)
            lengths[where] = len(clean)
            out[str(metric)][str(name)] = clean
    expected = num_frames
    for where, n in lengths.items():
        if expected is None:
            expected = n
        if n != expected:
            what = ('the videos have' if num_frames is not None else
                    'the first series has')
            raise ValueError(f'{where} has {n} values; {what} {expected} '
                             'frames (one value per frame).')
    return out


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad an odd width/height by one edge pixel (yuv420p needs even
    sizes); the page crops the padding away."""
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode='edge')
    return frame


def _encode(sources: List[Tuple[str, str]], names: List[str], folder: str,
            fps: float, crf: int, total: Optional[int],
            progress: bool) -> int:
    """Decode all sources in lockstep and write one H.264 copy of each
    into ``folder``; return the number of frames."""
    size = None
    count = 0
    with contextlib.ExitStack() as stack:
        readers = []
        for _, path in sources:
            frames = read_frames(path)
            stack.callback(getattr(frames, 'close', lambda: None))
            readers.append(iter(frames))
        writers = [
            stack.enter_context(
                VideoWriter(osp.join(folder, name), fps=fps,
                            codec='libx264', crf=crf, pix_fmt='yuv420p',
                            overwrite=False)) for name in names
        ]
        bar = stack.enter_context(
            tqdm(total=total, desc='viewer videos', unit='frame',
                 disable=not progress))
        while True:
            frames = [next(r, None) for r in readers]
            ended = [f is None for f in frames]
            if all(ended):
                break
            if any(ended):
                short = [p for (_, p), e in zip(sources, ended) if e]
                longer = [p for (_, p), e in zip(sources, ended) if not e]
                raise VideoReadError(
                    f'{short[0]}: has {count} frames, but {longer[0]} has '
                    'more; the viewer needs videos of one clip (equal frame '
                    'counts).')
            for (label, path), frame, writer in zip(sources, frames,
                                                    writers):
                if size is None:
                    size = frame.shape
                elif frame.shape != size:
                    raise VideoReadError(
                        f'{path}: frame {count} is {frame.shape[1]}x'
                        f'{frame.shape[0]}, but {sources[0][1]} is '
                        f'{size[1]}x{size[0]}; the viewer needs videos of '
                        'one size.')
                writer.write(_even(frame))
            count += 1
            bar.update(1)
    return count


def _commit_page(text: str, path: str, overwrite: bool) -> None:
    """Write ``text`` to ``path`` atomically (:func:`astf_mm.io.atomic_write`);
    an existing file is replaced only with ``overwrite``."""

    def write(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)

    atomic_write(path, write, overwrite=overwrite)


def render_page(title: str, streams: List[Dict[str, object]],
                num_frames: int, fps: float, size: Tuple[int, int],
                wipe: Tuple[str, str],
                metrics: Optional[Dict[str, Dict[str, list]]]) -> str:
    """Fill the page template.

    Args:
        title (str): Page title (escaped here).
        streams (list[dict]): ``{label, src, width, height}`` per video,
            ``src`` relative to the page.
        num_frames (int): Frames per video.
        fps (float): Frame rate.
        size (tuple[int, int]): ``(width, height)`` shown.
        wipe (tuple[str, str]): Labels left/right of the wipe at load.
        metrics (dict, optional): Output of :func:`check_metrics`.

    Returns:
        str: The HTML page.
    """
    data = dict(title=title,
                fps=fps,
                frames=num_frames,
                width=size[0],
                height=size[1],
                streams=streams,
                wipe=list(wipe),
                metrics=metrics)
    blob = json.dumps(data, ensure_ascii=True, allow_nan=False)
    # inside <script>: '</script>' or '<!--' in a label must not end it
    blob = (blob.replace('<', '\\u003c').replace('>', '\\u003e').replace(
        '&', '\\u0026'))
    return PAGE.replace('__TITLE__', html.escape(title)).replace(
        '__DATA__', blob)


def write_viewer(out_html: PathLike,
                 videos: Mapping[str, PathLike],
                 metrics: Optional[Metrics] = None,
                 title: str = 'astf_mm viewer',
                 fps: Optional[float] = None,
                 wipe: Optional[Tuple[str, str]] = None,
                 crf: int = VIEWER_CRF,
                 overwrite: bool = False,
                 progress: bool = True) -> ViewerFiles:
    """Write a side-by-side viewer page for videos of one clip.

    Every video is decoded (any input of :func:`astf_mm.io.read_frames`:
    mp4, FFV1 mkv, raw bitstreams, frame folders) and re-encoded as H.264
    yuv420p at ``crf`` into ``<stem>_viewer_files/`` beside the page (odd
    sizes padded by one edge pixel, which the page hides); then the page
    is written. Both are written under temporary names and renamed when
    complete: the folder first, so the page never points at missing
    videos. The videos must have equal frame counts and sizes.

    Args:
        out_html (str | PathLike): The page (``.html``).
        videos (dict[str, str | PathLike]): Label -> video, in display
            order, e.g. ``{'input': ..., 'stage 1': ..., 'enhanced': ...,
            'mask': ..., 'reference': ...}``.
        metrics (dict, optional): Per-frame curves, ``{metric: {series:
            [value per frame]}}`` (see :func:`check_metrics`); a series
            named like a video is drawn in its colour. Default: None.
        title (str): Page title. Default: 'astf_mm viewer'.
        fps (float, optional): Frame rate of the page's videos; None takes
            the first input's. Default: None.
        wipe (tuple[str, str], optional): Labels shown left/right of the
            wipe at load; None shows the first video against ``'enhanced'``
            (or the second video when no label is ``'enhanced'``).
            Default: None.
        crf (int): x264 CRF of the copies (0-51, lower is better).
            Default: :data:`VIEWER_CRF`.
        overwrite (bool): Replace an existing page, and write into an
            existing ``<stem>_viewer_files/`` (replacing only the files
            written). Default: False.
        progress (bool): Show a progress bar. Default: True.

    Returns:
        ViewerFiles: The page, its folder, the copies.

    Raises:
        OutputPathError: If the page or its folder exists (without
            ``overwrite``) or is, holds or lies inside an input.
        FileNotFoundError: If a video is missing.
        VideoReadError: If a video is unreadable, or their frame counts or
            sizes differ (naming the file).
        ValueError: For bad labels, ``wipe``, ``fps``, ``crf`` or metrics.
    """
    page = os.fspath(out_html)
    if not page.lower().endswith(('.html', '.htm')):
        raise ValueError(f'{page}: the viewer page must end in .html.')
    if not isinstance(videos, Mapping) or not videos:
        raise ValueError('videos must be a non-empty dict {label: path}.')
    sources = []
    for label, path in videos.items():
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f'video label {label!r} must be a non-empty '
                             'string.')
        sources.append((label, os.fspath(path)))
    labels = [label for label, _ in sources]
    if wipe is None:
        other = 'enhanced' if 'enhanced' in labels[1:] else labels[
            min(1, len(labels) - 1)]
        wipe = (labels[0], other)
    if len(wipe) != 2 or any(w not in labels for w in wipe):
        raise ValueError(f'wipe {tuple(wipe)!r} must name two of the videos '
                         f'{labels}.')
    if not (isinstance(crf, int) and 0 <= crf <= 51):
        raise ValueError(f'crf must be an integer in 0..51, got {crf!r}.')
    clean_metrics = check_metrics(metrics)
    inputs = [path for _, path in sources]
    page = check_output_path(page, inputs, 'file', overwrite, name='viewer')
    files_dir = viewer_files_dir(page)
    check_output_path(files_dir, inputs, 'folder', overwrite,
                      name='viewer folder')

    infos = [probe_video(path) for path in inputs]
    if fps is None:
        fps = infos[0].fps
        if fps is None:
            raise ValueError(f'{inputs[0]}: has no frame rate (a frame '
                             'folder or raw stream); pass fps.')
    if not (isinstance(fps, (int, float)) and math.isfinite(fps)
            and fps > 0):
        raise ValueError(f'fps must be a positive number, got {fps!r}.')
    fps = float(fps)
    for info in infos[1:]:
        if (info.width, info.height) != (infos[0].width, infos[0].height):
            raise VideoReadError(
                f'{info.path}: is {info.width}x{info.height}, but '
                f'{infos[0].path} is {infos[0].width}x{infos[0].height}; '
                'the viewer needs videos of one size.')
    total = infos[0].num_frames
    if total is None:
        total = probe_video(inputs[0], count_frames=True).num_frames
    if clean_metrics is not None:  # fail before the encoding
        check_metrics(clean_metrics, total)

    names = [_file_name(i, label) for i, label in enumerate(labels)]
    created = not osp.exists(files_dir)
    with atomic_folder(files_dir, overwrite=overwrite) as tmp:
        num_frames = _encode(sources, names, tmp, fps, crf, total, progress)
        if clean_metrics is not None:
            check_metrics(clean_metrics, num_frames)
    width, height = infos[0].width, infos[0].height
    folder_url = urllib.parse.quote(osp.basename(files_dir))
    streams = [
        dict(label=label,
             src=f'{folder_url}/{name}',
             width=width + width % 2,
             height=height + height % 2)
        for label, name in zip(labels, names)
    ]
    text = render_page(title, streams, num_frames, fps, (width, height),
                       tuple(wipe), clean_metrics)
    try:
        _commit_page(text, page, overwrite)
    except BaseException:
        if created:  # the folder is this call's own: do not leave it
            shutil.rmtree(files_dir, ignore_errors=True)
        raise
    return ViewerFiles(html=page,
                       files_dir=files_dir,
                       videos={
                           label: osp.join(files_dir, name)
                           for label, name in zip(labels, names)
                       },
                       num_frames=num_frames,
                       fps=fps)
