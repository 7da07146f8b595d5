"""Views of results for people: the side-by-side HTML viewer.

Imports only :mod:`astf_mm.io` (no model code), so the tools and the
inference API can both use it.
"""
from .viewer import (FILES_SUFFIX, VIEWER_CRF, ViewerFiles, check_metrics,
                     render_page, viewer_files_dir, write_viewer)

__all__ = [
    'FILES_SUFFIX', 'VIEWER_CRF', 'ViewerFiles', 'check_metrics',
    'render_page', 'viewer_files_dir', 'write_viewer'
]
