"""The wheel: what it carries, and the package installed from it used from
a folder outside the repository (issue 13, sec. 1).

The wheel is built from a copy of the source in a temporary folder (the
build writes build/ and *.egg-info beside its input), then installed with
``pip install --target``; the commands run with ``PYTHONPATH`` set to that
folder, so they import the installed copy, not the checkout.
"""
import glob
import hashlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from astf_mm.cli import COMMANDS
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from tests.utils import ROOT

SAMPLE = SAMPLE_ASTF_CONFIG
NETWORKS = ('stage1', 'enhancenet1', 'enhancenet2')


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('packaging')
    src = tmp / 'src'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    src.mkdir()
    for name in ('pyproject.toml', 'setup.cfg', 'README.md'):
        shutil.copy(osp.join(ROOT, name), src / name)
    for name in ('astf_mm', 'configs', 'tools', 'checkpoints/sample'):
        shutil.copytree(
            osp.join(ROOT, name), src / name, symlinks=True, ignore=ignore)
    _run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w',
        str(tmp / 'dist'),
        str(src)
    ])
    wheel, = glob.glob(str(tmp / 'dist' / 'astf_mm-*.whl'))
    site = tmp / 'site'
    _run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
        '-q', '--target',
        str(site), wheel
    ])
    elsewhere = tmp / 'elsewhere'
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    return dict(wheel=wheel, site=str(site), cwd=str(elsewhere), env=env)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_wheel_carries_configs_tools_and_sample_checkpoints(installed):
    with zipfile.ZipFile(installed['wheel']) as wheel:
        names = set(wheel.namelist())
        repo = {
            path: f'astf_mm/.mim/{osp.relpath(path, ROOT)}'
            for pattern in ('configs/**/*.py', 'configs/**/metafile.yml',
                            'configs/**/README.md', 'tools/**/*.py',
                            'checkpoints/sample/*.pth')
            for path in glob.glob(osp.join(ROOT, pattern), recursive=True)
        }
        assert sum(path.endswith('.pth') for path in repo) == 4
        assert f'astf_mm/.mim/configs/{SAMPLE}' in repo.values()
        assert sorted(set(repo.values()) - names) == []
        for path, name in repo.items():
            with open(path, 'rb') as f:
                assert wheel.read(name) == f.read(), name
        assert 'astf_mm/.mim/model-index.yml' in names
        scripts = wheel.read(
            next(n for n in names if n.endswith('entry_points.txt')))
    for command in COMMANDS:
        assert f'{command} = astf_mm.cli:' in scripts.decode()


def test_installed_package_builds_the_sample_model_elsewhere(installed):
    """From another folder: the shipped config by its relative path and a
    user's config inheriting it by ``astf_mm::``, their checkpoints found
    in the installed package and their sha256 pins checked."""
    program = f'''
import json
from mmengine.config import Config
import astf_mm
from astf_mm.apis import init_astf_model
from astf_mm.utils.shipped_files import resolve_shipped
with open('mine.py', 'w') as f:
    f.write("_base_ = 'astf_mm::{SAMPLE}'\\n")
models = [init_astf_model(c) for c in ('configs/{SAMPLE}', 'mine.py')]
print(json.dumps(dict(
    package=astf_mm.__file__,
    scope=Config.fromfile('mine.py').model._scope_,
    digests=[[getattr(m, n).checkpoint_sha256 for n in {NETWORKS}]
             for m in models],
    checkpoint=resolve_shipped(
        Config.fromfile('mine.py').model.enhancenet1.init_cfg.checkpoint))))
'''
    out = _run([sys.executable, '-c', program],
               cwd=installed['cwd'],
               env=installed['env']).stdout
    found = json.loads(out.splitlines()[-1])
    site = installed['site']
    assert found['package'] == osp.join(site, 'astf_mm', '__init__.py')
    assert found['scope'] == 'astf_mm'
    pins = []
    with open(osp.join(ROOT, 'configs', SAMPLE)) as f:
        for line in f:
            if 'sha256=' in line:
                pins.append(line.split("'")[1])
    assert found['digests'] == [pins, pins]
    shipped = osp.join(
        site, 'astf_mm', '.mim', 'checkpoints', 'sample',
        'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_corpus-qp37.pth')
    assert found['checkpoint'] == shipped
    with open(shipped, 'rb') as f:
        assert _sha256(f.read()) == pins[1]


def test_console_command_of_the_installed_package(installed):
    result = _run([osp.join(installed['site'], 'bin', 'astf-enhance'),
                   '--help'],
                  cwd=installed['cwd'],
                  env=installed['env'])
    assert result.stdout.startswith('usage: enhance_video.py')
