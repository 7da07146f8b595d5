"""The cache folder of downloaded weights and media."""
import os
import os.path as osp

CACHE_ENV = 'ASTF_MM_CACHE'


def default_cache_dir() -> str:
    """The cache root: ``$ASTF_MM_CACHE``, else ``~/.cache/astf_mm``.

    Returns:
        str: Absolute path, ``~`` expanded (it may not exist yet).
    """
    root = os.environ.get(CACHE_ENV) or osp.join('~', '.cache', 'astf_mm')
    return osp.abspath(osp.expanduser(root))
