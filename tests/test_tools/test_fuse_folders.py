import importlib.util
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from astf_mm.models.fusion import ASTFFusion

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
TOOL = os.path.join(ROOT, 'tools', 'fuse_folders.py')
_spec = importlib.util.spec_from_file_location('fuse_folders', TOOL)
ff = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ff)


def make_clip(t, h=20, w=24, seed=0, dtype=np.uint8):
    """(t, h, w, 3) RGB frames: textured right half, smooth left half."""
    rng = np.random.default_rng(seed)
    peak = np.iinfo(dtype).max
    base = np.linspace(0.2, 0.7, w)[None, :, None] * np.ones((h, 1, 3))
    frames = []
    for k in range(t):
        img = base.copy()
        img[:, w // 2:] += (0.1 + 0.1 * k) * rng.random((h, w - w // 2, 3))
        frames.append(np.round(np.clip(img, 0, 1) * peak).astype(dtype))
    return np.stack(frames)


def write_clip(folder, frames, names=None):
    os.makedirs(folder, exist_ok=True)
    names = names or [f'{k:04d}.png' for k in range(len(frames))]
    for name, rgb in zip(names, frames):
        assert cv2.imwrite(os.path.join(folder, name), rgb[..., ::-1])
    return names


def read_rgb(path):
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    return img[..., ::-1] if img.ndim == 3 else img


def expected_outputs(i1, i2, **kwargs):
    """ASTFFusion on the whole clip, quantised like the tool's PNGs."""
    peak = np.iinfo(i2.dtype).max

    def tensor(x):
        return torch.from_numpy(x.astype(np.float32) / peak).permute(
            0, 3, 1, 2)[None]

    out = ASTFFusion(**kwargs)(tensor(i1), tensor(i2))
    result = {}
    for key, value in out.items():
        scale = 255 if key == 'mask' else peak
        arr = (value[0].clamp(0, 1) * scale).round().permute(0, 2, 3, 1)
        result[key] = arr.numpy().astype(np.uint8 if key ==
                                         'mask' else i2.dtype)
    return result


def test_folder_of_videos_equals_whole_clip_fusion(tmp_path):
    clips = {'walk': 5, 'cut': 1, 'run': 2}
    d1, d2, out = tmp_path / 'e1', tmp_path / 'e2', tmp_path / 'out'
    data = {}
    for seed, (video, t) in enumerate(clips.items()):
        i2 = make_clip(t, seed=seed)
        i1 = make_clip(t, seed=seed + 10)
        write_clip(str(d1 / video), i1)
        names = write_clip(str(d2 / video), i2)
        data[video] = (i1, i2, names)
    written = ff.fuse_folders(
        str(d1),
        str(d2),
        str(out),
        radius=3,
        sharpen_amount=2.0,
        save_mask=True,
        progress=False)
    assert written == clips
    assert sorted(os.listdir(out)) == ['fused', 'fused_sharp', 'mask']
    for video, (i1, i2, names) in data.items():
        ref = expected_outputs(i1, i2, radius=3, sharpen_amount=2.0)
        for key in ('fused', 'fused_sharp', 'mask'):
            folder = out / key / video
            assert sorted(os.listdir(folder)) == names  # no temp files left
            got = np.stack([read_rgb(str(folder / n)) for n in names])
            want = ref[key][..., 0] if key == 'mask' else ref[key]
            assert got.dtype == want.dtype
            assert np.array_equal(got, want), (video, key)
    # The textured half leans on EnhanceNet1, the smooth ramp on
    # EnhanceNet2.
    mask = read_rgb(str(out / 'mask' / 'walk' / '0002.png')).astype(float)
    assert mask[:, 15:].mean() > 3 * mask[:, :6].mean()


@pytest.mark.parametrize('temporal_radius', [0, 2])
def test_single_video_layout_and_options(tmp_path, temporal_radius):
    i1, i2 = make_clip(6, seed=3), make_clip(6, seed=4)
    names = ['1.png', '2.png', '3.png', '10.png', '11.png', '20.png']
    write_clip(str(tmp_path / 'e1'), i1, names)
    write_clip(str(tmp_path / 'e2'), i2, names)
    # Natural order: 10.png follows 3.png.
    assert ff.find_videos(str(tmp_path / 'e2')) == {'': names}
    out = tmp_path / 'out'
    written = ff.fuse_folders(
        str(tmp_path / 'e1'),
        str(tmp_path / 'e2'),
        str(out),
        radius=2,
        temporal_radius=temporal_radius,
        sharpen=False,
        progress=False)
    assert written == {'': 6}
    assert sorted(os.listdir(out)) == ['fused']
    got = np.stack([read_rgb(str(out / 'fused' / n)) for n in names])
    ref = expected_outputs(
        i1, i2, radius=2, temporal_radius=temporal_radius, sharpen=False)
    assert np.array_equal(got, ref['fused'])


def test_sixteen_bit_frames(tmp_path):
    i1 = make_clip(3, seed=5, dtype=np.uint16)
    i2 = make_clip(3, seed=6, dtype=np.uint16)
    names = write_clip(str(tmp_path / 'a' / 'v'), i1)
    write_clip(str(tmp_path / 'b' / 'v'), i2)
    ff.fuse_folders(
        str(tmp_path / 'a'),
        str(tmp_path / 'b'),
        str(tmp_path / 'out'),
        radius=3,
        progress=False)
    got = np.stack([
        read_rgb(str(tmp_path / 'out' / 'fused_sharp' / 'v' / n))
        for n in names
    ])
    assert got.dtype == np.uint16
    assert np.array_equal(got, expected_outputs(i1, i2,
                                                radius=3)['fused_sharp'])


def test_mismatch_errors_name_the_file(tmp_path):
    clip = make_clip(3)
    d1, d2 = tmp_path / 'e1', tmp_path / 'e2'
    write_clip(str(d1 / 'v'), clip)
    write_clip(str(d2 / 'v'), clip[:2])
    missing = os.path.join(str(d2), 'v', '0002.png')
    with pytest.raises(ValueError, match=f'{missing} is missing'):
        ff.fuse_folders(str(d1), str(d2), str(tmp_path / 'o'),
                        progress=False)
    # main() turns it into a clean exit message.
    with pytest.raises(SystemExit, match=f'error: {missing} is missing'):
        ff.main([
            '--enhancenet1',
            str(d1), '--enhancenet2',
            str(d2), '--out',
            str(tmp_path / 'o')
        ])
    # Frame sizes differ between the two refiners.
    write_clip(str(d2 / 'v'), make_clip(3, h=22))
    with pytest.raises(ValueError, match='0000.png.*24x22.*differ'):
        ff.fuse_folders(str(d1), str(d2), str(tmp_path / 'o'),
                        progress=False)
    # Frame sizes differ inside a video.
    write_clip(str(d1 / 'w'), make_clip(2, h=18))
    write_clip(str(d2 / 'w'), make_clip(2, h=18))
    write_clip(str(d1 / 'w'), make_clip(1), ['0002.png'])
    write_clip(str(d2 / 'w'), make_clip(1), ['0002.png'])
    with pytest.raises(ValueError, match=r'w.0002.png is 24x20 but earlier'):
        ff.fuse_folders(str(d1 / 'w'), str(d2 / 'w'), str(tmp_path / 'o'),
                        progress=False)
    # A video missing from one side.
    write_clip(str(d1 / 'x'), clip)
    with pytest.raises(ValueError, match='x has no counterpart'):
        ff.fuse_folders(str(d1), str(d2), str(tmp_path / 'o'),
                        progress=False)


def test_layout_errors(tmp_path):
    clip = make_clip(2)
    write_clip(str(tmp_path / 'mixed'), clip)
    write_clip(str(tmp_path / 'mixed' / 'sub'), clip)
    with pytest.raises(ValueError, match='both PNG frames and subfolders'):
        ff.find_videos(str(tmp_path / 'mixed'))
    os.makedirs(tmp_path / 'empty' / 'sub')
    with pytest.raises(ValueError, match='holds no PNG frames'):
        ff.find_videos(str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match='nowhere is not a folder'):
        ff.find_videos(str(tmp_path / 'nowhere'))
    grey = tmp_path / 'grey'
    os.makedirs(grey)
    cv2.imwrite(str(grey / '0.png'), clip[0, ..., 0])
    with pytest.raises(ValueError, match='0.png has shape'):
        ff.read_frame(str(grey / '0.png'))


def test_command_line(tmp_path):
    i1, i2 = make_clip(3, seed=7), make_clip(3, seed=8)
    names = write_clip(str(tmp_path / 'e1'), i1)
    write_clip(str(tmp_path / 'e2'), i2)
    out = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable, TOOL, '--enhancenet1',
        str(tmp_path / 'e1'), '--enhancenet2',
        str(tmp_path / 'e2'), '--out',
        str(out), '--radius', '4', '--temporal-radius', '1',
        '--sharpen-amount', '1.5', '--save-mask'
    ],
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'wrote 3 frames of 1 video(s)' in proc.stdout
    ref = expected_outputs(i1, i2, radius=4, sharpen_amount=1.5)
    got = np.stack([read_rgb(str(out / 'fused_sharp' / n)) for n in names])
    assert np.array_equal(got, ref['fused_sharp'])
    assert sorted(os.listdir(out / 'mask')) == names


