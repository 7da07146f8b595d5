"""A user's config in another folder inherits ours with
``_base_ = 'astf_mm::...'`` (astf_mm.registry and the compat shim
``patch_mmengine_config_scope``)."""
import os.path as osp

from mmengine.config import Config
from mmengine.config import config as mmengine_config
from mmengine.registry import HOOKS, DefaultScope

import astf_mm
from astf_mm import compat
from astf_mm.apis import init_astf_model
from astf_mm.evaluation.table import PerVideoTableHook
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from tests.utils import ROOT, SAMPLE_ASTF


def test_scope_shim_points_at_this_package_only():
    assert compat.patch_mmengine_config_scope() is True
    get_installed_path = mmengine_config.get_installed_path
    assert get_installed_path('astf_mm') == osp.dirname(astf_mm.__file__)
    assert get_installed_path('mmagic') == (
        get_installed_path.original('mmagic'))


def test_user_config_elsewhere_inherits_the_sample_config(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'mine.py').write_text(
        f"_base_ = 'astf_mm::{SAMPLE_ASTF_CONFIG}'\n"
        'model = dict(fusion=dict(sharpen_amount=0.5))\n')
    cfg = Config.fromfile('mine.py')
    ours = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF))
    assert cfg.model._scope_ == 'astf_mm'
    assert cfg.model.fusion.sharpen_amount == 0.5
    assert cfg.model.stage1 == ours.model.stage1
    # data roots stay relative to the working directory
    assert cfg.test_dataloader.dataset.data_root == 'data/sample' == (
        ours.test_dataloader.dataset.data_root)
    # built through the astf_mm scope, which falls through to mmagic's
    model = init_astf_model(cfg)
    assert model.fusion.sharpen_amount == 0.5
    assert [
        getattr(model, name).checkpoint_sha256
        for name in ('stage1', 'enhancenet1', 'enhancenet2')
    ] == [
        ours.model[name].init_cfg.sha256
        for name in ('stage1', 'enhancenet1', 'enhancenet2')
    ]
    with DefaultScope.overwrite_default_scope('mmagic'):
        hook = HOOKS.build(cfg.custom_hooks[0])
    assert cfg.custom_hooks[0]._scope_ == 'astf_mm'
    assert isinstance(hook, PerVideoTableHook)
