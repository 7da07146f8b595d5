"""Shared fixtures."""
import os
import os.path as osp

import pytest


@pytest.fixture(scope='session')
def real_weights() -> str:
    """The folder of the real pretrained weights (LPIPS trunks, FID
    Inception, LPIPS reference images), filled by
    ``python tools/fetch_weights.py``.

    Missing weights fail the test when ``CI`` is set, and skip it
    otherwise.
    """
    from astf_mm.models import perceptual_nets as weights

    folder = weights.weights_dir()
    names = [
        *weights.BACKBONE_FILES.values(), weights.INCEPTION_FILE,
        weights.REFERENCE_DIR
    ]
    missing = [n for n in names if not osp.exists(osp.join(folder, n))]
    if missing:
        message = (f'pretrained weights missing in {folder} ({missing}): run '
                   f'`{weights.FETCH_COMMAND}` once')
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)
    return folder