def temporaries(folder):
    return [
        os.path.join(d, n) for d, dirs, files in os.walk(folder)
        for n in dirs + files if '.tmp-' in n
    ]


def test_error_mid_run_leaves_no_partial_folder(tmp_path, monkeypatch):
    d1, d2, out = tmp_path / 'e1', tmp_path / 'e2', tmp_path / 'out'
    for video in ('a', 'b'):
        write_clip(str(d1 / video), make_clip(4, seed=1))
        write_clip(str(d2 / video), make_clip(4, seed=2))
    real = ff.write_png
    calls = {'n': 0}

    def failing(path, img):
        calls['n'] += 1
        if calls['n'] == 4 * 2 + 3:  # video b, second frame
            raise OSError('disk full')
        real(path, img)

    monkeypatch.setattr(ff, 'write_png', failing)
    with pytest.raises(OSError, match='disk full'):
        ff.fuse_folders(str(d1), str(d2), str(out), radius=2,
                        progress=False)
    # video a was complete and renamed; b has no folder at all
    for kind in ('fused', 'fused_sharp'):
        assert sorted(os.listdir(out / kind)) == ['a']
        assert len(os.listdir(out / kind / 'a')) == 4
    assert temporaries(tmp_path) == []


def test_existing_outputs_and_inputs_are_refused(tmp_path):
    i1, i2 = make_clip(2, seed=1), make_clip(2, seed=2)
    names = write_clip(str(tmp_path / 'e1'), i1)
    write_clip(str(tmp_path / 'e2'), i2)
    out = tmp_path / 'out'
    (out / 'fused').mkdir(parents=True)
    (out / 'fused' / 'mine.txt').write_bytes(b'keep')
    argv = ['--enhancenet1', str(tmp_path / 'e1'), '--enhancenet2',
            str(tmp_path / 'e2'), '--out', str(out), '--no-sharpen']
    with pytest.raises(SystemExit, match=f'error: --out {out / "fused"}: '
                       'is a folder that is not empty'):
        ff.main(argv)
    ff.main(argv + ['--overwrite'])
    assert sorted(os.listdir(out / 'fused')) == sorted(names + ['mine.txt'])
    assert (out / 'fused' / 'mine.txt').read_bytes() == b'keep'
    # an output folder inside an input
    e1_bytes = {n: (tmp_path / 'e1' / n).read_bytes() for n in names}
    with pytest.raises(SystemExit, match='is the input .*e1 or lies inside'):
        ff.main(argv[:5] + [str(tmp_path / 'e1' / 'o'), '--overwrite'])
    assert {n: (tmp_path / 'e1' / n).read_bytes()
            for n in names} == e1_bytes
    assert temporaries(tmp_path) == []


