"""Convert the NTIRE 2021 LDV data into the GT/LQ frame layout.

The LDV dataset of the NTIRE 2021 challenge "Quality enhancement of
heavily compressed videos" (tracks 1 and 2, fixed QP) ships, per set, a
folder of raw videos (``training_raw/001.mkv`` ...: YUV 4:2:0 stored
losslessly with x265) and a folder of the same videos compressed by HM
16.20, low-delay P, QP 37 (``training_fixed-QP/001.mkv`` ...), matched by
file name. The challenge evaluates in RGB after ``ffmpeg -i X.mkv
%3d.png``; this tool decodes both through the same ffmpeg YUV->RGB
conversion and writes::

    OUT_ROOT/gt/<video>/00000000.png ...   raw frames
    OUT_ROOT/lq/<video>/00000000.png ...   compressed frames
    OUT_ROOT/meta_info_ldv_train.txt       "<video> <num_frames>"
    OUT_ROOT/meta_info_ldv_val.txt
    OUT_ROOT/manifest_ldv.json             sizes, counts, PSNR, sources

(frames numbered from 0, as mmagic's ``GenerateSegmentIndices`` expects,
where the challenge's PNGs start at ``001.png``).

Example (the paper's split of the 200 training videos: 190 train, 10
validation)::

    python tools/data/prepare_ldv.py --raw-dir LDV/training_raw \\
        --compressed-dir LDV/training_fixed-QP --out-root data/ldv

``--split val`` (or ``train``) puts every video in one split, e.g. for the
challenge's validation set with ``--ann-prefix meta_info_ldv_valset``.
Each video is written atomically and recorded in the manifest; finished
videos are skipped on a second run.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

from tqdm import tqdm

from astf_mm.datasets.frame_pairs import (mean_psnr, pair_fingerprints,
                                          summary_table, write_pair_folders)
from astf_mm.datasets.manifest import (load_manifest, save_manifest,
                                       write_ann_files)
from astf_mm.io import probe_video, read_frames

MANIFEST = 'manifest_ldv.json'
ANN_PREFIX = 'meta_info_ldv'
# Validation videos of the ASTF paper (Sec. 4.1), out of the 200 training
# videos; the other 190 are for training.
PAPER_VAL_VIDEOS = ('001', '021', '041', '061', '081', '101', '121', '141',
                    '161', '181')
LDV_EXTENSIONS = ('.mkv', '.mp4', '.hevc', '.h265', '.265', '.bin')


def list_videos(folder: str) -> Dict[str, str]:
    """Video files of a folder by name without extension.

    Args:
        folder (str): Folder of videos.

    Returns:
        dict[str, str]: Name -> path.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'Folder not found: {folder}')
    videos: Dict[str, str] = {}
    for entry in sorted(os.listdir(folder)):
        stem, ext = osp.splitext(entry)
        if entry.startswith('.') or ext.lower() not in LDV_EXTENSIONS:
            continue
        if stem in videos:
            raise ValueError(f'{folder}: two videos named "{stem}" '
                             f'({osp.basename(videos[stem])}, {entry}).')
        videos[stem] = osp.join(folder, entry)
    if not videos:
        raise FileNotFoundError(f'{folder}: no videos '
                                f'({", ".join(LDV_EXTENSIONS)}).')
    return videos


def match_pairs(raw_dir: str, compressed_dir: str,
                only: Optional[List[str]] = None
                ) -> List[Tuple[str, str, str]]:
    """Pair raw and compressed videos by name.

    Args:
        raw_dir (str): Folder of raw videos.
        compressed_dir (str): Folder of compressed videos.
        only (list[str], optional): Restrict to these names.

    Returns:
        list[tuple[str, str, str]]: ``(name, raw_path, compressed_path)``
        sorted by name.
    """
    raw = list_videos(raw_dir)
    comp = list_videos(compressed_dir)
    if only:
        missing = sorted(n for n in only if n not in raw or n not in comp)
        if missing:
            raise FileNotFoundError(
                f'--videos {missing}: not found in both {raw_dir} and '
                f'{compressed_dir}.')
        raw = {n: raw[n] for n in only}
        comp = {n: comp[n] for n in only}
    only_raw = sorted(set(raw) - set(comp))
    only_comp = sorted(set(comp) - set(raw))
    if only_raw or only_comp:
        raise ValueError(
            'Raw and compressed videos do not match by name: '
            f'only in {raw_dir}: {only_raw or "-"}; only in '
            f'{compressed_dir}: {only_comp or "-"}. Restrict with '
            '--videos, or fix the folders.')
    return [(n, raw[n], comp[n]) for n in sorted(raw)]


