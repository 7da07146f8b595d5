"""Build a paired (compressed / clean) frame dataset from videos.

Example::

    python tools/data/compress_videos.py --input videos/ \\
        --out-root data/mine --qp 37 --resize 960x536 --max-frames 100

For each video: cut (``--start``/``--max-frames``), resize (``--resize``)
and crop to even size, keep that as the lossless "raw" source, encode it
with x265 at a fixed QP (low-delay P, no B-frames, every frame at ``--qp``,
see :func:`astf_mm.datasets.encoding.encode_hevc_qp`), decode, and write::

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
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

from astf_mm.datasets.frame_pairs import (VideoJob, build_dataset, mean_psnr,
                                          pair_fingerprints, summary_table,
                                          write_pair_folders)
from astf_mm.datasets.manifest import (MANIFEST, load_manifest, save_manifest,
                                       sha256_path, write_ann_files)
from astf_mm.io import (VIDEO_EXTENSIONS, OutputPathError, VideoReadError,
                        list_frame_files, verify_video)
from astf_mm.io.ffmpeg import is_raw
from astf_mm.utils.cli import parse_size

# The dataset-building library lives in astf_mm.datasets.frame_pairs; the
# names the other data tools and the tests use are re-exported here.
__all__ = [
    'MANIFEST', 'VIDEO_EXTENSIONS', 'VideoJob', 'build_dataset',
    'load_manifest', 'mean_psnr', 'pair_fingerprints', 'save_manifest',
    'OutputPathError', 'sha256_path', 'summary_table', 'write_ann_files',
    'write_pair_folders', 'parse_size', 'find_inputs', 'video_name',
    'choose_val', 'main'
]


# ---------------------------------------------------------------------------
# command line


def find_inputs(inputs: List[str]) -> List[str]:
    """Expand input arguments into video paths.

    A file is a video; a folder holding video files gives those files; a
    folder holding only images is itself one video (a frame folder).

    Args:
        inputs (list[str]): Files and folders.

    Returns:
        list[str]: Video paths (files or frame folders).
    """
    paths = []
    for item in inputs:
        if not osp.exists(item):
            raise FileNotFoundError(f'Input not found: {item}')
        if osp.isfile(item):
            paths.append(item)
            continue
        videos = sorted(
            osp.join(item, n) for n in os.listdir(item)
            if osp.splitext(n)[1].lower() in VIDEO_EXTENSIONS
            and not n.startswith('.'))
        if videos:
            paths.extend(videos)
        elif list_frame_files(item):
            paths.append(item)
        else:
            raise FileNotFoundError(
                f'{item}: no videos ({", ".join(VIDEO_EXTENSIONS)}) and no '
                'image frames inside.')
    return paths


def video_name(path: str) -> str:
    """Output name of a video: its file (or folder) name without extension.

    Args:
        path (str): Video path.

    Returns:
        str: The name.
    """
    return osp.splitext(osp.basename(osp.normpath(path)))[0]


def choose_val(names: List[str], val_videos: Optional[List[str]],
               val_ratio: float) -> List[str]:
    """Pick the validation videos, whole videos only.

    Args:
        names (list[str]): All video names.
        val_videos (list[str], optional): Explicit names; must exist.
        val_ratio (float): Otherwise this fraction of the videos, spread
            evenly over the sorted names (at least one when the ratio is
            positive and there are two videos or more).

    Returns:
        list[str]: Validation video names.
    """
    if val_videos:
        missing = sorted(set(val_videos) - set(names))
        if missing:
            raise ValueError(f'--val-videos {missing} are not among the '
                             f'inputs {sorted(names)}.')
        return list(val_videos)
    if not 0 <= val_ratio < 1:
        raise ValueError(f'--val-ratio must be in [0, 1), got {val_ratio}.')
    ordered = sorted(names)
    count = int(round(len(ordered) * val_ratio))
    if val_ratio > 0 and len(ordered) >= 2:
        count = max(count, 1)
    if count == 0:
        return []
    step = len(ordered) / count
    return [ordered[int(i * step)] for i in range(count)]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build a GT/LQ frame dataset by compressing videos with '
        'HEVC (x265) at a fixed QP.')
    parser.add_argument(
        '--input',
        nargs='+',
        required=True,
        help='video files, folders of videos, or frame folders')
    parser.add_argument(
        '--out-root', required=True, help='dataset root to write')
    parser.add_argument(
        '--qp', type=int, default=37, help='x265 QP of every frame')
    parser.add_argument('--preset', default='medium', help='x265 preset')
    parser.add_argument(
        '--start', type=int, default=0, help='first frame of each video')
    parser.add_argument(
        '--max-frames', type=int, help='at most N frames per video')
    parser.add_argument(
        '--resize', type=parse_size, help='resize to WxH (even numbers)')
    parser.add_argument(
        '--size',
        type=parse_size,
        help='WxH of raw .yuv inputs (they have no header)')
    parser.add_argument(
        '--pix-fmt', default='yuv420p', help='pixel format of .yuv inputs')
    parser.add_argument(
        '--fps',
        type=float,
        default=25,
        help='frame rate of inputs without one (.yuv, frame folders)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--val-videos',
        type=lambda s: [v for v in s.split(',') if v],
        help='comma-separated names of the validation videos')
    group.add_argument(
        '--val-ratio',
        type=float,
        default=0.1,
        help='fraction of the videos used for validation')
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> None:
    """Check every source, then build the dataset and print its table."""
    paths = find_inputs(args.input)
    names = [video_name(p) for p in paths]
    val = set(choose_val(names, args.val_videos, args.val_ratio))
    jobs = [
        VideoJob(
            name=name,
            source=path,
            split='val' if name in val else 'train',
            start=args.start,
            max_frames=args.max_frames,
            resize=args.resize,
            raw_size=args.size,
            raw_pix_fmt=args.pix_fmt,
            fps=args.fps) for name, path in zip(names, paths)
    ]
    for path in paths:
        if osp.isfile(path):
            # ffmpeg exits 0 on a truncated source and the lossless cut
            # keeps what decoded: decode and check every source first
            verify_video(
                path,
                size=args.size if is_raw(path) else None,
                pix_fmt=args.pix_fmt)
    manifest = build_dataset(jobs, args.out_root, args.qp, args.preset)
    print(summary_table(manifest, names))
    print(f'Wrote {args.out_root} ({MANIFEST}, meta_info_train.txt, '
          'meta_info_val.txt)')


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        build(args)
    except (VideoReadError, ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
