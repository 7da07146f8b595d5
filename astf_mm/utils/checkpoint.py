"""Load a network's weights from a checkpoint, checked before use; write
one whose bytes do not depend on where it is written."""
import io
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from astf_mm.compat import check_checkpoint_file
from .checksum import check_sha256, sha256_of
from .shipped_files import resolve_shipped


def checkpoint_bytes(obj: Any) -> bytes:
    """``torch.save`` into memory.

    Saved to a path, the zip archive's record names carry that file's
    name (the temporary name of an atomic write included), so the same
    weights get a different sha256 on every run; saved to a buffer they
    are always named ``archive/``, and a published checkpoint's pin can be
    reproduced.

    Args:
        obj: What to save.

    Returns:
        bytes: The file's content.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def load_checked_state_dict(
        checkpoint: str,
        sha256: Optional[str] = None,
        prefix: Optional[str] = 'generator.',
        name: str = 'network',
        map_location: str = 'cpu') -> Tuple[Dict[str, torch.Tensor], str]:
    """Read a state dict after checking the file and its sha256.

    The file must exist, be a non-empty file and, when ``sha256`` is
    pinned, have that digest; its digest is logged either way. A relative
    path missing under the working directory is looked up among the
    package's shipped checkpoints (:mod:`astf_mm.utils.shipped_files`).
    It is read through mmengine's ``CheckpointLoader`` (so the
    ``weights_only`` shim of :mod:`astf_mm.compat` applies to local
    files).

    Args:
        checkpoint (str): Path or URL of a Runner checkpoint or a bare
            state dict.
        sha256 (str, optional): Expected digest (64 hex digits).
            Default: None (not pinned).
        prefix (str, optional): Keep only the keys under this prefix and
            strip it (``'generator.'`` reads a generator out of a Runner
            checkpoint of mmagic's ``BasicVSR``); a state dict without any
            such key is returned whole. Default: ``'generator.'``.
        name (str): Name for messages (e.g. ``'stage1'``).
            Default: ``'network'``.
        map_location (str): As in :func:`torch.load`. Default: ``'cpu'``.

    Returns:
        tuple[dict, str]: The state dict and the file's sha256.

    Raises:
        FileNotFoundError, IsADirectoryError: For a wrong path.
        astf_mm.compat.CheckpointError: For an empty, truncated or corrupt
            file.
        ValueError: If ``sha256`` is not 64 hex digits.
        RuntimeError: If the file does not have the pinned digest.
    """
    expected = check_sha256(sha256, f'{name}: init_cfg.sha256')
    checkpoint = resolve_shipped(checkpoint)
    try:
        check_checkpoint_file(checkpoint)
    except (OSError, RuntimeError) as err:
        raise type(err)(f'{name}: {err}') from None
    digest = sha256_of(checkpoint)
    if expected is not None and digest != expected:
        raise RuntimeError(
            f'{name}: checkpoint {checkpoint} has sha256 {digest}, expected '
            f'{expected}: the file is corrupt or not the one pinned.')
    print_log(
        f'{name}: checkpoint {checkpoint} sha256 {digest}'
        f'{" (matches the pin)" if expected else " (not pinned)"}',
        logger='current')
    state = CheckpointLoader.load_checkpoint(
        checkpoint, map_location=map_location)
    state = state.get('state_dict', state)
    if prefix and any(k.startswith(prefix) for k in state):
        state = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
    return state, digest
