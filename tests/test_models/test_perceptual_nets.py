"""Resolution and loading of the LPIPS trunks and the FID Inception,
and proof that the cached trunks are the real ones."""
import hashlib
import json
import os.path as osp
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from astf_mm.models import perceptual_nets as nets
from astf_mm.utils.cache_dir import CACHE_ENV
from tests.utils import load_tool

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


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'cache'))
    return tmp_path / 'cache'


def test_weights_dir_follows_the_cache(empty_cache, tmp_path):
    assert nets.weights_dir() == osp.join(str(empty_cache), 'weights')
    assert nets.weights_dir(str(tmp_path)) == str(tmp_path / 'weights')


def test_resolve_backbone_order(empty_cache, tmp_path):
    # nothing local: None means "torchvision's standard download"
    assert nets.resolve_backbone('alex') is None
    cached = Path(nets.weights_dir()) / nets.BACKBONE_FILES['vgg']
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b'x')
    assert nets.resolve_backbone('vgg16') == str(cached)
    given = tmp_path / 'mine.pth'
    given.write_bytes(b'x')
    # a given path wins over the cache
    assert nets.resolve_backbone('vgg', str(given)) == str(given)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        nets.resolve_backbone('vgg', str(tmp_path / 'nope.pth'))
    with pytest.raises(ValueError, match='squeeze'):
        nets.resolve_backbone('squeeze')


def test_random_backbone_only_when_asked():
    model = nets.build_lpips('alex', pretrained_backbone=False)
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
        nets.build_lpips('alex')


def test_inception_missing_names_the_command(empty_cache, tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/fetch_weights.py'):
        nets.load_inception()
    with pytest.raises(FileNotFoundError, match='absent.pt'):
        nets.load_inception(str(tmp_path / 'absent.pt'))


def test_features_load_into_lpips_by_index():
    model = nets.build_lpips('alex', pretrained_backbone=False)
    rng = np.random.default_rng(1)
    features = load_tool('fetch_weights.py').torchvision_features('alex')
    state = {
        k: torch.from_numpy(rng.standard_normal(tuple(v.shape)).astype(
            np.float32))
        for k, v in features.state_dict().items()
    }
    nets.load_features_into_lpips(model, state, 'f.pth')
    assert torch.equal(
        getattr(model.net.slice2, '3').weight, state['3.weight'])
    assert torch.equal(getattr(model.net.slice5, '10').bias, state['10.bias'])
    del state['6.bias']
    with pytest.raises(RuntimeError, match="f.pth lacks '6.bias'"):
        nets.load_features_into_lpips(model, state, 'f.pth')


# ---------------------------------------------------------------------------
# the real cache (tools/fetch_weights.py must have run)


def read_rgb(path):
    image = np.asarray(Image.open(path).convert('RGB'), np.float32) / 255
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None]


def test_lpips_alex_reproduces_published_distances(real_weights):
    """The converted AlexNet trunk gives the original implementation's
    LPIPS to 4 decimals; another trunk could not (a random one is shown
    for contrast)."""
    real = nets.build_lpips('alex')
    ref_dir = osp.join(real_weights, nets.REFERENCE_DIR)
    with torch.no_grad():
        for name, published in PUBLISHED_LPIPS_ALEX.items():
            ref = read_rgb(osp.join(ref_dir, 'ref', f'{name}.bmp'))
            dist = read_rgb(osp.join(ref_dir, 'dist', f'{name}.bmp'))
            value = real(dist, ref, normalize=True).item()
            assert value == pytest.approx(published, abs=5e-4), name
        random = nets.build_lpips('alex', pretrained_backbone=False)
        value = random(dist, ref, normalize=True).item()
    assert abs(value - PUBLISHED_LPIPS_ALEX['I19']) > 0.01


def test_cached_files_match_manifest_and_torchvision(real_weights):
    tool = load_tool('fetch_weights.py')
    with open(osp.join(real_weights, tool.MANIFEST_NAME)) as f:
        manifest = json.load(f)['files']
    for net in ('alex', 'vgg'):
        path = osp.join(real_weights, nets.BACKBONE_FILES[net])
        with open(path, 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert digest == manifest[nets.BACKBONE_FILES[net]]['sha256']
        state = nets.load_backbone_file(path)
        tool.torchvision_features(net).load_state_dict(state, strict=True)
    model = nets.build_lpips('vgg')
    assert not model.training and not model.pnet_rand
    assert all(not p.requires_grad for p in model.parameters())


def test_inception_gives_2048_features(real_weights):
    model = nets.load_inception()
    assert not model.training
    with torch.no_grad():
        feats = model(torch.zeros(1, 3, 299, 299))
    assert feats.shape == (1, 2048)
    assert all(not p.requires_grad for p in model.parameters())
