"""Outputs never destroy data: refusals, marked temporaries, races,
permissions, SIGTERM/SIGKILL clean-up, atomic files
(astf_mm.io.output_safety)."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

import astf_mm.io.output_safety as output_safety
from astf_mm.io import (PARTIAL_MARKER, FrameFolderWriter, OutputPathError,
                        VideoWriter, atomic_write, atomic_write_bytes,
                        atomic_write_text, check_output_path, list_frame_files,
                        open_writer, read_frames, remove_stale_temps)
from tests.utils import ROOT

FRAME = np.full((8, 8, 3), 100, np.uint8)


def temps(folder) -> list:
    return sorted(n for n in os.listdir(folder) if '.tmp-' in n)


def test_folder_writer_never_deletes_existing_files(tmp_path):
    out = tmp_path / 'frames'
    out.mkdir()
    (out / 'notes.txt').write_bytes(b'mine')
    (out / '00000000.png').write_bytes(b'old frame')
    with pytest.raises(OutputPathError,
                       match=f'{out}: is a folder that is not empty'):
        FrameFolderWriter(out)
    assert (out / '00000000.png').read_bytes() == b'old frame'
    with FrameFolderWriter(out, overwrite=True) as writer:
        writer.write(FRAME)
        writer.write(FRAME)
    # only the frames written are replaced; the user's file stays
    assert sorted(os.listdir(out)) == [
        '00000000.png', '00000001.png', 'notes.txt'
    ]
    assert (out / 'notes.txt').read_bytes() == b'mine'
    assert [f.shape for f in read_frames(out)] == [(8, 8, 3)] * 2
    assert temps(tmp_path) == []
    # an existing empty folder is written into without --overwrite
    (tmp_path / 'empty').mkdir()
    with FrameFolderWriter(tmp_path / 'empty') as writer:
        writer.write(FRAME)
    assert os.listdir(tmp_path / 'empty') == ['00000000.png']
    # a file where a folder goes is refused, even with overwrite
    (tmp_path / 'afile').write_bytes(b'x')
    with pytest.raises(OutputPathError, match='afile: exists and is not a '
                       'folder'):
        FrameFolderWriter(tmp_path / 'afile', overwrite=True)
    assert (tmp_path / 'afile').read_bytes() == b'x'


def test_video_writer_never_replaces_a_folder(tmp_path):
    folder = tmp_path / 'out.mkv'
    folder.mkdir()
    (folder / 'keep.txt').write_bytes(b'data')
    for overwrite in (False, True):
        with pytest.raises(OutputPathError, match='out.mkv: is a folder; a '
                           'file output never replaces a folder'):
            VideoWriter(folder, overwrite=overwrite)
    assert os.listdir(folder) == ['keep.txt']
    (tmp_path / 'a.mkv').write_bytes(b'old')
    with pytest.raises(OutputPathError, match='a.mkv: exists; refusing'):
        open_writer(tmp_path / 'a.mkv')
    assert (tmp_path / 'a.mkv').read_bytes() == b'old'
    with open_writer(tmp_path / 'a.mkv', overwrite=True) as writer:
        writer.write(FRAME)
    assert len(list(read_frames(tmp_path / 'a.mkv'))) == 1
    assert temps(tmp_path) == []


def test_check_output_path_refuses_inputs(tmp_path):
    clip = tmp_path / 'clip.mkv'
    clip.write_bytes(b'video')
    frames = tmp_path / 'in'
    frames.mkdir()
    inputs = (str(clip), str(frames), None)
    cases = [(clip, 'file', 'is the input'),
             (frames, 'folder', 'is the input'),
             (frames / 'sub', 'folder', 'lies inside it'),
             (frames / 'x.mp4', 'file', 'lies inside it'),
             (tmp_path, 'folder', 'holds the input'),
             (tmp_path, 'container', 'holds the input')]
    for path, kind, problem in cases:
        with pytest.raises(OutputPathError) as info:
            check_output_path(
                path, inputs, kind=kind, overwrite=True, name='--output')
        assert f'--output {path}: ' in str(info.value)
        assert problem in str(info.value)
    assert clip.read_bytes() == b'video'
    assert check_output_path(tmp_path / 'new', inputs, 'folder') == str(
        tmp_path / 'new')


def test_frame_folder_gets_the_permissions_of_a_video_file(tmp_path):
    old = os.umask(0o027)
    try:
        with FrameFolderWriter(tmp_path / 'frames') as writer:
            writer.write(FRAME)
        with VideoWriter(tmp_path / 'v.mkv') as writer:
            writer.write(FRAME)
    finally:
        os.umask(old)
    mode = os.stat(tmp_path / 'frames').st_mode & 0o777
    assert mode == 0o750  # 0o777 & ~umask, not mkdtemp's 0o700
    frame_mode = os.stat(tmp_path / 'frames' / '00000000.png').st_mode
    video_mode = os.stat(tmp_path / 'v.mkv').st_mode
    assert frame_mode & 0o777 == video_mode & 0o777 == 0o640
    assert not (tmp_path / 'frames' / PARTIAL_MARKER).exists()


@pytest.mark.parametrize('overwrite', [False, True])
@pytest.mark.parametrize('forced', [False, True])
def test_two_folder_writers_finishing_together(tmp_path, monkeypatch,
                                               overwrite, forced):
    if forced:
        # both writers pass the existence check before either renames
        barrier = threading.Barrier(2)
        real_rename = os.rename

        def rename(src, dst):
            if '.tmp-' in os.path.basename(src):
                barrier.wait(timeout=60)
            return real_rename(src, dst)

        monkeypatch.setattr(output_safety.os, 'rename', rename)
    for trial in range(100):
        out = tmp_path / f'out{trial}'
        writers = [FrameFolderWriter(out, overwrite=overwrite)
                   for _ in range(2)]
        for value, writer in enumerate(writers):
            writer.write(np.full((4, 4, 3), value, np.uint8))
        errors = []

        def close(writer):
            try:
                writer.close()
            except Exception as err:  # noqa: B902  (all are recorded)
                errors.append(err)

        threads = [threading.Thread(target=close, args=(w, ))
                   for w in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if overwrite:
            assert errors == []  # the second writes into the first's
        elif forced:
            assert len(errors) == 1
        assert len(errors) <= 1
        for err in errors:
            assert isinstance(err, OutputPathError)
            assert f'{out}: appeared while this output was being ' \
                'written' in str(err)
        assert os.listdir(out) == ['00000000.png']
        assert temps(tmp_path) == []
    if forced:
        monkeypatch.undo()


WRITER_SCRIPT = '''
import sys
import numpy as np
from astf_mm.io import exit_on_sigterm, open_writer
if sys.argv[3] == 'term':
    exit_on_sigterm()
frame = np.zeros((16, 16, 3), np.uint8)
with open_writer(sys.argv[1]) as video, open_writer(sys.argv[2]) as folder:
    video.write(frame)
    folder.write(frame)
    print('ready', flush=True)
    sys.stdin.readline()  # blocks until the test signals this process
    video.write(frame)
'''


def run_until_signal(tmp_path, how: str, sig: int) -> int:
    proc = subprocess.Popen(
        [sys.executable, '-c', WRITER_SCRIPT,
         str(tmp_path / 'out.mkv'),
         str(tmp_path / 'frames'), how],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True)
    assert proc.stdout.readline() == 'ready\n', proc.stderr.read()
    assert len(temps(tmp_path)) == 2  # one temporary per writer
    os.kill(proc.pid, sig)
    proc.communicate(timeout=120)
    return proc


def test_sigterm_mid_write_leaves_no_temporaries(tmp_path):
    proc = run_until_signal(tmp_path, 'term', signal.SIGTERM)
    assert proc.returncode == 143
    assert os.listdir(tmp_path) == []


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path, capfd):
    proc = run_until_signal(tmp_path, 'kill', signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    stale = temps(tmp_path)
    assert len(stale) == 2
    for name in stale:
        marker = json.loads((tmp_path / name / PARTIAL_MARKER).read_text())
        assert marker['pid'] == proc.pid
        assert marker['host'] == socket.gethostname()
    # look-alikes: no marker, a marker of a live process, another target
    (tmp_path / '.frames.tmp-nomarker').mkdir()
    (tmp_path / '.frames.tmp-nomarker' / 'a.png').write_bytes(b'user')
    live = tmp_path / '.frames.tmp-live'
    live.mkdir()
    (live / PARTIAL_MARKER).write_text(
        json.dumps(dict(host=socket.gethostname(), pid=os.getpid(),
                        target=str(tmp_path / 'frames'))))
    other = tmp_path / '.frames.tmp-other'
    other.mkdir()
    (other / PARTIAL_MARKER).write_text(
        json.dumps(dict(host=socket.gethostname(), pid=proc.pid,
                        target=str(tmp_path / 'elsewhere'))))
    capfd.readouterr()
    # the next run of a writer removes its own stale temporaries
    with open_writer(tmp_path / 'frames') as writer:
        writer.write(FRAME)
    with open_writer(tmp_path / 'out.mkv') as writer:
        writer.write(FRAME)
    err = capfd.readouterr().err
    for name in stale:
        assert (f'Removed {tmp_path / name}: a partial output of ' in err)
        assert f'left by process {proc.pid}' in err
    assert temps(tmp_path) == [
        '.frames.tmp-live', '.frames.tmp-nomarker', '.frames.tmp-other'
    ]
    assert (tmp_path / '.frames.tmp-nomarker' / 'a.png').read_bytes() == \
        b'user'
    assert remove_stale_temps(tmp_path / 'frames') == []
    assert len(list_frame_files(tmp_path / 'frames')) == 1


def test_atomic_writes_replace_whole_files_only(tmp_path):
    path = tmp_path / 'sub' / 'table.json'
    atomic_write_text(path, 'first')  # the folder is created
    assert path.read_text() == 'first'
    atomic_write_bytes(path, b'\x00second')
    assert path.read_bytes() == b'\x00second'

    def fail(tmp):
        # the temporary is a hidden sibling with the final extension
        assert os.path.basename(tmp).startswith('.table.tmp-')
        assert tmp.endswith('.json')
        with open(tmp, 'w') as f:
            f.write('partial')
        raise RuntimeError('disk full')

    with pytest.raises(RuntimeError, match='disk full'):
        atomic_write(path, fail)
    assert path.read_bytes() == b'\x00second'  # the old file stays whole
    assert os.listdir(tmp_path / 'sub') == ['table.json']


def test_atomic_files_get_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / 'a.bin', b'x')
        atomic_write(tmp_path / 'b.bin',
                     lambda tmp: open(tmp, 'wb').close(),
                     sync=False)
    finally:
        os.umask(old)
    for name in ('a.bin', 'b.bin'):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o640


def test_atomic_write_without_overwrite_and_with_a_named_temporary(tmp_path):
    path = tmp_path / 'page.html'
    atomic_write_text(path, 'theirs')
    with pytest.raises(OutputPathError) as err:
        atomic_write(path, lambda tmp: open(tmp, 'w').close(),
                     overwrite=False)
    assert str(err.value) == f'{path}: exists; refusing to replace it.'
    assert path.read_text() == 'theirs'

    def appear(tmp):  # another writer finishes first
        open(tmp, 'w').close()
        path.write_text('first')

    os.remove(path)
    with pytest.raises(OutputPathError, match='appeared while'):
        atomic_write(path, appear, overwrite=False)
    assert path.read_text() == 'first'
    assert os.listdir(tmp_path) == ['page.html']

    # a caller's own temporary name (the checkpoint hook's pid pattern)
    named = str(tmp_path / '.ckpt.pth.mine-1')
    seen = []

    def write(tmp):
        seen.append(tmp)
        with open(tmp, 'wb') as f:
            f.write(b'weights')

    atomic_write(tmp_path / 'ckpt.pth', write, tmp=named)
    assert seen == [named]
    assert (tmp_path / 'ckpt.pth').read_bytes() == b'weights'
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pth', 'page.html']
    with pytest.raises(ValueError, match='must be in the folder'):
        atomic_write(tmp_path / 'x.pth', write,
                     tmp=str(tmp_path / 'sub' / '.x'))
    # a folder is never replaced by a file
    (tmp_path / 'dir').mkdir()
    with pytest.raises(OutputPathError, match='is a folder'):
        atomic_write_bytes(tmp_path / 'dir', b'x')
    assert os.listdir(tmp_path / 'dir') == []
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pth', 'dir', 'page.html']
