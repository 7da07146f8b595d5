"""The shipped sample ASTF config: what it changes from the paper's."""
import glob
import os.path as osp

from mmengine.config import Config

from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from tests.utils import ROOT


def test_only_the_sample_config_projects_chroma():
    sample = Config.fromfile(osp.join(ROOT, 'configs', SAMPLE_ASTF_CONFIG))
    assert sample.model.chroma_420 is True
    assert sample.model.fusion.sharpen_amount == 0.2
    # the paper's configs keep its pipeline (no projection)
    paper = glob.glob(osp.join(ROOT, 'configs', 'astf', '*fusion*.py'))
    assert paper
    for path in paper:
        assert not Config.fromfile(path).model.get('chroma_420', False), path
