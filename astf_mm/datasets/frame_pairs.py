"""Build paired (compressed / clean) frame datasets from videos.

The library behind ``tools/data/compress_videos.py``,
``tools/data/make_sample_data.py`` and ``tools/data/build_corpus.py``. For
each :class:`VideoJob`: cut, resize, keep the lossless ``yuv420p`` "raw"
source, encode it with x265 at a fixed QP
(:func:`astf_mm.datasets.encoding.encode_hevc_qp`), decode, and write::

    OUT_ROOT/gt/<video>/00000000.png ...   raw source frames (RGB)
    OUT_ROOT/lq/<video>/00000000.png ...   decoded HEVC frames (RGB)
    OUT_ROOT/bitstreams/<video>.mkv        the HEVC bitstream
    OUT_ROOT/meta_info_train.txt           "<video> <num_frames>" per line
    OUT_ROOT/meta_info_val.txt             (mmagic BasicFramesDataset, case 1)
    OUT_ROOT/manifest.json                 settings, versions, sha256, PSNR

GT and LQ frames both come from ``yuv420p`` through the same YUV->RGB
conversion, so the LQ/GT difference is the compression alone. Each video is
written atomically and recorded in the manifest; a second run skips videos
already complete with the same settings (resumable).
"""
import dataclasses
import hashlib
import json
import math
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from astf_mm.datasets.encoding import encode_hevc_qp, transcode_lossless
from astf_mm.evaluation.psnr import frame_psnr
from astf_mm.io import (OutputPathError, VideoWriter, atomic_write,
                        commit_temp_dir, iter_pairs, list_frame_files,
                        make_temp_dir, probe_video, read_frames,
                        save_frame_png)
from .manifest import (SPLITS, _json_float, load_manifest, save_manifest,
                       sha256_path, write_ann_files)

FILENAME_TMPL = '{:08d}.png'


@dataclasses.dataclass
class VideoJob:
    """One source video to turn into a GT/LQ pair.

    Attributes:
        name (str): Output folder name (``gt/<name>``, ``lq/<name>``).
        source (str): Source video, raw ``.yuv`` file, frame folder, or (with
            ``frames``) the file the frames are made from (hashed).
        split (str): ``'train'`` or ``'val'``.
        start (int): First source frame. Default: 0.
        max_frames (int, optional): At most this many frames.
        resize (tuple[int, int], optional): Output ``(width, height)``.
        raw_size (tuple[int, int], optional): Size of a raw ``.yuv`` source.
        raw_pix_fmt (str): Pixel format of a raw ``.yuv`` source.
        fps (float): Frame rate for sources without one. Default: 25.
        frames (Callable[[], Iterable[np.ndarray]], optional): Makes the
            source frames (RGB uint8) instead of reading ``source``; used
            for synthetic clips.
        description (str): How ``frames`` makes the clip (recorded in the
            manifest and compared on resume). Default: ''.
    """
    name: str
    source: str
    split: str = 'train'
    start: int = 0
    max_frames: Optional[int] = None
    resize: Optional[Tuple[int, int]] = None
    raw_size: Optional[Tuple[int, int]] = None
    raw_pix_fmt: str = 'yuv420p'
    fps: float = 25
    frames: Optional[Callable[[], Iterable[np.ndarray]]] = None
    description: str = ''


# ---------------------------------------------------------------------------
# one video


def mean_psnr(psnrs: List[float]) -> Optional[float]:
    """Mean of per-frame PSNRs for a manifest (None if every frame is
    identical, i.e. infinite PSNR).

    Args:
        psnrs (list[float]): Per-frame PSNR in dB.

    Returns:
        float | None: The mean of the finite values, rounded.
    """
    finite = [p for p in psnrs if not math.isinf(p)]
    return _json_float(float(np.mean(finite))) if finite else None


