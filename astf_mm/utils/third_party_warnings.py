"""Known third-party warnings that our commands do not show.

Users cannot act on them, and they buried the quick start's results.
Only these are silenced, only inside
:func:`quiet_third_party_warnings` (the package import and the tools'
``main``); every other warning, ours or theirs, still shows, and code that
imports ``astf_mm`` keeps its own filters outside our import.
"""
import contextlib
import warnings
from typing import Iterator, Tuple, Type

# (category, message regex, module regex): the warning, and the module it
# is attributed to
KNOWN_THIRD_PARTY_WARNINGS: Tuple[Tuple[Type[Warning], str, str], ...] = (
    # diffusers 0.28 deprecates import paths that mmagic 1.2's diffusers
    # wrappers use; emitted when mmagic.models is imported
    (FutureWarning, r'.* is deprecated and will be removed in version',
     r'diffusers(\.|$)'),
    # mmengine 0.10 imports pkg_resources to check installed packages
    # (Config.fromfile of an ``mmagic::`` base), which setuptools 80
    # deprecates; attributed to mmengine, or to importlib on its reload
    (UserWarning, r'pkg_resources is deprecated as an API',
     r'(mmengine|importlib)(\.|$)'),
)


@contextlib.contextmanager
def quiet_third_party_warnings() -> Iterator[None]:
    """Hide :data:`KNOWN_THIRD_PARTY_WARNINGS` inside the block.

    The filters are restored on exit (``warnings.catch_warnings``).

    Example:
        >>> with quiet_third_party_warnings():
        ...     main()
    """
    with warnings.catch_warnings():
        for category, message, module in KNOWN_THIRD_PARTY_WARNINGS:
            warnings.filterwarnings(
                'ignore', message=message, category=category, module=module)
        yield
