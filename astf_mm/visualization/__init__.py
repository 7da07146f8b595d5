"""Views of results for people: the side-by-side HTML viewer, and the image
strips that validation and test write to the visualizer's backends.

Imports only :mod:`astf_mm.io` and mmengine/mmagic (no model code), so the
tools, the inference API and the runner can all use it.
"""
from .frame_strip import (STRIP_KEYS, FrameStripVisualizer, frame_strip,
                          title_band)
from .viewer import (FILES_SUFFIX, VIEWER_CRF, ViewerFiles, check_metrics,
                     render_page, viewer_files_dir, write_viewer)

__all__ = [
    'FILES_SUFFIX', 'VIEWER_CRF', 'STRIP_KEYS', 'FrameStripVisualizer',
    'ViewerFiles', 'check_metrics', 'frame_strip', 'render_page',
    'title_band', 'viewer_files_dir', 'write_viewer'
]