def assign_splits(names: List[str], split: str,
                  val_videos: Optional[List[str]]) -> Dict[str, str]:
    """Split name of each video.

    Args:
        names (list[str]): Video names.
        split (str): ``'paper'`` (validation = ``val_videos`` or the
            paper's ten videos, the rest train), ``'train'`` or ``'val'``
            (every video).
        val_videos (list[str], optional): Validation names for ``'paper'``;
            must all be present.

    Returns:
        dict[str, str]: Name -> ``'train'`` or ``'val'``.
    """
    if split in ('train', 'val'):
        if val_videos:
            raise ValueError('--val-videos needs --split paper.')
        return {n: split for n in names}
    if split != 'paper':
        raise ValueError(f'Unknown split "{split}".')
    if val_videos:
        missing = sorted(set(val_videos) - set(names))
        if missing:
            raise ValueError(f'--val-videos {missing} are not among the '
                             'videos.')
        val = set(val_videos)
    else:
        val = set(PAPER_VAL_VIDEOS) & set(names)
    return {n: 'val' if n in val else 'train' for n in names}


def _source_info(path: str) -> dict:
    st = os.stat(path)
    return dict(file=osp.basename(path), bytes=st.st_size)


def convert_pair(name: str,
                 raw_path: str,
                 comp_path: str,
                 out_root: str,
                 split: str,
                 max_frames: Optional[int],
                 previous: Optional[dict] = None) -> dict:
    """Decode one raw/compressed pair into ``gt/<name>`` and ``lq/<name>``.

    Args:
        name (str): Video name.
        raw_path (str): Raw video.
        comp_path (str): Compressed video.
        out_root (str): Dataset root.
        split (str): ``'train'`` or ``'val'``.
        max_frames (int, optional): Keep only the first frames.
        previous (dict, optional): The video's manifest entry from an
            earlier run: the proof that its folders may be replaced
            (:func:`astf_mm.datasets.frame_pairs.check_replaceable`).
            Default: None.

    Returns:
        dict: The manifest entry.
    """
    raw = probe_video(raw_path, count_frames=True)
    comp = probe_video(comp_path, count_frames=True)
    if raw.num_frames != comp.num_frames:
        raise ValueError(f'Frame counts differ: {raw_path} has '
                         f'{raw.num_frames} frames, {comp_path} has '
                         f'{comp.num_frames}.')
    if (raw.width, raw.height) != (comp.width, comp.height):
        raise ValueError(f'Frame sizes differ: {raw_path} is {raw.width}x'
                         f'{raw.height}, {comp_path} is {comp.width}x'
                         f'{comp.height}.')
    total = raw.num_frames
    if max_frames is not None:
        total = min(total, max_frames)
    psnrs = write_pair_folders(
        read_frames(raw_path, max_frames=max_frames),
        read_frames(comp_path, max_frames=max_frames),
        out_root,
        name,
        total=total,
        sources=(raw_path, comp_path),
        previous=previous)
    return dict(
        name=name,
        split=split,
        settings=dict(
            raw=_source_info(raw_path),
            compressed=_source_info(comp_path),
            max_frames=max_frames),
        num_frames=len(psnrs),
        width=raw.width,
        height=raw.height,
        fps=raw.fps,
        compressed_codec=comp.codec,
        psnr_lq_rgb=mean_psnr(psnrs),
        folders=pair_fingerprints(out_root, name))