def folder_fingerprint(folder: str) -> str:
    """A cheap fingerprint of a folder: names, kinds and sizes of its
    entries (hidden ones too), hashed.

    Recorded in the manifest when a frame folder is built, it proves on a
    later run that the folder is still the one this dataset wrote (a
    folder put there by someone else, or one whose files changed, gives a
    different value). Only ``stat`` is read, not the frames.

    Args:
        folder (str): The folder.

    Returns:
        str: Hex digest.
    """
    digest = hashlib.sha256()
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            st = entry.stat(follow_symlinks=False)
            kind = 'd' if entry.is_dir(follow_symlinks=False) else 'f'
            digest.update(f'{entry.name}\0{kind}\0{st.st_size}\n'.encode())
    return digest.hexdigest()


def pair_fingerprints(out_root: str, name: str) -> Dict[str, str]:
    """:func:`folder_fingerprint` of ``gt/<name>`` and ``lq/<name>``, for
    the manifest entry (its ``'folders'``).

    Args:
        out_root (str): Dataset root.
        name (str): Video name.

    Returns:
        dict[str, str]: ``{'gt': ..., 'lq': ...}``.
    """
    return {
        sub: folder_fingerprint(osp.join(out_root, sub, name))
        for sub in ('gt', 'lq')
    }


def _legacy_frames(folder: str, num_frames: Optional[int],
                   filename_tmpl: str) -> bool:
    """Whether ``folder`` holds exactly the frames an entry without
    ``'folders'`` (written before fingerprints were recorded) describes."""
    if not isinstance(num_frames, int) or num_frames <= 0:
        return False
    expected = {filename_tmpl.format(i) for i in range(num_frames)}
    with os.scandir(folder) as entries:
        return {
            e.name
            for e in entries if e.is_file(follow_symlinks=False)
        } == expected and len(os.listdir(folder)) == num_frames


def check_replaceable(folder: str,
                      previous: Optional[dict],
                      sub: str,
                      filename_tmpl: str = FILENAME_TMPL) -> bool:
    """Whether an existing frame folder is this dataset's own, so that a
    rebuild may replace it; raise if it is not.

    A folder is this dataset's own when the manifest entry of its video
    (``previous``) recorded its :func:`folder_fingerprint` and the folder
    still has it. An entry written before fingerprints were recorded
    proves it when the folder holds exactly its ``num_frames`` frames
    named by ``filename_tmpl`` and nothing else.

    Args:
        folder (str): ``OUT_ROOT/gt/<name>`` or ``OUT_ROOT/lq/<name>``.
        previous (dict, optional): The video's manifest entry, if any.
        sub (str): ``'gt'`` or ``'lq'``.
        filename_tmpl (str): Frame file names. Default: '{:08d}.png'.

    Returns:
        bool: False when ``folder`` does not exist, True when it is this
        dataset's own.

    Raises:
        OutputPathError: The folder exists and nothing proves that this
            dataset built it; it is left as it is.
    """
    if not osp.lexists(folder):
        return False
    if osp.isdir(folder) and not osp.islink(folder) and previous:
        recorded = (previous.get('folders') or {}).get(sub)
        if recorded is not None:
            if folder_fingerprint(folder) == recorded:
                return True
        elif 'folders' not in previous and _legacy_frames(
                folder, previous.get('num_frames'), filename_tmpl):
            return True
    why = ('its manifest entry records different files (it was changed '
           'since it was built)' if previous else
           'the manifest does not record it')
    raise OutputPathError(
        f'{folder}: exists and this dataset cannot show that it built it '
        f'({why}); refusing to replace it. Move or delete it yourself, or '
        'write the dataset to another root.')


