"""Output safety: a writer never destroys data it did not write.

- :func:`check_output_path` refuses an output that is, holds or lies inside
  an input, an existing file (unless ``overwrite``) and a path of the wrong
  kind (a folder where a file goes).
- Outputs are written under a temporary name beside the final one and
  renamed when complete: single files through :func:`atomic_write` (and
  its ``_bytes``/``_text`` forms), folders and writer outputs through a
  temporary folder marked with :data:`PARTIAL_MARKER`
  (:func:`make_temp_dir`, :func:`commit_temp_dir`, :func:`atomic_folder`).
- A later run removes the marked temporaries of a killed writer
  (:func:`remove_stale_temps`); :func:`exit_on_sigterm` makes SIGTERM
  unwind like Ctrl-C, so that writers remove their own.
"""
import contextlib
import errno
import json
import os
import os.path as osp
import shutil
import signal
import socket
import sys
import tempfile
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

from .ffmpeg import PathLike

# ---------------------------------------------------------------------------
# single files: a temporary sibling, then a rename


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_sibling(path: PathLike) -> str:
    """Create an empty temporary file beside ``path``, keeping its extension.

    The name is ``.<stem>.tmp-XXXX<ext>`` in the same folder (so that a
    later ``os.replace`` is atomic and ffmpeg/OpenCV still see the right
    extension), with the permissions a normal new file would get.

    Args:
        path (str | PathLike): The final path.

    Returns:
        str: The temporary file's path.
    """
    folder, name = osp.split(osp.abspath(os.fspath(path)))
    stem, ext = osp.splitext(name)
    fd, tmp = tempfile.mkstemp(prefix=f'.{stem}.tmp-', suffix=ext, dir=folder)
    os.close(fd)
    # mkstemp makes 0600 files; datasets are shared, so use the umask.
    os.chmod(tmp, 0o666 & ~_umask())
    return tmp


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: PathLike,
                 write: Callable[[str], None],
                 sync: bool = True,
                 overwrite: bool = True,
                 tmp: Optional[str] = None) -> None:
    """Write a file atomically: a temporary sibling, then a rename.

    ``write(tmp)`` creates the content at the temporary path (which keeps
    the extension of ``path``, see :func:`temp_sibling`), then it is
    renamed to ``path``. A crash leaves either the old file or the
    complete new one, never a truncated file under the final name; on any
    exception the temporary file is removed and the exception re-raised.

    Args:
        path (str | PathLike): Destination; its folder is created.
        write (Callable[[str], None]): Writes the content to the path given.
        sync (bool): Flush the data to disk before the rename and the
            folder after it, so that a power loss cannot leave an empty
            file under the final name. False for files inside a temporary
            folder that is renamed as a whole (one fsync per frame slows
            dataset building). Default: True.
        overwrite (bool): Replace an existing file. Without it an existing
            ``path``, or one that appears while the content is written,
            raises :class:`OutputPathError` and is left untouched. A folder
            is never replaced. Default: True.
        tmp (str, optional): The temporary path to write, in the folder of
            ``path`` (for callers whose temporaries carry their own
            pattern, e.g. a pid that tells a stale one); it must not exist.
            Default: a new :func:`temp_sibling`.
    """
    final = osp.abspath(os.fspath(path))
    folder = osp.dirname(final)
    if not overwrite and osp.lexists(final):
        raise OutputPathError(f'{final}: exists; refusing to replace it.')
    os.makedirs(folder, exist_ok=True)
    if tmp is None:
        tmp = temp_sibling(final)
    elif osp.dirname(osp.abspath(tmp)) != folder:
        raise ValueError(f'The temporary {tmp} must be in the folder of '
                         f'{final} (a rename across folders is not atomic).')
    try:
        write(tmp)
        if sync:
            _fsync(tmp)
        commit_file(tmp, final, overwrite)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    if sync:
        _fsync(folder)  # the rename itself reaches the disk


