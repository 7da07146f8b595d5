"""astf_mm: ASTF compressed-video perceptual enhancement for MMagic.

Importing the package applies the compatibility shims it needs and
registers every module into mmagic's registries.
"""
from . import compat
from .version import __version__

compat.apply_all()

from . import models  # noqa: E402,F401  (registers into mmagic)

__all__ = ['__version__']
