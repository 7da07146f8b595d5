"""sha256 of files and validation of pinned digests."""
import hashlib
import re
from typing import Any, Optional

_SHA256_RE = re.compile(r'[0-9a-fA-F]{64}')


def update_sha256(digest: 'hashlib._Hash', path: str) -> None:
    """Feed a file's bytes into a running digest, 1 MiB at a time."""
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)


def sha256_of(path: str) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    update_sha256(digest, path)
    return digest.hexdigest()


def check_sha256(value: Any, where: str) -> Optional[str]:
    """Validate a pinned sha256: None, or a 64-character hex string.

    ``--cfg-options key=000...`` reads an all-digit value as an integer
    (quotes are stripped before parsing, so they do not help): such a
    value, or any other non-string, is refused instead of silently
    disabling the check.

    Args:
        value (Any): The pinned digest, as the config holds it.
        where (str): Where it was set, for the message (e.g.
            ``'model.stage1.sha256'``).

    Returns:
        str | None: The digest in lower case, or None when not pinned.

    Raises:
        ValueError: If ``value`` is not None and not 64 hex digits.
    """
    if value is None:
        return None
    if isinstance(value, str) and _SHA256_RE.fullmatch(value):
        return value.lower()
    hint = ''
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = (' --cfg-options reads an all-digit value as a number '
                '(quotes do not help): pin it with --sha256 on the tools '
                'that take --checkpoints, or write it in the config file as '
                'a string.')
    raise ValueError(f'{where} must be a sha256: a string of 64 hex digits; '
                     f'got {type(value).__name__} {value!r}.{hint}')
