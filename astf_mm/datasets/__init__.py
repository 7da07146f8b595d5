"""Datasets: mmagic's frame datasets with checks at load time."""
from .paired_frames_dataset import (LoadImageFromFileChecked,
                                    PairedFramesDataset)

__all__ = ['PairedFramesDataset', 'LoadImageFromFileChecked']
