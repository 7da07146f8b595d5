"""The model zoo's metafile: what mim and mmengine read of it is true."""
import glob
import os.path as osp
import re

from mmengine.config import Config
from mmengine.fileio import load
from mmengine.hub import get_config

from astf_mm.utils.checksum import sha256_of
from astf_mm.utils.shipped_files import (SAMPLE_ASTF_CONFIG, SHIPPED_ROOT,
                                         resolve_shipped)
from tests.utils import ROOT

METAFILE = 'configs/astf/metafile.yml'
HELDOUT = 'benchmarks/results/astf_sample_heldout.md'
#: metafile model -> its row in the held-out table
HELDOUT_ROWS = {
    'astf_fusion-ps4_c32b6_corpus-qp37': 'fuse+sharp',
    'stage1_enhancenet-ps4_c32b6_1xb4-20k_corpus-qp37': 'stage-1',
    'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_1xb4-500_corpus-qp37':
    'lpips',
    'stage2_enhancenet2-tradeoff-blockmean-ps4_c32b6_1xb4-500_corpus-qp37':
    'cb+lpips',
}


def models() -> dict:
    listed = load(osp.join(ROOT, METAFILE))['Models']
    by_name = {m['Name']: m for m in listed}
    # names are unique: mmengine keys its lookup by them
    assert len(by_name) == len(listed)
    return by_name


def test_model_index_imports_the_metafile():
    index = load(osp.join(SHIPPED_ROOT, 'model-index.yml'))
    assert index['Import'] == [METAFILE]
    # read through the package's .mim/ as an installed package is
    assert osp.isfile(osp.join(SHIPPED_ROOT, METAFILE))


def test_listed_configs_exist_and_are_named_by_their_files():
    listed = models()
    for name, model in listed.items():
        assert model['In Collection'] == 'ASTF'
        assert osp.basename(model['Config']) == name + '.py'
        Config.fromfile(osp.join(ROOT, model['Config']))
    # the shipped sample models and every paper-scale (LDV) config
    ldv = glob.glob(osp.join(ROOT, 'configs', 'astf', '*_ldv-qp37.py'))
    assert len(ldv) == 9
    assert {osp.basename(p)[:-3] for p in ldv} | set(HELDOUT_ROWS) == set(
        listed)


def test_weights_are_the_pinned_shipped_checkpoints():
    pins = {}
    for init in Config.fromfile(
            osp.join(ROOT, 'configs', SAMPLE_ASTF_CONFIG)).model.values():
        if isinstance(init, dict) and 'init_cfg' in init:
            pins[init.init_cfg.checkpoint] = init.init_cfg.sha256
    weights = [m['Weights'] for m in models().values() if 'Weights' in m]
    assert sorted(weights) == sorted(pins)
    for path in weights:
        assert sha256_of(resolve_shipped(path)) == pins[path]


def heldout_averages() -> dict:
    with open(osp.join(ROOT, HELDOUT)) as f:
        text = f.read().split('### Average over videos', 1)[1]
    rows = {}
    for line in text.split('###', 1)[0].splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if len(cells) == 7 and re.fullmatch(r'[\d.]+', cells[1]):
            rows[cells[0]] = [float(c) for c in cells[1:5]]
    return rows


def test_results_are_the_committed_heldout_evaluation():
    rows = heldout_averages()
    assert len(rows) == 6
    listed = models()
    for name, row in HELDOUT_ROWS.items():
        metrics, = [r['Metrics'] for r in listed[name]['Results']]
        assert [
            metrics['PSNR (RGB)'], metrics['SSIM (RGB)'],
            metrics['LPIPS (alex)'], metrics['FID']
        ] == rows[row], name


def test_mmengine_get_config_finds_config_and_weights():
    name = 'stage2_enhancenet1-lpips-lowpass-ps4_c32b6_1xb4-500_corpus-qp37'
    cfg = get_config(f'astf_mm::astf/sample/{name}.py', pretrained=True)
    assert cfg.experiment_name == name
    assert cfg.model_path == models()[name]['Weights']
    assert osp.isfile(resolve_shipped(cfg.model_path))
