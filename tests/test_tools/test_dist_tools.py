"""Many videos on 2 CPU processes (torchrun, gloo): tools/export_stage1.py
through tools/dist_export_stage1.sh, and tools/enhance_video.py with several
inputs; every video once, the frames of the one-process run."""
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from astf_mm.io import list_frame_files, read_frames
from tests.utils import ROOT, SAMPLE_STAGE1, load_tool, make_frames_dataset


@pytest.fixture
def one_thread():
    """One compute thread, as in the torchrun processes, so that both
    runs use the same kernels."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def run(command, **env):
    # one thread per process in every run (torchrun's default), so that
    # all compute with the same kernels
    proc = subprocess.run(
        command,
        cwd=ROOT,
        env=dict(os.environ, OMP_NUM_THREADS='1', **env),
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def torchrun(tool, args):
    return run([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
        '2', '--master_port',
        free_port(),
        osp.join('tools', tool)
    ] + args)


def frames_of(folder):
    return np.stack(list(read_frames(str(folder))))


def assert_same_frames(single, dist, names):
    for name in names:
        assert len(list_frame_files(dist / name)) == len(
            list_frame_files(single / name))
        np.testing.assert_array_equal(
            frames_of(dist / name), frames_of(single / name))


def test_dist_export_stage1_equals_one_process(tiny_setup, tmp_path,
                                               one_thread):
    export_stage1 = load_tool('export_stage1.py')
    videos = {'train': ['a', 'b'], 'val': ['c', 'd']}
    roots = [
        make_frames_dataset(tmp_path / name, videos, num_frames=3)
        for name in ('single', 'dist')
    ]
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    ckpt = tiny_setup['ckpts'][0]
    assert export_stage1.export(
        str(config), ckpt, str(roots[0]), max_seq_len=2) == list('abcd')
    dist = run([
        'bash', 'tools/dist_export_stage1.sh',
        str(config), ckpt, '2', '--data-root',
        str(roots[1]), '--max-seq-len', '2', '--device', 'cpu'
    ],
               PYTHON=sys.executable,
               PORT=free_port())
    # rank 0 reports every rank's videos, once
    assert dist.stdout.count('Wrote 4 videos (a, b, c, d).') == 1
    out = [root / 'stage1' for root in roots]
    assert sorted(os.listdir(out[1])) == sorted(os.listdir(out[0])) == [
        'a', 'b', 'c', 'd', 'export_manifest.json'
    ]
    assert_same_frames(out[0], out[1], 'abcd')
    manifests = [
        json.load(open(folder / 'export_manifest.json'))['videos']
        for folder in out
    ]
    # equal-length videos alternate between the ranks
    assert {n: v.pop('rank') for n, v in manifests[1].items()} == dict(
        a=0, b=1, c=0, d=1)
    assert {n: v.pop('rank') for n, v in manifests[0].items()} == dict(
        a=0, b=0, c=0, d=0)
    assert manifests[1] == manifests[0]
    assert manifests[0]['a']['frames'] == manifests[0]['a']['files'] == 3


def test_enhance_video_many_videos_on_two_processes(tiny_setup, tmp_path,
                                                    one_thread):
    enhance_video = load_tool('enhance_video.py')

    # a folder of videos (the dataset's lq: c, d) and one more frame folder
    extra = make_frames_dataset(
        tmp_path / 'more', {'val': ['e']}, num_frames=3, size=(48, 56))
    inputs = [str(tiny_setup['data_root'] / 'lq'), str(extra / 'lq' / 'e')]
    common = [
        '--config',
        str(tiny_setup['config']), '--output-format', 'png', '--max-seq-len',
        '2', '--device', 'cpu'
    ]

    def one_process(output):
        args = enhance_video.parse_args(inputs + ['--output', output] +
                                        common)
        return enhance_video.enhance_many(args)

    assert one_process(str(tmp_path / 'single')) == ['c', 'd', 'e']
    dist = torchrun('enhance_video.py',
                    inputs + ['--output', str(tmp_path / 'dist')] + common)
    assert dist.stdout.count(
        f'Enhanced 3 videos into {tmp_path / "dist"} (c, d, e).') == 1
    assert_same_frames(tmp_path / 'single', tmp_path / 'dist', 'cde')
    videos = json.load(
        open(tmp_path / 'dist' / 'enhance_manifest.json'))['videos']
    # c and d have 4 frames, e 3: c on rank 0, d on 1, e on the lower of
    # the two equal loads
    assert {n: (v['rank'], v['frames'], v['output'])
            for n, v in videos.items()} == {
                'c': (0, 4, 'c'),
                'd': (1, 4, 'd'),
                'e': (0, 3, 'e')
            }
    # rerun: nothing left to do; a lost output is redone alone
    shutil.rmtree(tmp_path / 'dist' / 'd')
    assert one_process(str(tmp_path / 'dist')) == ['d']
    assert_same_frames(tmp_path / 'single', tmp_path / 'dist', 'd')


def test_enhance_video_many_videos_refusals(tmp_path, capsys):
    enhance_video_tool = load_tool('enhance_video.py')
    lq = make_frames_dataset(tmp_path / 'data', {'val': ['c', 'd']}) / 'lq'
    (tmp_path / 'other' / 'c').mkdir(parents=True)
    shutil.copy(lq / 'c' / '00000000.png', tmp_path / 'other' / 'c')
    parse = enhance_video_tool.parse_args
    one = parse([str(lq / 'c'), '--output', str(tmp_path / 'o.mp4')])
    assert (one.input, one.inputs) == (str(lq / 'c'), None)
    many = parse([str(lq), '--output', str(tmp_path / 'o')])
    assert many.inputs == {'c': str(lq / 'c'), 'd': str(lq / 'd')}
    assert enhance_video_tool._many_output(many, 'c') == str(
        tmp_path / 'o' / 'c.mp4')
    for argv, message in (
        ([str(lq), '--output', 'o', '--viewer'], '--viewer applies to one'),
        ([str(lq), '--output', 'o.mp4'], '--output o.mp4: with several'),
        ([str(lq), str(tmp_path / 'other'), '--output', 'o'],
         'are both named "c"'),
        ([str(tmp_path / 'data'), '--output', 'o'], 'holds no frames'),
        ([str(lq / 'c'), '--output', 'o', '--output-format', 'png'],
         '--output-format applies to several videos'),
    ):
        with pytest.raises(SystemExit):
            parse(argv)
        assert message in capsys.readouterr().err
    # the output folder may not hold an input
    many.output = str(tmp_path / 'data')
    with pytest.raises(enhance_video_tool.OutputPathError,
                       match='holds the input'):
        enhance_video_tool.enhance_many(many)
