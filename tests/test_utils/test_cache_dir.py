"""The cache folder lookup."""
import os.path as osp

from astf_mm.utils.cache_dir import CACHE_ENV, default_cache_dir


def test_cache_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'cache'))
    assert default_cache_dir() == str(tmp_path / 'cache')
    monkeypatch.setenv(CACHE_ENV, osp.join('~', 'c'))
    assert default_cache_dir() == osp.join(osp.expanduser('~'), 'c')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, 'relative')
    assert default_cache_dir() == str(tmp_path / 'relative')
    monkeypatch.delenv(CACHE_ENV)
    assert default_cache_dir() == osp.expanduser(
        osp.join('~', '.cache', 'astf_mm'))
    monkeypatch.setenv(CACHE_ENV, '')  # empty means unset
    assert default_cache_dir() == osp.expanduser(
        osp.join('~', '.cache', 'astf_mm'))
