"""Temporal-consistency metrics (tOF, tLP, warping error) of output videos.

Example::

    python tools/eval_temporal.py --gt data/val/gt \\
        --pred results/stage1 results/fuse_sharp --names stage1 fuse+sharp \\
        --lq data/val/lq --metrics tof tlp warp --out temporal.json

``--gt``, ``--pred`` and ``--lq`` each name one video (a folder of image
frames, read in file-name order, or a video file) or a folder of videos
(sub-folders of frames and/or video files, matched across arguments by
name). Several ``--pred`` give several table rows; the ground-truth flows
and LPIPS distances are computed once per video and shared by the rows.
Definitions and conventions: :mod:`astf_mm.evaluation.temporal_base`.

A table of the means over videos is printed; ``--out`` also keeps the
per-video values and the settings (written atomically).
"""
import argparse
import inspect
import json
import os
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from astf_mm.evaluation import tlp, tof, warping_error
from astf_mm.evaluation.base import DEFAULT_CACHE
from astf_mm.evaluation.flow import FARNEBACK_PARAMS
from astf_mm.evaluation.tlp import LPIPS_NET, default_lpips
from astf_mm.io import (VIDEO_EXTENSIONS, atomic_write_text, list_frame_files,
                        read_frames)
from astf_mm.io.ffmpeg import RAW_EXTENSIONS

METRICS = ('tof', 'tlp', 'warp')
# flag -> result name, as the registered metrics name their results
NAMES = {'tof': 'tOF', 'tlp': 'tLP', 'warp': 'WarpingError'}
# A raw .yuv needs a size, which this tool does not take: left out.
NON_RAW_EXTENSIONS = tuple(e for e in VIDEO_EXTENSIONS
                           if e not in RAW_EXTENSIONS)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='tOF / tLP / warping error of output videos')
    parser.add_argument(
        '--pred',
        nargs='+',
        required=True,
        help='output video(s): frame folder, video file, or folder of '
        'videos; one table row each')
    parser.add_argument(
        '--gt', required=True, help='ground truth, same layout as --pred')
    parser.add_argument(
        '--lq', help='compressed input, same layout (for --flow-source lq)')
    parser.add_argument(
        '--names', nargs='+', help='row names (default: --pred base names)')
    parser.add_argument(
        '--metrics',
        nargs='+',
        choices=METRICS,
        default=list(METRICS),
        help='metrics to compute (default: all)')
    parser.add_argument(
        '--flow-source',
        choices=('gt', 'lq'),
        default='gt',
        help='video the warping-error flow is estimated on (default: gt)')
    parser.add_argument(
        '--skip-frames',
        type=int,
        default=0,
        help='frames dropped at each end of every video (TecoGAN used 2)')
    parser.add_argument(
        '--no-crop',
        action='store_true',
        help='no TecoGAN crop_8x8 for tOF/tLP (whole frames)')
    parser.add_argument(
        '--lpips-backbone',
        help='local AlexNet backbone weights for LPIPS (default: '
        'astf_mm.models.perceptual_nets resolution)')
    parser.add_argument(
        '--device', default='cpu', help='device for LPIPS (default: cpu)')
    parser.add_argument('--out', help='JSON file for all results')
    args = parser.parse_args(argv)
    if args.names is not None and len(args.names) != len(args.pred):
        parser.error(f'--names has {len(args.names)} names for '
                     f'{len(args.pred)} --pred paths.')
    if 'warp' in args.metrics and args.flow_source == 'lq' and not args.lq:
        parser.error('--flow-source lq needs --lq.')
    if args.skip_frames < 0:
        parser.error('--skip-frames must be >= 0.')
    return args


def _is_video_file(path: str) -> bool:
    return osp.isfile(path) and osp.splitext(path)[1].lower() in \
        NON_RAW_EXTENSIONS


def is_single_video(path: str) -> bool:
    """Whether ``path`` is one video (a file or a folder of frames).

    Args:
        path (str): A ``--gt``/``--pred``/``--lq`` path.

    Returns:
        bool: True for a file or a folder with image frames.
    """
    return osp.isfile(path) or bool(list_frame_files(path))