def prepare_ldv(raw_dir: str,
                compressed_dir: str,
                out_root: str,
                split: str = 'paper',
                val_videos: Optional[List[str]] = None,
                videos: Optional[List[str]] = None,
                max_frames: Optional[int] = None,
                ann_prefix: str = ANN_PREFIX) -> dict:
    """Convert every matched pair (skipping finished ones), write ann files.

    Args:
        raw_dir (str): Folder of raw videos.
        compressed_dir (str): Folder of compressed videos.
        out_root (str): Dataset root.
        split (str): See :func:`assign_splits`. Default: 'paper'.
        val_videos (list[str], optional): Validation names. Default: None.
        videos (list[str], optional): Only these videos. Default: None.
        max_frames (int, optional): First frames only. Default: None.
        ann_prefix (str): Annotation file prefix.
            Default: 'meta_info_ldv'.

    Returns:
        dict: The manifest (entries marked ``'skipped'`` if reused).
    """
    pairs = match_pairs(raw_dir, compressed_dir, videos)
    splits = assign_splits([p[0] for p in pairs], split, val_videos)
    os.makedirs(out_root, exist_ok=True)
    manifest = load_manifest(out_root, MANIFEST)
    skipped = {}
    for name, raw_path, comp_path in tqdm(pairs, desc='videos',
                                          unit='video'):
        entry = manifest['videos'].get(name)
        settings = dict(
            raw=_source_info(raw_path),
            compressed=_source_info(comp_path),
            max_frames=max_frames)
        done = (entry is not None and entry.get('settings') == settings
                and all(
                    osp.isdir(osp.join(out_root, sub, name))
                    and len(os.listdir(osp.join(out_root, sub, name))) ==
                    entry['num_frames'] for sub in ('gt', 'lq')))
        if done:
            entry['split'] = splits[name]
            skipped[name] = True
        else:
            manifest['videos'][name] = convert_pair(name, raw_path,
                                                    comp_path, out_root,
                                                    splits[name], max_frames,
                                                    entry)
            skipped[name] = False
        save_manifest(out_root, manifest, MANIFEST)
    # Only the videos of this run go into this run's annotation files.
    current = dict(
        format=manifest['format'],
        videos={n: manifest['videos'][n]
                for n in skipped})
    write_ann_files(out_root, current, ann_prefix)
    for name, value in skipped.items():
        current['videos'][name] = dict(current['videos'][name],
                                       skipped=value)
    return current


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert NTIRE 2021 LDV raw/compressed videos into '
        'gt/ and lq/ PNG frame folders.')
    parser.add_argument(
        '--raw-dir', required=True, help='folder of raw videos (GT)')
    parser.add_argument(
        '--compressed-dir',
        required=True,
        help='folder of compressed videos (LQ), same file names')
    parser.add_argument(
        '--out-root', required=True, help='dataset root to write')
    parser.add_argument(
        '--split',
        choices=('paper', 'train', 'val'),
        default='paper',
        help='paper: the ASTF validation videos (001, 021, ..., 181) are '
        'val, the rest train; train/val: every video in that split')
    parser.add_argument(
        '--val-videos',
        type=lambda s: [v for v in s.split(',') if v],
        help='comma-separated validation videos (with --split paper)')
    parser.add_argument(
        '--videos',
        type=lambda s: [v for v in s.split(',') if v],
        help='comma-separated subset of videos to convert')
    parser.add_argument(
        '--max-frames', type=int, help='keep only the first N frames')
    parser.add_argument(
        '--ann-prefix',
        default=ANN_PREFIX,
        help='annotation files: PREFIX_train.txt and PREFIX_val.txt')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    manifest = prepare_ldv(args.raw_dir, args.compressed_dir, args.out_root,
                           args.split, args.val_videos, args.videos,
                           args.max_frames, args.ann_prefix)
    print(summary_table(manifest))
    print(f'Wrote {args.out_root}: gt/, lq/, {args.ann_prefix}_train.txt, '
          f'{args.ann_prefix}_val.txt, {MANIFEST}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
