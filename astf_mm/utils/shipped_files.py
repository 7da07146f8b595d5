"""Find the configs, tools and sample checkpoints the package ships.

They lie in ``astf_mm/.mim/`` (as in mmagic): copied there when the wheel
is built, and symbolic links to the repository's ``configs/``, ``tools/``
and ``checkpoints/sample/`` in a checkout (so an editable install reads the
repository's files).

The one rule for a path named in a config or on the command line: a
relative path that does not exist under the working directory is looked up
among the shipped files (``checkpoints/sample/x.pth`` ->
``astf_mm/.mim/checkpoints/sample/x.pth``); ``astf_mm::astf/...`` names a
shipped config. Absolute paths, URLs and paths that exist are kept. Data
roots are not looked up: they stay relative to the working directory.
"""
import os.path as osp
from typing import Optional

SHIPPED_ROOT = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim')
CONFIG_SCOPE = 'astf_mm::'
#: The end-to-end config of the shipped sample models, under ``configs/``:
#: ``astf_mm::`` plus this name opens it from any folder, ``configs/`` plus
#: it from the repository root (or, not found there, among shipped files).
SAMPLE_ASTF_CONFIG = 'astf/sample/astf_fusion-ps4_c32b6_corpus-qp37.py'


def shipped_path(relpath: str) -> str:
    """The path of a shipped file (it may not exist).

    Args:
        relpath (str): Path relative to the repository root, e.g.
            ``'configs/astf/sample/x.py'``.

    Returns:
        str: The path under ``astf_mm/.mim``.

    Raises:
        ValueError: If ``relpath`` is absolute or leaves that folder.
    """
    path = osp.normpath(osp.join(SHIPPED_ROOT, relpath))
    if osp.isabs(relpath) or not path.startswith(SHIPPED_ROOT + osp.sep):
        raise ValueError(f'{relpath} is not a path inside the package\'s '
                         f'shipped files ({SHIPPED_ROOT}).')
    return path


def resolve_shipped(path: Optional[str]) -> Optional[str]:
    """Apply the lookup rule of this module to one path.

    Args:
        path (str, optional): A checkpoint or config path as written.

    Returns:
        str | None: ``path`` itself when it is empty, absolute, a URL or
        exists; else the shipped file when there is one; else ``path``
        (so the caller's error names it as written).
    """
    if not path or '://' in path or osp.isabs(path) or osp.exists(path):
        return path
    try:
        candidate = shipped_path(path)
    except ValueError:
        return path
    return candidate if osp.exists(candidate) else path


def resolve_config(config: str) -> str:
    """The file of a config named by path or as ``astf_mm::PATH``.

    Args:
        config (str): A config path (looked up as in
            :func:`resolve_shipped`) or ``astf_mm::`` plus a path under
            ``configs/`` (``astf_mm::astf/sample/x.py``), as in a
            ``_base_``.

    Returns:
        str: The path to open.

    Raises:
        FileNotFoundError: If an ``astf_mm::`` config is not shipped.
    """
    if not config.startswith(CONFIG_SCOPE):
        return resolve_shipped(config)
    path = shipped_path(osp.join('configs', config[len(CONFIG_SCOPE):]))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{config}: no such config in the package ({path} does not '
            'exist); the shipped ones are under '
            f'{osp.join(SHIPPED_ROOT, "configs")}.')
    return path
