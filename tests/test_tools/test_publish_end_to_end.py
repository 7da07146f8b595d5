"""mmagic's own tools/test.py on an end-to-end ASTF config: it demands a
positional checkpoint; ``publish_checkpoint.py --end-to-end`` writes one
whose keys match the model, so the run loads it without a wall of
missing/unexpected keys (and writes the image strips)."""
import glob
import hashlib
import json
import os.path as osp
import subprocess
import sys

import mmagic
import torch

from astf_mm.apis import init_astf_model
from tests.utils import ROOT, make_tiny_astf, run_tool

MMAGIC_TEST = osp.join(osp.dirname(mmagic.__file__), '.mim', 'tools',
                       'test.py')


def run(args, **kwargs):
    return subprocess.run([sys.executable] + args,
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          **kwargs)


def test_mmagic_test_tool_loads_the_end_to_end_checkpoint(tmp_path):
    setup = make_tiny_astf(tmp_path)
    config = tmp_path / 'psnr_only.py'  # no LPIPS/FID weights needed
    config.write_text(
        f"_base_ = '{setup['config']}'\n"
        "test_evaluator = dict(_delete_=True, type='Evaluator', "
        "metrics=[dict(type='PSNR')])\n"
        'custom_hooks = []\n')
    ckpt = tmp_path / 'astf_e2e.pth'
    proc = run([
        'tools/publish_checkpoint.py', '--end-to-end',
        str(config),
        str(ckpt)
    ])
    assert proc.returncode == 0, proc.stderr[-2000:]
    # every key of the model, the same tensors
    model = init_astf_model(str(config))
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    expected = model.state_dict()
    assert list(state) == list(expected)
    assert all(torch.equal(state[k], expected[k]) for k in expected)
    # an existing checkpoint is not replaced
    before = ckpt.read_bytes()
    again = run([
        'tools/publish_checkpoint.py', '--end-to-end',
        str(config),
        str(ckpt)
    ])
    assert again.returncode == 1
    assert 'exists; refusing to replace it' in again.stderr
    assert ckpt.read_bytes() == before

    out = tmp_path / 'metrics.json'
    work = tmp_path / 'work'
    proc = run([
        MMAGIC_TEST,
        str(config),
        str(ckpt), '--work-dir',
        str(work), '--out',
        str(out)
    ])
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'Load checkpoint from {ckpt}' in log
    assert 'do not match' not in log and 'missing keys' not in log
    assert set(json.loads(out.read_text())) == {'PSNR'}
    strips = glob.glob(str(work / '*' / 'vis_data' / 'vis_image' / '*.png'))
    assert sorted(osp.basename(s) for s in strips) == ['c_0.png', 'd_0.png']


def test_publish_never_replaces_a_pinned_checkpoint(tmp_path):
    # a training checkpoint with generator weights (and others to drop)
    src = tmp_path / 'iter_10.pth'
    torch.save(
        dict(
            state_dict={
                'generator.conv.weight': torch.ones(2, 2),
                'discriminator.w': torch.zeros(1)
            },
            meta=dict(iter=10)), src)
    dst = tmp_path / 'released.pth'
    proc = run(['tools/publish_checkpoint.py', str(src), str(dst)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    released = torch.load(dst, map_location='cpu')
    assert list(released['state_dict']) == ['generator.conv.weight']
    assert released['meta'] == dict(iter=10, source='iter_10.pth')
    before = dst.read_bytes()
    # the command line once (above); the refusal and --overwrite in this
    # process (faster)
    again = run_tool('publish_checkpoint.py', src, dst)
    assert again.returncode == 1
    assert 'exists; refusing to replace it' in again.stderr
    assert dst.read_bytes() == before
    forced = run_tool('publish_checkpoint.py', src, dst, '--overwrite')
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert forced.stdout.strip() == hashlib.sha256(
        dst.read_bytes()).hexdigest()
    # the same weights give the same file wherever they are written (a
    # pinned sha256 can be reproduced by retracing the README's steps)
    elsewhere = tmp_path / 'sub' / 'other_name.pth'
    assert run_tool('publish_checkpoint.py', src, elsewhere).returncode == 0
    assert elsewhere.read_bytes() == dst.read_bytes() == before
