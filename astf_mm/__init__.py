"""astf_mm: ASTF compressed-video perceptual enhancement for MMagic.

Importing the package applies the compatibility shims it needs and
registers every module into mmagic's registries.
"""
from . import compat
from .version import __version__

compat.apply_all()

# Registration into mmagic's registries happens on import.
from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
