import subprocess
import sys
import warnings

from astf_mm.utils.third_party_warnings import quiet_third_party_warnings
from tests.utils import ROOT

DIFFUSERS = ('`UNet2DConditionOutput` is deprecated and will be removed in '
             'version 0.29. Importing ...')
PKG_RESOURCES = ('pkg_resources is deprecated as an API. See https://'
                 'setuptools.pypa.io/en/latest/pkg_resources.html.')


def emit(message: str, category: type, module: str) -> None:
    warnings.warn_explicit(message, category, module + '.py', 1,
                           module=module, registry={})


def shown(fn) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        fn()
    return [(w.category.__name__, str(w.message)[:20]) for w in caught]


def test_only_the_known_warnings_are_hidden_and_only_inside():

    def every_kind():
        emit(DIFFUSERS, FutureWarning, 'diffusers.models.unet_2d_condition')
        emit(PKG_RESOURCES, UserWarning, 'mmengine.utils.package_utils')
        emit(PKG_RESOURCES, UserWarning, 'importlib')
        # the same texts from elsewhere, and other warnings, still show
        emit(DIFFUSERS, FutureWarning, 'astf_mm.models')
        emit(PKG_RESOURCES, UserWarning, 'mypackage')
        emit('diffusers: something else', FutureWarning, 'diffusers')
        emit(DIFFUSERS, DeprecationWarning, 'diffusers')

    def quiet():
        with quiet_third_party_warnings():
            every_kind()

    assert shown(quiet) == [('FutureWarning', DIFFUSERS[:20]),
                            ('UserWarning', PKG_RESOURCES[:20]),
                            ('FutureWarning', 'diffusers: something'),
                            ('DeprecationWarning', DIFFUSERS[:20])]
    # outside the block (after it): all seven
    assert len(shown(every_kind)) == 7


def test_importing_the_package_shows_no_known_warning():
    # a fresh interpreter: the warnings come once, at mmagic's import
    proc = subprocess.run(
        [sys.executable, '-W', 'default', '-c', 'import astf_mm'],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert 'is deprecated and will be removed' not in proc.stderr
    assert 'pkg_resources' not in proc.stderr
    # the control: the same import with the filters disabled shows them
    proc = subprocess.run([
        sys.executable, '-W', 'default', '-c',
        'import warnings; warnings.filterwarnings = lambda *a, **k: None; '
        'import astf_mm'
    ], cwd=ROOT, capture_output=True, text=True, check=True)
    assert 'FutureWarning: `UNet2DConditionOutput` is deprecated' in (
        proc.stderr)