FUSE_WRAPPER = '''
import runpy
import sys

import cv2

real = cv2.imencode
calls = [0]


def blocking(*args):
    calls[0] += 1
    if calls[0] == 2:  # one frame is in the temporary folder
        print('ready', flush=True)
        sys.stdin.readline()  # blocks until the test signals
    return real(*args)


cv2.imencode = blocking
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])
def test_signal_mid_run(tmp_path, sig):
    write_clip(str(tmp_path / 'e1'), make_clip(3, seed=1))
    write_clip(str(tmp_path / 'e2'), make_clip(3, seed=2))
    out = tmp_path / 'out'
    argv = [
        TOOL, '--enhancenet1',
        str(tmp_path / 'e1'), '--enhancenet2',
        str(tmp_path / 'e2'), '--out',
        str(out), '--no-sharpen'
    ]
    proc = subprocess.Popen([sys.executable, '-c', FUSE_WRAPPER] + argv,
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == 'ready\n', proc.stderr.read()
    assert len(temporaries(out)) == 1
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert not (out / 'fused').exists()  # no folder that looks complete
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, stderr
        assert temporaries(tmp_path) == []
        return
    assert proc.returncode == -signal.SIGKILL
    stale = temporaries(out)
    assert len(stale) == 1
    # a look-alike without the marker is kept
    lookalike = out / '.fused.tmp-user'
    lookalike.mkdir()
    (lookalike / 'x.png').write_bytes(b'user data')
    rerun = subprocess.run([sys.executable] + argv,
                           capture_output=True,
                           text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f'Removed {stale[0]}: a partial output of {out / "fused"} left ' \
        f'by process {proc.pid}' in rerun.stderr
    assert temporaries(tmp_path) == [str(lookalike)]
    assert (lookalike / 'x.png').read_bytes() == b'user data'
    assert len(os.listdir(out / 'fused')) == 3
