import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from tests.utils import SAMPLE_STAGE1, make_frames_dataset, tiny_overrides

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build_runner(tmp_path, **extra) -> Runner:
    data_root = make_frames_dataset(tmp_path / 'data')
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_STAGE1))
    options = tiny_overrides(data_root, tmp_path / 'work')
    options.update(extra)
    cfg.merge_from_dict(options)
    cfg.launcher = 'none'
    return Runner.from_cfg(cfg)


def generator_state(runner):
    return {
        k: v.clone()
        for k, v in runner.model.generator.state_dict().items()
    }


def test_train_step_changes_weights_and_val_reports_psnr(tmp_path):
    # SPyNet is frozen for fix_iter steps (100 in the sample config), then
    # trains with the rest
    runner = build_runner(tmp_path, **{'model.train_cfg.fix_iter': 1})
    before = generator_state(runner)
    runner.train()
    after = generator_state(runner)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert any(k.startswith('conv_last') for k in changed)
    assert any(k.startswith('spynet') for k in changed)
    scalars = runner.message_hub.log_scalars
    psnr = scalars['val/PSNR'].current()
    # noisy inputs (sigma 8) are at ~30 dB; an almost-identity net stays
    # close to them after two steps
    assert 25 < psnr < 40
    assert 0 < scalars['val/SSIM'].current() <= 1
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')


def test_resume_continues_iteration_count(tmp_path):
    runner = build_runner(tmp_path)
    runner.train()
    resumed = build_runner(
        tmp_path, **{
            'train_cfg.max_iters': 3,
            'param_scheduler.periods': [3],
            'resume': True,
        })
    resumed.train()
    assert resumed.iter == 3
    log = sorted(glob.glob(str(tmp_path / 'work' / '*' / '*.log')))[-1]
    text = open(log).read()
    assert 'Auto resumed from the latest checkpoint' in text
    assert 'resumed epoch: 0, iter: 2' in text


def test_test_with_checkpoint_reproduces_val_psnr(tmp_path):
    runner = build_runner(tmp_path)
    runner.train()
    val_psnr = runner.message_hub.log_scalars['val/PSNR'].current()
    out = tmp_path / 'metrics.json'
    subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools/test.py'),
        osp.join(ROOT, SAMPLE_STAGE1),
        str(tmp_path / 'work' / 'iter_2.pth'), '--out',
        str(out), '--cfg-options'
    ] + [
        f'{k}={v}' for k, v in tiny_overrides(
            tmp_path / 'data', tmp_path / 'test_work').items()
    ],
                   check=True,
                   cwd=ROOT,
                   capture_output=True)
    import json
    metrics = json.load(open(out))
    assert metrics['PSNR'] == pytest.approx(val_psnr, abs=1e-4)


def test_two_process_cpu_training_keeps_ranks_identical(tmp_path):
    data_root = make_frames_dataset(tmp_path / 'data')
    # a child config adds the probe hook (--cfg-options cannot build dicts)
    config = tmp_path / 'dist_probe_config.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        "custom_imports = dict(imports=['astf_mm', 'tests._dist_probe'])\n"
        "custom_hooks = [dict(type='RankWeightsDigestHook')]\n")
    options = tiny_overrides(data_root, tmp_path / 'work')
    options['train_dataloader.batch_size'] = 1
    args = [f'{k}={v}' for k, v in options.items()]
    env = dict(os.environ, PYTHON=sys.executable, PORT='29517')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(config), '2', '--cfg-options'] +
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [
        open(tmp_path / 'work' / f'rank{r}.digest').read() for r in (0, 1)
    ]
    assert digests[0] == digests[1]
    log = open(sorted(glob.glob(str(tmp_path / 'work' / '*' /
                                    '*.log')))[-1]).read()
    assert 'Distributed training: True' in log
    assert "dist_cfg=dict(backend='gloo')" in log
