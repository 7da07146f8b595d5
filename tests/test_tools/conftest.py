"""Fixtures of the tool tests."""
import pytest

from tests.utils import make_tiny_astf


@pytest.fixture(scope='module')
def tiny_setup(tmp_path_factory):
    """Tiny networks and data for the end-to-end tools (see make_tiny_astf)."""
    return make_tiny_astf(tmp_path_factory.mktemp('astf'))