def collect_videos(path: str) -> Dict[str, str]:
    """Map video names to sources for a ``--gt``/``--pred``/``--lq`` path.

    Args:
        path (str): A frame folder or video file (one video, named after
            it), or a folder whose sub-folders of frames and video files
            are the videos (named by folder name / file stem).

    Returns:
        dict[str, str]: Video name -> frame folder or video file.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'{path}: no such file or folder.')
    if osp.isfile(path):
        return {osp.splitext(osp.basename(path))[0]: path}
    if is_single_video(path):
        return {osp.basename(osp.normpath(path)): path}
    videos = {}
    for name in sorted(os.listdir(path)):
        full = osp.join(path, name)
        if osp.isdir(full) and list_frame_files(full):
            videos[name] = full
        elif _is_video_file(full):
            videos[osp.splitext(name)[0]] = full
    if not videos:
        raise ValueError(f'{path}: found no image frames, frame folders or '
                         f'video files ({", ".join(NON_RAW_EXTENSIONS)}).')
    return videos


def read_video(path: str) -> np.ndarray:
    """Read every frame of a frame folder or video file.

    Args:
        path (str): Frame folder or video file.

    Returns:
        np.ndarray: ``(t, h, w, 3)`` uint8 RGB frames.
    """
    return np.stack(list(read_frames(path)))


def _match(gt_path: str, gt: Dict[str, str], flag: str,
           path: str) -> Dict[str, str]:
    other = collect_videos(path)
    if is_single_video(gt_path) and is_single_video(path):
        # one video each: paired whatever their names
        return {next(iter(gt)): path}
    missing = sorted(set(gt) - set(other))
    if missing:
        raise ValueError(f'{flag} {path} lacks the ground truth\'s videos '
                         f'{missing} (has {sorted(other)}).')
    return {name: other[name] for name in gt}


def _check_pair(video: np.ndarray, gt: np.ndarray, src: str,
                gt_src: str) -> None:
    if video.shape != gt.shape:
        raise ValueError(
            f'{src}: {video.shape[0]} frames of {video.shape[2]}x'
            f'{video.shape[1]}, but the ground truth {gt_src} has '
            f'{gt.shape[0]} frames of {gt.shape[2]}x{gt.shape[1]}; the '
            'metrics compare frame by frame.')


def _default(fn: Callable, name: str):
    return inspect.signature(fn).parameters[name].default


def _mean(values: List[float]) -> Optional[float]:
    # a video without a valid pair (None) is already left out; JSON has no
    # NaN, so an empty mean is None too
    return float(np.mean(values)) if values else None


def _metric_fns(args: argparse.Namespace) -> Dict[str, Callable]:
    crop = not args.no_crop
    skip = args.skip_frames
    fns = {
        'tof':
        lambda out, gt, lq: tof(out, gt, crop=crop, skip_frames=skip),
        'warp':
        lambda out, gt, lq: warping_error(
            out, lq if args.flow_source == 'lq' else gt, skip_frames=skip),
    }
    if 'tlp' in args.metrics:
        net = default_lpips(args.lpips_backbone, args.device)
        fns['tlp'] = lambda out, gt, lq: tlp(
            out, gt, net, crop=crop, skip_frames=skip)
    return {m: fns[m] for m in args.metrics}


def evaluate(args: argparse.Namespace) -> dict:
    """Compute the metrics of every ``--pred`` row on every video.

    Args:
        args (argparse.Namespace): Parsed arguments.

    Returns:
        dict: ``{'settings', 'rows'}``; each row has ``name``, ``pred``,
        ``mean`` (metric -> mean over videos) and ``per_video``.
    """
    gt_videos = collect_videos(args.gt)
    preds = [_match(args.gt, gt_videos, '--pred', p) for p in args.pred]
    lq_videos = None
    if args.lq:
        lq_videos = _match(args.gt, gt_videos, '--lq', args.lq)
    names = args.names or [osp.basename(osp.normpath(p)) for p in args.pred]
    fns = _metric_fns(args)
    per_video: List[List[dict]] = [[] for _ in preds]
    progress = tqdm(
        total=len(gt_videos) * len(preds), desc='videos x rows', unit='video')
    for video, gt_src in gt_videos.items():
        gt = read_video(gt_src)
        lq = None
        if lq_videos is not None and 'warp' in fns and \
                args.flow_source == 'lq':
            lq = read_video(lq_videos[video])
            _check_pair(lq, gt, lq_videos[video], gt_src)
        for row, pred in enumerate(preds):
            out = read_video(pred[video])
            _check_pair(out, gt, pred[video], gt_src)
            entry = {'video': video, 'frames': int(len(gt))}
            for metric, fn in fns.items():
                value = fn(out, gt, lq)
                entry[NAMES[metric]] = None if np.isnan(value) else value
            per_video[row].append(entry)
            progress.update()
        DEFAULT_CACHE.clear()  # this video's flows are done
    progress.close()
    rows = []
    for name, path, entries in zip(names, args.pred, per_video):
        mean = {
            NAMES[m]:
            _mean([e[NAMES[m]] for e in entries if e[NAMES[m]] is not None])
            for m in args.metrics
        }
        rows.append(dict(name=name, pred=path, mean=mean, per_video=entries))
    settings = dict(
        gt=args.gt,
        lq=args.lq,
        metrics=[NAMES[m] for m in args.metrics],
        flow_source=args.flow_source,
        skip_frames=args.skip_frames,
        tecogan_crop=not args.no_crop,
        farneback=dict(FARNEBACK_PARAMS),
        lpips=LPIPS_NET if 'tlp' in args.metrics else None,
        tof_scale=_default(tof, 'scale'),
        tlp_scale=_default(tlp, 'scale'))
    return dict(settings=settings, rows=rows)


def format_table(results: dict) -> str:
    """A plain-text table of the means over videos, one line per row.

    Args:
        results (dict): Output of :func:`evaluate`.

    Returns:
        str: The table.
    """
    metrics = results['settings']['metrics']
    width = max([len('row')] + [len(r['name']) for r in results['rows']])
    lines = ['  '.join(['row'.ljust(width)] + [f'{m:>12}' for m in metrics])]
    for row in results['rows']:
        cells = [
            f'{"n/a":>12}'
            if row['mean'][m] is None else f'{row["mean"][m]:>12.6g}'
            for m in metrics
        ]
        lines.append('  '.join([row['name'].ljust(width)] + cells))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    results = evaluate(args)
    print(format_table(results))
    if args.out:
        atomic_write_text(args.out, json.dumps(results, indent=2))
        print(f'written {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
