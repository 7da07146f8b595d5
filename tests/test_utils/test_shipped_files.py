"""The lookup rule of the shipped configs and checkpoints, from a folder
outside the repository (pytest's tmp_path)."""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from astf_mm.models import EnhanceNet
from astf_mm.utils.checkpoint import load_checked_state_dict
from astf_mm.utils.checksum import sha256_of
from astf_mm.utils.shipped_files import (SHIPPED_ROOT, resolve_config,
                                         resolve_shipped, shipped_path)
from tests.utils import ROOT, SAMPLE_ASTF

STAGE1 = 'checkpoints/sample/stage1_enhancenet-ps4_c32b6_corpus-qp37.pth'
SPYNET = 'checkpoints/sample/spynet_synthetic-motion_sample.pth'


def test_in_a_checkout_the_shipped_files_are_the_repositorys():
    for folder in ('configs', 'tools', 'checkpoints/sample'):
        assert osp.samefile(shipped_path(folder), osp.join(ROOT, folder))


def test_a_path_missing_here_is_found_among_the_shipped_files(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_shipped(STAGE1) == osp.join(SHIPPED_ROOT, STAGE1)
    assert resolve_shipped('./' + STAGE1) == osp.join(SHIPPED_ROOT, STAGE1)
    assert resolve_config(SAMPLE_ASTF) == osp.join(SHIPPED_ROOT, SAMPLE_ASTF)


def test_a_path_under_the_working_directory_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs('checkpoints/sample')
    with open(STAGE1, 'wb') as f:
        f.write(b'mine')
    assert resolve_shipped(STAGE1) == STAGE1


@pytest.mark.parametrize('path', [
    None, '', 'checkpoints/sample/none.pth', '../checkpoints/sample/x.pth',
    '/abs/checkpoints/sample/x.pth', 'https://host/checkpoints/sample/x.pth'
])
def test_other_paths_are_kept_as_written(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    assert resolve_shipped(path) == path


def test_shipped_path_stays_inside_the_package():
    with pytest.raises(ValueError, match='is not a path inside the package'):
        shipped_path('../../x.py')
    with pytest.raises(ValueError, match='is not a path inside the package'):
        shipped_path('/etc/passwd')


def test_scoped_config_names_a_shipped_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = 'astf/sample/astf_fusion-ps4_c32b6_corpus-qp37.py'
    assert resolve_config('astf_mm::' + name) == osp.join(
        SHIPPED_ROOT, 'configs', name)
    with pytest.raises(FileNotFoundError) as err:
        resolve_config('astf_mm::astf/none.py')
    assert str(err.value).startswith(
        'astf_mm::astf/none.py: no such config in the package (')


def test_checked_checkpoint_loads_from_any_folder(tmp_path, monkeypatch):
    """The sample config's relative checkpoint, its sha256 pin checked."""
    pin = Config.fromfile(osp.join(ROOT,
                                   SAMPLE_ASTF)).model.stage1.init_cfg.sha256
    monkeypatch.chdir(tmp_path)
    state, digest = load_checked_state_dict(STAGE1, pin, name='stage1')
    assert digest == pin == sha256_of(osp.join(ROOT, STAGE1))
    assert state['conv_last.weight'].shape == (3, 32, 3, 3)
    with pytest.raises(FileNotFoundError,
                       match='stage1: Checkpoint checkpoints/x.pth does not'):
        load_checked_state_dict('checkpoints/x.pth', name='stage1')


def test_spynet_and_pretrained_paths_load_from_any_folder(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = EnhanceNet(mid_channels=16, num_blocks=2, spynet_pretrained=SPYNET)
    spynet = torch.load(osp.join(ROOT, SPYNET), weights_only=True)
    spynet = spynet.get('state_dict', spynet)
    key = next(k for k in net.spynet.state_dict() if k.endswith('weight'))
    assert torch.equal(net.spynet.state_dict()[key],
                       spynet[next(k for k in spynet if k.endswith(key))])
    # mmengine's Pretrained initializer opens the path it is given (the
    # network as the sample config builds it: a shape mismatch is skipped)
    shipped = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF)).model.stage1
    net = EnhanceNet(
        **{k: v
           for k, v in shipped.items() if k not in ('type', 'init_cfg')},
        init_cfg=dict(type='Pretrained', checkpoint=STAGE1,
                      prefix='generator.'))
    assert net.init_cfg['checkpoint'] == osp.join(SHIPPED_ROOT, STAGE1)
    net.init_weights()
    stage1, _ = load_checked_state_dict(osp.join(ROOT, STAGE1))
    assert torch.equal(net.conv_last.weight, stage1['conv_last.weight'])