def write_pair_folders(gt_frames: Iterable[np.ndarray],
                       lq_frames: Iterable[np.ndarray],
                       out_root: str,
                       name: str,
                       total: Optional[int] = None,
                       sources: Tuple[str, str] = ('GT', 'LQ'),
                       filename_tmpl: str = FILENAME_TMPL,
                       previous: Optional[dict] = None) -> List[float]:
    """Write ``gt/<name>`` and ``lq/<name>`` frame folders in one pass.

    Frames go to marked temporary folders beside the final ones
    (:func:`astf_mm.io.make_temp_dir`, removed by a later run if this one
    is killed) and are renamed into place only when both streams ended
    with the same number of frames. An existing ``gt/<name>`` or
    ``lq/<name>`` is replaced only when it is this dataset's own
    (:func:`check_replaceable`: checked before writing and again before
    replacing); any other folder is left untouched and refused. Record
    :func:`pair_fingerprints` in the manifest entry afterwards. Memory
    stays bounded: one frame of each at a time.

    Args:
        gt_frames (Iterable[np.ndarray]): GT RGB frames.
        lq_frames (Iterable[np.ndarray]): LQ RGB frames.
        out_root (str): Dataset root.
        name (str): Video name.
        total (int, optional): Expected count, for the progress bar.
        sources (tuple[str, str]): Names of the two streams for errors.
            Default: ('GT', 'LQ').
        filename_tmpl (str): Frame file names. Default: '{:08d}.png'.
        previous (dict, optional): The video's manifest entry from an
            earlier build, the proof that its folders may be replaced.
            Default: None.

    Returns:
        list[float]: PSNR (dB) of each LQ frame against its GT frame.

    Raises:
        OutputPathError: ``gt/<name>`` or ``lq/<name>`` exists and is not
            this dataset's own.
    """
    finals = {sub: osp.join(out_root, sub, name) for sub in ('gt', 'lq')}
    for sub, final in finals.items():
        check_replaceable(final, previous, sub, filename_tmpl)
    temps: Dict[str, str] = {}
    try:
        for sub, final in finals.items():
            temps[sub] = make_temp_dir(final)
        psnrs: List[float] = []
        pairs = iter_pairs(gt_frames, lq_frames, names=sources)
        for i, (gt, lq) in enumerate(
                tqdm(pairs, total=total, desc=name, unit='frame',
                     leave=False)):
            if gt.shape != lq.shape:
                raise ValueError(f'Frame {i}: {sources[0]} is '
                                 f'{gt.shape[1]}x{gt.shape[0]}, {sources[1]}'
                                 f' is {lq.shape[1]}x{lq.shape[0]}.')
            file = filename_tmpl.format(i)
            save_frame_png(osp.join(temps['gt'], file), gt)
            save_frame_png(osp.join(temps['lq'], file), lq)
            psnrs.append(frame_psnr(gt, lq))
        if not psnrs:
            raise ValueError(f'{sources[0]}: no frames.')
        if total is not None and len(psnrs) != total:
            raise RuntimeError(f'{name}: decoded {len(psnrs)} frames, '
                               f'expected {total} ({sources[0]}).')
        for sub, final in finals.items():
            # checked again: the folder may have appeared or changed
            if check_replaceable(final, previous, sub, filename_tmpl):
                shutil.rmtree(final)
            commit_temp_dir(temps.pop(sub), final)
    finally:
        for tmp in temps.values():
            shutil.rmtree(tmp, ignore_errors=True)
    return psnrs


def job_settings(job: VideoJob, qp: int, preset: str,
                 source_sha256: str) -> dict:
    """What must match for a finished video to be reused on resume.

    Args:
        job (VideoJob): The video.
        qp (int): Quantisation parameter.
        preset (str): x265 preset.
        source_sha256 (str): Hash of the source.

    Returns:
        dict: JSON-serialisable settings.
    """
    return dict(
        source_sha256=source_sha256,
        start=job.start,
        max_frames=job.max_frames,
        resize=list(job.resize) if job.resize else None,
        qp=qp,
        preset=preset,
        description=job.description)


def is_complete(out_root: str, entry: Optional[dict],
                settings: dict) -> bool:
    """Whether a manifest entry is a finished video with these settings.

    Args:
        out_root (str): Dataset root.
        entry (dict, optional): The video's manifest entry.
        settings (dict): From :func:`job_settings`.

    Returns:
        bool: True if its folders hold the recorded number of frames.
    """
    if not entry or entry.get('settings') != settings:
        return False
    for sub in ('gt', 'lq'):
        folder = osp.join(out_root, sub, entry['name'])
        if (not osp.isdir(folder)
                or len(list_frame_files(folder)) != entry['num_frames']):
            return False
    return osp.isfile(osp.join(out_root, entry['bitstream']))


