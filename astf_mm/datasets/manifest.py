"""The manifest and annotation files of a paired frame dataset.

``OUT_ROOT/manifest.json`` records every video's settings, versions, sha256
and PSNR (what makes dataset building resumable);
``meta_info_{train,val}.txt`` are mmagic's ``BasicFramesDataset`` "case 1"
annotation files written from it.
"""
import hashlib
import json
import math
import os.path as osp
from typing import Dict, Optional

from astf_mm.io import atomic_write_text, list_frame_files
from astf_mm.utils.checksum import update_sha256

MANIFEST = 'manifest.json'
MANIFEST_FORMAT = 1
SPLITS = ('train', 'val')


def sha256_path(path: str) -> str:
    """sha256 of a file, or of a frame folder's files (names and bytes).

    Args:
        path (str): File or folder.

    Returns:
        str: Hex digest.
    """
    digest = hashlib.sha256()
    files = list_frame_files(path) if osp.isdir(path) else [path]
    for file in files:
        if osp.isdir(path):
            digest.update(osp.basename(file).encode())
        update_sha256(digest, file)
    return digest.hexdigest()


def _json_float(value: float) -> Optional[float]:
    return None if math.isinf(value) else round(value, 4)


def load_manifest(out_root: str, name: str = MANIFEST) -> dict:
    """Read ``OUT_ROOT/manifest.json`` (an empty one if missing).

    Args:
        out_root (str): Dataset root.
        name (str): Manifest file name. Default: 'manifest.json'.

    Returns:
        dict: ``{'format': 1, 'videos': {name: entry}}``.
    """
    path = osp.join(out_root, name)
    if not osp.exists(path):
        return dict(format=MANIFEST_FORMAT, videos={})
    try:
        with open(path) as f:
            manifest = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e}); delete it to rebuild'
                         ' the dataset from scratch.') from None
    if manifest.get('format') != MANIFEST_FORMAT:
        raise ValueError(f'{path}: unknown manifest format '
                         f'{manifest.get("format")!r} (expected '
                         f'{MANIFEST_FORMAT}).')
    return manifest


def save_manifest(out_root: str,
                  manifest: dict,
                  name: str = MANIFEST) -> None:
    """Write ``OUT_ROOT/manifest.json`` atomically.

    Args:
        out_root (str): Dataset root.
        manifest (dict): The manifest.
        name (str): Manifest file name. Default: 'manifest.json'.
    """
    atomic_write_text(
        osp.join(out_root, name),
        json.dumps(manifest, indent=2, sort_keys=True) + '\n')


def write_ann_files(out_root: str,
                    manifest: dict,
                    prefix: str = 'meta_info') -> Dict[str, str]:
    """Write ``<prefix>_train.txt`` / ``<prefix>_val.txt`` from a manifest.

    mmagic's ``BasicFramesDataset`` "case 1" format: ``<video> <frames>``
    per line, sorted by video name.

    Args:
        out_root (str): Dataset root.
        manifest (dict): The manifest.
        prefix (str): File name prefix. Default: 'meta_info'.

    Returns:
        dict[str, str]: Split name -> written path.
    """
    paths = {}
    for split in SPLITS:
        lines = [
            f'{name} {entry["num_frames"]}'
            for name, entry in sorted(manifest['videos'].items())
            if entry['split'] == split
        ]
        path = osp.join(out_root, f'{prefix}_{split}.txt')
        atomic_write_text(path, ''.join(line + '\n' for line in lines))
        paths[split] = path
    return paths
