"""``mmagic.apis`` imports without its optional text-to-image packages
(``astf_mm.compat.patch_missing_controlnet_aux``)."""
import subprocess
import sys

import pytest

from astf_mm import compat

# A child process: the shim acts at import time, on a fresh sys.modules.
CHILD = '''
import importlib.util, sys
real_find_spec = importlib.util.find_spec
importlib.util.find_spec = (
    lambda name, *a: None if name == 'controlnet_aux'
    else real_find_spec(name, *a))
sys.modules.pop('controlnet_aux', None)
import astf_mm
from astf_mm import compat
assert isinstance(sys.modules['controlnet_aux'],
                  compat._MissingOptionalModule)
import mmagic.apis
from mmagic.apis import MMagicInferencer, init_model
from controlnet_aux import HEDdetector
try:
    HEDdetector.from_pretrained('lllyasviel/Annotators')
except ImportError as err:
    print('REFUSED:', err)
'''


def test_mmagic_apis_imports_without_controlnet_aux():
    result = subprocess.run([sys.executable, '-W', 'ignore', '-c', CHILD],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ('REFUSED: controlnet_aux.HEDdetector is needed, but '
            'controlnet_aux is not installed: pip install controlnet-aux'
            ) in result.stdout


def test_shim_stays_off_when_the_package_is_installed(monkeypatch):
    installed = object()
    monkeypatch.setitem(sys.modules, 'controlnet_aux', installed)
    assert compat.patch_missing_controlnet_aux() is False
    assert sys.modules['controlnet_aux'] is installed


def test_stand_in_refuses_use_with_the_install_hint():
    module = compat._MissingOptionalModule('some_pkg', 'pip install x')
    with pytest.raises(ImportError, match='some_pkg.Thing is needed.*pip'):
        module.Thing()
    with pytest.raises(AttributeError):
        module.__wrapped__
