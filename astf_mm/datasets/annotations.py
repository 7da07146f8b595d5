"""Annotation files of video datasets."""
import os.path as osp
from typing import List


def videos_from_ann(data_root: str, ann_files: List[str]) -> List[str]:
    """Video names listed in annotation files, in order, without repeats.

    Args:
        data_root (str): Dataset root.
        ann_files (list[str]): mmagic "Case 1" annotation files of
            ``video num_frames`` lines, relative to ``data_root``.

    Returns:
        list[str]: The video names.
    """
    videos = []
    for ann in ann_files:
        path = osp.join(data_root, ann)
        if not osp.isfile(path):
            raise FileNotFoundError(f'Annotation file {path} does not exist.')
        with open(path) as f:
            for line in f:
                if line.strip():
                    videos.append(line.split()[0])
    return list(dict.fromkeys(videos))
