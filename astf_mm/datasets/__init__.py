"""Datasets: mmagic's frame datasets with checks at load time."""
from .annotations import videos_from_ann
from .paired_frames_dataset import (LoadImageFromFileChecked,
                                    PairedFramesDataset)

__all__ = [
    'PairedFramesDataset', 'LoadImageFromFileChecked', 'videos_from_ann'
]