def atomic_write_bytes(path: PathLike,
                       data: bytes,
                       overwrite: bool = True) -> None:
    """Write a binary file atomically (:func:`atomic_write`).

    Args:
        path (str | PathLike): Destination; its folder is created.
        data (bytes): Content.
        overwrite (bool): As in :func:`atomic_write`. Default: True.
    """

    def write(tmp: str) -> None:
        with open(tmp, 'wb') as f:
            f.write(data)

    atomic_write(path, write, overwrite=overwrite)


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write a text file atomically (:func:`atomic_write`).

    Args:
        path (str | PathLike): Destination; its folder is created.
        text (str): Content.
    """

    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            f.write(text)

    atomic_write(path, write)


# refused paths, marked temporary folders, commits that never delete what
# the writer did not write

# Every temporary output folder of this package holds this marker file (its
# writer's host and pid, as JSON). A later run removes a leftover temporary
# only when it carries the marker and its writer is gone; a look-alike
# without the marker is never touched.
PARTIAL_MARKER = '.astf_mm-partial'

OUTPUT_KINDS = ('file', 'folder', 'container')


class OutputPathError(ValueError):
    """An output path is refused: it is (or holds, or lies inside) an input,
    it exists, or it is of the wrong kind (a folder where a file goes)."""


def _is_within(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (real paths)."""
    path, folder = osp.realpath(path), osp.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_output_path(path: PathLike,
                      inputs: Iterable[Optional[PathLike]] = (),
                      kind: str = 'file',
                      overwrite: bool = False,
                      name: str = 'output') -> str:
    """Refuse an output path that could destroy data the caller did not
    write.

    Refused whatever ``overwrite``: a path equal to or inside one of
    ``inputs``; a folder output that holds an input; an existing folder
    where a file goes, or an existing file where a folder goes. Refused
    unless ``overwrite``: an existing file (``kind='file'``) or a non-empty
    frame folder (``kind='folder'``; the writer then replaces only the
    files it writes). A ``'container'`` (a folder holding outputs that are
    checked one by one) may exist.

    Args:
        path (str | PathLike): The output.
        inputs (Iterable[str | PathLike | None]): Input files/folders and
            dataset sources; None entries are skipped. Default: ().
        kind (str): ``'file'``, ``'folder'`` or ``'container'``.
            Default: 'file'.
        overwrite (bool): Allow an existing file / non-empty folder.
            Default: False.
        name (str): How the message names the output (an option such as
            ``'--output'``). Default: 'output'.

    Returns:
        str: The absolute output path.

    Raises:
        OutputPathError: Naming the path and what is wrong with it.
    """
    if kind not in OUTPUT_KINDS:
        raise ValueError(f'kind must be one of {OUTPUT_KINDS}, got {kind!r}.')
    raw = os.fspath(path)
    if not raw.strip():
        raise OutputPathError(f'{name}: the path is empty.')
    final = osp.abspath(raw)
    label = f'{name} {raw}'
    for src in inputs:
        if src is None:
            continue
        src = os.fspath(src)
        if _is_within(final, src):
            raise OutputPathError(
                f'{label}: is the input {src} or lies inside it; refusing '
                'to write into an input. Choose an output elsewhere.')
        if kind != 'file' and _is_within(src, final):
            raise OutputPathError(
                f'{label}: holds the input {src}; refusing to write outputs '
                'into a folder that holds an input. Choose a new folder.')
    if not osp.lexists(final):
        return final
    if kind == 'file':
        if osp.isdir(final):
            raise OutputPathError(
                f'{label}: is a folder; a file output never replaces a '
                'folder. Give a file name (with an extension).')
        if not overwrite:
            raise OutputPathError(
                f'{label}: exists; refusing to replace it (pass --overwrite, '
                'or overwrite=True, to replace this file).')
    elif not osp.isdir(final):
        raise OutputPathError(
            f'{label}: exists and is not a folder; refusing to replace it.')
    elif kind == 'folder' and not overwrite and os.listdir(final):
        raise OutputPathError(
            f'{label}: is a folder that is not empty; refusing to write into '
            'it (pass --overwrite, or overwrite=True, to write into it: only '
            'the files written now are replaced, nothing is deleted).')
    return final


def _partial_owner(tmp: str, final: str) -> Optional[Tuple[str, int]]:
    """``(host, pid)`` from the marker of a temporary folder of ``final``,
    None when it has no valid marker (not one of ours)."""
    marker = osp.join(tmp, PARTIAL_MARKER)
    if osp.islink(tmp) or not osp.isdir(tmp) or not osp.isfile(marker):
        return None
    try:
        with open(marker) as f:
            data = json.load(f)
        owner = str(data['host']), int(data['pid'])
        target = str(data['target'])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return owner if target == final else None


def _process_gone(host: str, pid: int) -> bool:
    if host != socket.gethostname() or pid == os.getpid():
        return False  # another machine's process cannot be checked
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by another user
        return False
    return False


def remove_stale_temps(path: PathLike) -> List[str]:
    """Remove the temporaries of ``path`` left by a killed writer.

    A sibling ``.NAME.tmp-*`` folder is removed only when it holds the
    :data:`PARTIAL_MARKER` of this package naming ``path``, written on this
    host by a process that no longer exists. Each removal is reported on
    stderr.

    Args:
        path (str | PathLike): The final output path.

    Returns:
        list[str]: The removed folders.
    """
    final = osp.abspath(os.fspath(path))
    parent, name = osp.split(final)
    if not osp.isdir(parent):
        return []
    removed = []
    for entry in sorted(os.listdir(parent)):
        if not entry.startswith(f'.{name}.tmp-'):
            continue
        tmp = osp.join(parent, entry)
        owner = _partial_owner(tmp, final)
        if owner is None or not _process_gone(*owner):
            continue
        shutil.rmtree(tmp, ignore_errors=True)
        print(
            f'Removed {tmp}: a partial output of {final} left by process '
            f'{owner[1]} on {owner[0]}, which has ended.',
            file=sys.stderr,
            flush=True)
        removed.append(tmp)
    return removed


