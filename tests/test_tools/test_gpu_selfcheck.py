"""tools/gpu_selfcheck.py: on a machine without a CUDA GPU it says so and
does nothing; what it would run on one (the CUDA tests it finds, the
training steps' options, the report) is checked here without a GPU."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from tests.utils import ROOT, load_tool

SCRIPT = osp.join(ROOT, 'tools', 'gpu_selfcheck.py')
DEFAULT_REPORT = osp.join(ROOT, 'benchmarks', 'results', 'gpu_selfcheck.md')


@pytest.fixture
def selfcheck():
    return load_tool('gpu_selfcheck.py')


def snapshot(path: str):
    if not osp.exists(path):
        return None
    with open(path, 'rb') as f:
        return f.read(), os.stat(path).st_mtime_ns


@pytest.mark.skipif(
    torch.cuda.is_available() or shutil.which('nvidia-smi') is not None,
    reason='this machine has a GPU: the self-check would run')
def test_without_gpu_says_so_and_writes_nothing(tmp_path, selfcheck):
    wheels = tmp_path / 'wheels'  # empty: an install attempt would fail
    wheels.mkdir()
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    out = tmp_path / 'report.md'
    before = snapshot(DEFAULT_REPORT)
    proc = subprocess.run(
        [sys.executable, SCRIPT, '--wheels', str(wheels), '--out', str(out)],
        cwd=tmp_path, capture_output=True, text=True,
        env=dict(os.environ, TMPDIR=str(scratch)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == selfcheck.NO_GPU_MESSAGE + '\n'
    assert selfcheck.NO_GPU_MESSAGE.startswith('No CUDA GPU is present')
    assert not out.exists()
    assert snapshot(DEFAULT_REPORT) == before
    assert sorted(os.listdir(tmp_path)) == ['scratch', 'wheels']
    assert os.listdir(scratch) == [] and os.listdir(wheels) == []


def test_finds_the_tests_that_need_cuda(tmp_path, selfcheck):
    folder = tmp_path / 'tests' / 'test_models'
    folder.mkdir(parents=True)
    (folder / 'test_a.py').write_text(
        'import pytest\nimport torch\n\n\n'
        'def test_cpu():\n    pass\n\n\n'
        "@pytest.mark.skipif(not torch.cuda.is_available(), reason='x')\n"
        'def test_gpu_one():\n    pass\n\n\n'
        "@pytest.mark.skipif(torch.cuda.is_available(), reason='cpu only')\n"
        'def test_cpu_only():\n    pass\n\n\n'
        '@pytest.mark.skipif(\n    not torch.cuda.is_available(), '
        "reason='y')\n@pytest.mark.parametrize('n', [1])\n"
        'def test_gpu_two(n):\n    pass\n')
    assert selfcheck.cuda_test_ids(str(tmp_path)) == [
        'tests/test_models/test_a.py::test_gpu_one',
        'tests/test_models/test_a.py::test_gpu_two'
    ]
    # in this repository
    assert ('tests/test_models/test_fusion.py::test_cuda_matches_cpu'
            in selfcheck.cuda_test_ids())


def test_training_steps_need_no_download(selfcheck):
    configs = selfcheck.describe_configs(sys.executable)
    stage1 = 'configs/astf/stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py'
    stage2 = ('configs/astf/'
              'stage2_enhancenet1-lpips_c64b30_8xb4-100k_ldv-qp37.py')
    sample = ('configs/astf/sample/'
              'stage2_enhancenet1-lpips-ps4_c32b6_1xb4-500_corpus-qp37.py')
    # test-only configs (ASTF end to end, the peers) are not trained
    assert configs['configs/astf/astf_fusion_c64b30_ldv-qp37.py'][
        'dataset'] is None
    assert configs['configs/peers/basicvsr-pp_c128n25_ntire-decompress-'
                   'track2_ldv-qp37.py']['dataset'] is None
    assert configs[stage1]['dataset'] == 'PairedFramesDataset'
    options = selfcheck.train_options(configs[stage1], '/w')
    assert 'model.generator.spynet_pretrained=None' in options  # a URL
    assert 'model.generator.init_cfg=None' not in options
    assert 'train_cfg.max_iters=1' in options and 'work_dir=/w' in options
    # LDV stage 2 starts from a stage 1 that is not on disk: random start
    assert 'model.generator.init_cfg=None' in selfcheck.train_options(
        configs[stage2], '/w')
    # the sample stage 2 starts from the shipped stage 1
    assert 'model.generator.init_cfg=None' not in selfcheck.train_options(
        configs[sample], '/w')


def test_report_shows_failures_and_benchmarks(selfcheck):
    text = selfcheck.report_markdown([
        dict(name='a', status='passed', seconds=1.2, tail=['x']),
        dict(name='b', status='failed (exit 1)', seconds=3, tail=['boom']),
        dict(name='c', status='passed', seconds=0, tail=[],
             report='# Bench\n\n| r |\n'),
    ], 480, 5)
    assert '| a | passed | 1 |\n| b | failed (exit 1) | 3 |' in text
    assert '### b: last lines\n\n```\nboom\n```' in text
    assert '## Report of c\n\n## Bench\n\n| r |' in text
    assert '\nx\n' not in text  # a passed step's output is left out
