"""``tools/dist_test.sh`` on the end-to-end ASTF model (every network
frozen): 2 CPU processes (gloo) give the single process's metrics and
per-video table."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from astf_mm.engine import FrozenModelWrapper
from astf_mm.utils.launch import setup_cpu_distributed
from tests.utils import (ROOT, SAMPLE_ASTF, TINY_ENHANCENET,
                         make_frames_dataset, save_tiny_checkpoint)


def tiny_astf_config(tmp):
    # three videos on two processes: the sampler pads rank 1 with a
    # repeat of the first video, which the evaluator must drop
    data_root = make_frames_dataset(
        tmp / 'data', {'val': ['c', 'd', 'e']}, num_frames=3, size=(48, 56))
    ckpts = [save_tiny_checkpoint(tmp / f'n{i}.pth', i) for i in range(3)]
    specs = ',\n'.join(
        f"    {name}=dict(_delete_=True, **{TINY_ENHANCENET!r}, "
        f"init_cfg=dict(type='CheckedPretrained', checkpoint='{ckpt}'))"
        for name, ckpt in zip(('stage1', 'enhancenet1', 'enhancenet2'), ckpts))
    config = tmp / 'astf_tiny.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_ASTF)}'\n"
        f'model = dict(\n{specs})\n'
        f"test_dataloader = dict(dataset=dict(data_root='{data_root}'))\n")
    return config


def run_test(command, work):
    # one thread per process in both runs (torchrun's default), so that
    # both compute with the same kernels
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable,
               PORT='29531')
    proc = subprocess.run(
        command + ['--work-dir', str(work), '--out', str(work / 'm.json')],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = glob.glob(str(work / '*' / 'astf_table.json'))
    log = glob.glob(str(work / '*' / '*.log'))
    assert len(table) == 1 and len(log) == 1
    return (json.load(open(work / 'm.json')), json.load(open(table[0])),
            open(log[0]).read(), proc)


def test_two_process_test_equals_one_process(tmp_path, real_weights):
    config = str(tiny_astf_config(tmp_path))
    single = run_test([sys.executable, 'tools/test.py', config],
                      tmp_path / 'single')
    dist = run_test(['bash', 'tools/dist_test.sh', config, '', '2'],
                    tmp_path / 'dist')
    metrics, table, log, proc = dist
    assert 'Distributed launcher: none' in single[2]
    assert 'Distributed launcher: pytorch' in log
    assert "backend='gloo'" in log
    assert 'DistributedDataParallel' not in proc.stderr
    assert metrics == single[0]
    assert table == single[1]
    assert set(table['lq']['PSNR']) == {'c', 'd', 'e'}
    assert len(metrics) == 6 * 6  # rows x metrics


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='the CPU (gloo) set-up only')
def test_frozen_wrapper_chosen_for_cpu_launch():
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF))
    assert cfg.model_wrapper_cfg == dict(type='FrozenModelWrapper')
    # no device_ids (DDP's argument) added for a non-DDP wrapper
    cfg.launcher = 'pytorch'
    env = dict(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT='29533', LOCAL_RANK='0')
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert setup_cpu_distributed(cfg)
    finally:
        import torch.distributed as dist
        if dist.is_initialized():
            dist.destroy_process_group()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    assert cfg.model_wrapper_cfg == dict(type='FrozenModelWrapper')


def test_frozen_wrapper_refuses_trainable_model():
    import torch.nn as nn
    with pytest.raises(ValueError, match='1 .*weight.*model_wrapper_cfg'):
        FrozenModelWrapper(nn.Conv2d(1, 1, 1, bias=False))
    frozen = nn.Conv2d(1, 1, 1).requires_grad_(False)
    wrapper = FrozenModelWrapper(frozen)
    assert wrapper.module is frozen
    with pytest.raises(RuntimeError, match='cannot train'):
        wrapper.train_step({}, None)