def make_temp_dir(path: PathLike) -> str:
    """Create the marked temporary folder of an output, beside it.

    Stale temporaries of ``path`` are removed first
    (:func:`remove_stale_temps`). The folder is ``.NAME.tmp-XXXX`` with
    the permissions of a normal new folder (umask, not ``mkdtemp``'s 0700)
    and holds :data:`PARTIAL_MARKER`.

    Args:
        path (str | PathLike): The final output path; its parent is
            created.

    Returns:
        str: The temporary folder.
    """
    final = osp.abspath(os.fspath(path))
    parent, name = osp.split(final)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temps(final)
    tmp = tempfile.mkdtemp(prefix=f'.{name}.tmp-', dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        with open(osp.join(tmp, PARTIAL_MARKER), 'w') as f:
            json.dump(
                dict(host=socket.gethostname(), pid=os.getpid(),
                     target=final), f)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _appeared(final: str) -> OutputPathError:
    return OutputPathError(
        f'{final}: appeared while this output was being written (another '
        'writer finished first); refusing to replace it. This output was '
        'discarded.')


def _merge_dir(tmp: str, final: str) -> None:
    """Move the files of ``tmp`` into the folder ``final``, replacing only
    files of the same names; nothing else in ``final`` is touched."""
    if not osp.isdir(final):
        raise OutputPathError(f'{final}: is not a folder; refusing to '
                              'replace it.')
    names = sorted(os.listdir(tmp))
    for name in names:
        dst = osp.join(final, name)
        if osp.isdir(dst) and not osp.islink(dst):
            raise OutputPathError(f'{dst}: is a folder; refusing to replace '
                                  'it with a file.')
    for name in names:
        os.replace(osp.join(tmp, name), osp.join(final, name))
    os.rmdir(tmp)


def commit_temp_dir(tmp: str, path: PathLike, overwrite: bool = False) -> None:
    """Move a finished temporary folder (:func:`make_temp_dir`) to ``path``.

    When ``path`` does not exist the folder is renamed (atomic); when it is
    an existing folder (empty, or any with ``overwrite``) the files are
    moved into it, replacing only files of the same names. If ``path``
    appears while the output is written (two writers of one path), the
    first rename wins: the second writer merges into it with
    ``overwrite``, and raises :class:`OutputPathError` without it. On any
    error the temporary folder is removed.

    Args:
        tmp (str): The temporary folder.
        path (str | PathLike): The final folder.
        overwrite (bool): Write into a non-empty folder. Default: False.
    """
    final = osp.abspath(os.fspath(path))
    try:
        os.remove(osp.join(tmp, PARTIAL_MARKER))
        if not osp.lexists(final):
            try:
                os.rename(tmp, final)
                return
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY,
                                     errno.ENOTDIR, errno.EISDIR):
                    raise
                if not overwrite:
                    raise _appeared(final) from None
        elif not overwrite and osp.isdir(final) and os.listdir(final):
            raise _appeared(final)
        _merge_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def commit_file(tmp: str, final: str, overwrite: bool) -> None:
    """Move a finished temporary file to ``final``; never onto a folder,
    and onto an existing file only with ``overwrite``."""
    if osp.isdir(final):
        raise OutputPathError(f'{final}: is a folder; a file output never '
                              'replaces a folder.')
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # fails if final exists: no replacement
    except FileExistsError:
        raise _appeared(final) from None
    except OSError:  # no hard links on this file system
        if osp.lexists(final):
            raise _appeared(final) from None
        os.replace(tmp, final)
    else:
        os.remove(tmp)


@contextlib.contextmanager
def atomic_folder(path: PathLike, overwrite: bool = False) -> Iterator[str]:
    """Write a folder under a temporary name, renamed when complete.

    Yields the marked temporary folder (:func:`make_temp_dir`); when the
    block ends without an exception it becomes ``path``
    (:func:`commit_temp_dir`), else it is removed. ``path`` is checked
    first (:func:`check_output_path` with ``kind='folder'``).

    Args:
        path (str | PathLike): The final folder.
        overwrite (bool): Write into a non-empty folder (replacing only the
            files written). Default: False.

    Yields:
        str: The temporary folder to write into.
    """
    check_output_path(path, kind='folder', overwrite=overwrite)
    tmp = make_temp_dir(path)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit_temp_dir(tmp, path, overwrite)


def exit_on_sigterm() -> None:
    """Handle SIGTERM like Ctrl-C: unwind (writers remove their
    temporaries) and exit with status 143 (128 + SIGTERM).

    Call it in a tool's ``main()`` (the main thread). A second SIGTERM
    during the clean-up is ignored so that the clean-up finishes.
    """

    def handler(signum, frame) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('Terminated (SIGTERM): removing partial outputs.',
              file=sys.stderr,
              flush=True)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