def _make_raw(job: VideoJob, raw_path: str) -> None:
    """Write the lossless yuv420p "raw" source of a job."""
    if job.frames is None:
        transcode_lossless(
            job.source,
            raw_path,
            size=job.raw_size,
            pix_fmt=job.raw_pix_fmt,
            start=job.start,
            max_frames=job.max_frames,
            resize=job.resize,
            fps=job.fps)
        return
    if job.resize is not None:
        raise ValueError(f'{job.name}: resize is not applied to generated '
                         'frames; make them at the wanted size.')
    with VideoWriter(raw_path, fps=job.fps, codec='ffv1',
                     pix_fmt='yuv420p') as writer:
        frames = job.frames()
        stop = None if job.max_frames is None else job.start + job.max_frames
        for i, frame in enumerate(frames):
            if i < job.start:
                continue
            if stop is not None and i >= stop:
                break
            if frame.shape[0] % 2 or frame.shape[1] % 2:
                raise ValueError(f'{job.name}: generated frames must have '
                                 f'even size, got {frame.shape[:2]}.')
            writer.write(frame)


def process_video(job: VideoJob,
                  out_root: str,
                  qp: int = 37,
                  preset: str = 'medium',
                  source_sha256: Optional[str] = None,
                  previous: Optional[dict] = None) -> dict:
    """Encode, decode and write one video's GT/LQ frames atomically.

    Existing outputs of the video (``bitstreams/<name>.mkv``, ``gt/<name>``,
    ``lq/<name>``) are replaced only when ``previous`` proves that this
    dataset built them (the bitstream's recorded sha256, the folders'
    :func:`check_replaceable`); anything else is refused before any work.

    Args:
        job (VideoJob): The video.
        out_root (str): Dataset root.
        qp (int): Quantisation parameter. Default: 37.
        preset (str): x265 preset. Default: 'medium'.
        source_sha256 (str, optional): Hash of the source, computed if None.
        previous (dict, optional): The video's manifest entry from an
            earlier build. Default: None.

    Returns:
        dict: The manifest entry of the video.

    Raises:
        OutputPathError: An output of the video exists and is not this
            dataset's own.
    """
    if source_sha256 is None:
        source_sha256 = sha256_path(job.source)
    bitstream = osp.join('bitstreams', f'{job.name}.mkv')
    bitstream_path = osp.join(out_root, bitstream)
    if osp.lexists(bitstream_path) and not (
            previous and osp.isfile(bitstream_path)
            and previous.get('bitstream') == bitstream
            and sha256_path(bitstream_path) == previous.get(
                'bitstream_sha256')):
        raise OutputPathError(
            f'{bitstream_path}: exists and this dataset cannot show that it '
            'built it (its manifest does not record this file and content); '
            'refusing to replace it. Move or delete it yourself, or write '
            'the dataset to another root.')
    for sub in ('gt', 'lq'):
        check_replaceable(osp.join(out_root, sub, job.name), previous, sub)
    for sub in ('gt', 'lq', 'bitstreams'):
        os.makedirs(osp.join(out_root, sub), exist_ok=True)
    work = tempfile.mkdtemp(prefix=f'.work-{job.name}-', dir=out_root)
    try:
        raw_path = osp.join(work, 'raw.mkv')
        _make_raw(job, raw_path)
        raw = probe_video(raw_path, count_frames=True)
        if not raw.num_frames:
            raise ValueError(f'{job.source}: no frames selected (start='
                             f'{job.start}, max_frames={job.max_frames}).')
        # the bitstream is encoded beside the raw source and moved into
        # place last, so that a run stopped while the frames are written
        # leaves the recorded bitstream as it was
        encoded = osp.join(work, 'bitstream.mkv')
        encoder = encode_hevc_qp(raw_path, encoded, qp=qp, preset=preset)
        bitstream_sha256 = sha256_path(encoded)
        psnrs = write_pair_folders(
            read_frames(raw_path),
            read_frames(encoded),
            out_root,
            job.name,
            total=raw.num_frames,
            sources=(raw_path, bitstream_path),
            previous=previous)
        atomic_write(bitstream_path,
                     lambda tmp: shutil.copyfile(encoded, tmp))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dict(
        name=job.name,
        split=job.split,
        source=osp.basename(osp.normpath(job.source)),
        settings=job_settings(job, qp, preset, source_sha256),
        num_frames=raw.num_frames,
        width=raw.width,
        height=raw.height,
        fps=job.fps if raw.fps is None else raw.fps,
        bitstream=bitstream,
        bitstream_sha256=bitstream_sha256,
        folders=pair_fingerprints(out_root, job.name),
        encoder=encoder,
        psnr_lq_rgb=mean_psnr(psnrs),
        psnr_lq_rgb_per_frame=[_json_float(p) for p in psnrs])


