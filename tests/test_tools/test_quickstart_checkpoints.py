"""``tools/quickstart.sh --checkpoints S1 E1 E2``: the tools/test.py step
runs the sample config on the user's checkpoints, whose sha256 differ
from the config's pins.

The whole script installs packages and enhances the demo clip; this test
runs the script's own code that builds the tools/test.py options, then
tools/test.py with them, on user checkpoints of the sample networks."""
import os.path as osp
import subprocess
import sys

import torch

from astf_mm.utils.checksum import sha256_of
from tests.utils import ROOT, SAMPLE_ASTF, make_frames_dataset

NETWORKS = ('stage1', 'enhancenet1', 'enhancenet2')


def quickstart_test_options(checkpoints):
    """The ``TEST_OPTS`` tools/quickstart.sh builds for ``--checkpoints``."""
    script = open(osp.join(ROOT, 'tools', 'quickstart.sh')).read()
    start = script.index('TEST_OPTS=()')
    end = script.index('\nfi\n', start) + len('\nfi\n')
    program = ('CHECKPOINTS=("$1" "$2" "$3")\n' + script[start:end] +
               'printf "%s\\0" "${TEST_OPTS[@]}"\n')
    out = subprocess.run(['bash', '-c', program, 'bash', *checkpoints],
                         check=True,
                         capture_output=True).stdout
    return out.decode().split('\0')[:-1]


def user_checkpoints(tmp_path):
    """Checkpoints of the sample networks that are not the shipped files
    (as if the user had trained them)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, SAMPLE_ASTF))
    paths = []
    for name in NETWORKS:
        state = torch.load(
            osp.join(ROOT, cfg.model[name].init_cfg.checkpoint),
            map_location='cpu',
            weights_only=False)
        state['meta'] = dict(state.get('meta', {}), note='user trained')
        path = tmp_path / f'my_{name}.pth'
        torch.save(state, path)
        assert sha256_of(path) != cfg.model[name].init_cfg.sha256
        paths.append(str(path))
    return paths


def run_test(options, tmp_path, work):
    root = make_frames_dataset(
        tmp_path / 'data', {'val': ['c']}, num_frames=3, size=(48, 56))
    return subprocess.run([
        sys.executable, 'tools/test.py', SAMPLE_ASTF, '--work-dir',
        str(tmp_path / work), *options,
        f'test_dataloader.dataset.data_root={root}'
    ],
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=600)


def test_quickstart_test_step_accepts_user_checkpoints(tmp_path,
                                                       real_weights):
    paths = user_checkpoints(tmp_path)
    options = quickstart_test_options(paths)
    assert options == [
        '--cfg-options', *(f'model.{n}.init_cfg.checkpoint={p}'
                           for n, p in zip(NETWORKS, paths)),
        *(f'model.{n}.init_cfg.sha256=None' for n in NETWORKS)
    ]
    # before: the same command without the sha256 overrides
    before = run_test(options[:4], tmp_path, 'before')
    assert before.returncode != 0
    assert (f'checkpoint {paths[0]} has sha256 {sha256_of(paths[0])}'
            in before.stderr)
    after = run_test(options, tmp_path, 'after')
    assert after.returncode == 0, after.stderr[-3000:]
    for path in paths:  # the user's files are the ones loaded
        assert path in after.stdout + after.stderr
