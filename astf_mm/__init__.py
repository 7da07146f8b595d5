"""astf_mm: ASTF compressed-video perceptual enhancement for MMagic.

Importing the package applies the compatibility shims it needs and
registers every module into mmagic's registries.
"""
from . import compat
from .utils.third_party_warnings import quiet_third_party_warnings
from .version import __version__

# mmagic's imports emit known third-party deprecation warnings
with quiet_third_party_warnings():
    compat.apply_all()
    # Registration into mmagic's registries happens on import.
    from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