def build_dataset(jobs: List[VideoJob],
                  out_root: str,
                  qp: int = 37,
                  preset: str = 'medium',
                  ann_prefix: str = 'meta_info') -> dict:
    """Process every job (skipping finished ones) and write the ann files.

    Args:
        jobs (list[VideoJob]): Videos, unique names.
        out_root (str): Dataset root (created).
        qp (int): Quantisation parameter. Default: 37.
        preset (str): x265 preset. Default: 'medium'.
        ann_prefix (str): Prefix of the annotation files.
            Default: 'meta_info'.

    Returns:
        dict: The manifest; each entry also gets ``'skipped'`` in the
        returned copy (True if reused).
    """
    names = [job.name for job in jobs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f'Duplicate video names {dupes}: rename the inputs '
                         '(names are file names without extension).')
    for job in jobs:
        if job.split not in SPLITS:
            raise ValueError(f'{job.name}: split must be one of {SPLITS}.')
        if job.frames is None and not osp.exists(job.source):
            raise FileNotFoundError(f'Input not found: {job.source}')
    os.makedirs(out_root, exist_ok=True)
    manifest = load_manifest(out_root)
    skipped = {}
    for job in tqdm(jobs, desc='videos', unit='video'):
        source_sha256 = sha256_path(job.source)
        settings = job_settings(job, qp, preset, source_sha256)
        entry = manifest['videos'].get(job.name)
        if is_complete(out_root, entry, settings):
            if entry['split'] != job.split:
                entry['split'] = job.split
                save_manifest(out_root, manifest)
            skipped[job.name] = True
            continue
        manifest['videos'][job.name] = process_video(
            job, out_root, qp, preset, source_sha256, previous=entry)
        save_manifest(out_root, manifest)
        skipped[job.name] = False
    write_ann_files(out_root, manifest, ann_prefix)
    result = json.loads(json.dumps(manifest))
    for name, value in skipped.items():
        result['videos'][name]['skipped'] = value
    return result


def summary_table(manifest: dict, names: Optional[List[str]] = None) -> str:
    """Format a manifest as a table (video, split, frames, size, LQ PSNR).

    Args:
        manifest (dict): The manifest (from :func:`build_dataset`).
        names (list[str], optional): Videos to show, in order; all by
            default.

    Returns:
        str: The table.
    """
    videos = manifest['videos']
    names = sorted(videos) if names is None else names
    rows = [('video', 'split', 'frames', 'size', 'LQ PSNR (dB)', 'status')]
    for name in names:
        e = videos[name]
        psnr = e['psnr_lq_rgb']
        rows.append((name, e['split'], str(e['num_frames']),
                     f'{e["width"]}x{e["height"]}',
                     'inf' if psnr is None else f'{psnr:.2f}',
                     'reused' if e.get('skipped') else 'built'))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)
