"""astf_mm.engine.dist_shard: the split by frame count, the resumable
manifest, and 2 CPU processes (gloo) killed mid-run and resumed."""
import json
import multiprocessing
import os
import os.path as osp
import socket

import pytest

from astf_mm.engine.dist_shard import (DistInfo, VideoManifest, VideoTask,
                                       init_dist, run_sharded, shard_by_frames)
from astf_mm.io import PARTIAL_MARKER, atomic_folder

# four videos, two ranks: a(5)->0, b(4)->1, c(3)->1, d(2)->0
FRAMES = {'a': 5, 'b': 4, 'c': 3, 'd': 2}


def test_shard_by_frames_every_video_once_balanced():
    frames = {'v1': 600, 'v2': 100, 'v3': 300, 'v4': 300, 'v5': 250,
              'v6': 50}
    shards = [shard_by_frames(frames, 3, r) for r in range(3)]
    assert shards == [['v1'], ['v3', 'v5'], ['v2', 'v4', 'v6']]
    assert sorted(sum(shards, [])) == sorted(frames)
    assert [sum(frames[n] for n in s) for s in shards] == [600, 550, 450]
    # the split does not depend on the order given, only the order within
    reordered = dict(reversed(list(frames.items())))
    assert [shard_by_frames(reordered, 3, r)
            for r in range(3)] == [s[::-1] for s in shards]
    assert shard_by_frames(FRAMES, 2, 0) == ['a', 'd']
    assert shard_by_frames(FRAMES, 2, 1) == ['b', 'c']
    assert shard_by_frames(FRAMES, 1, 0) == list(FRAMES)


def write_video(task: VideoTask, frames: int, die_after: int = None):
    """A frame folder written as export_stage1 does (temporary name,
    renamed; into its own earlier output)."""
    with atomic_folder(task.output, overwrite=True) as tmp:
        for t in range(frames):
            with open(osp.join(tmp, f'{t:08d}.png'), 'w') as f:
                f.write(f'{task.name} frame {t}')
            if die_after is not None and t + 1 == die_after:
                os._exit(3)  # killed: no clean-up at all


def tasks_under(root):
    return [
        VideoTask(n, osp.join(root, 'lq', n), osp.join(root, 'out', n))
        for n in FRAMES
    ]


def run_one_process(root, key='k1'):
    calls = []

    def process(task):
        calls.append(task.name)
        write_video(task, FRAMES[task.name])

    written = run_sharded(tasks_under(root), process,
                          lambda t: FRAMES[t.name],
                          osp.join(root, 'out', 'manifest.json'), key)
    return written, calls


def test_one_process_resumes_and_redoes_changed_outputs(tmp_path):
    written, calls = run_one_process(tmp_path)
    assert written == calls == ['a', 'b', 'c', 'd']
    manifest = json.load(open(tmp_path / 'out' / 'manifest.json'))
    assert manifest['format'] == 1
    size = len('a frame 0')
    assert manifest['videos']['a'] == dict(
        frames=5, output='a', key='k1', rank=0, files=5, bytes=5 * size)
    assert run_one_process(tmp_path) == ([], [])
    # a lost frame, or a frame of another size, makes the video undone
    os.remove(tmp_path / 'out' / 'b' / '00000003.png')
    (tmp_path / 'out' / 'c' / '00000000.png').write_text('x')
    assert run_one_process(tmp_path) == (['b', 'c'], ['b', 'c'])
    # another key (e.g. a new checkpoint) redoes everything
    assert run_one_process(tmp_path, 'k2')[0] == ['a', 'b', 'c', 'd']


def test_manifest_reads_old_format_and_leftover_parts(tmp_path):
    run_one_process(tmp_path)
    out = tmp_path / 'out'
    # the export manifest before this module: {video: checkpoint sha256}
    (out / 'manifest.json').write_text(json.dumps({'a': 'k1', 'b': 'old'}))
    # a part left by a killed 2-process run: rank 1 had finished c
    manifest = VideoManifest(str(out / 'manifest.json'), DistInfo(1, 2))
    manifest.record('c', 'k1', str(out / 'c'), 3)
    part = out / '.manifest.json.rank1'
    assert json.load(open(part))['videos']['c']['rank'] == 1
    written, _ = run_one_process(tmp_path)
    # a: old record, complete folder; c: from the part; b: other key
    assert written == ['b', 'd']
    assert not part.exists()
    videos = json.load(open(out / 'manifest.json'))['videos']
    assert sorted(videos) == ['a', 'b', 'c', 'd']
    assert videos['c']['rank'] == 1
    (out / 'manifest.json').write_text('{"format": 7, "videos": {}}')
    with pytest.raises(ValueError, match='manifest.json: unknown manifest'):
        run_one_process(tmp_path)


def test_duplicate_names_and_torchrun_device(tmp_path, monkeypatch):
    task = tasks_under(tmp_path)[0]
    with pytest.raises(ValueError, match=r"share the name\(s\) \['a'\]"):
        run_sharded([task, task], None, None, str(tmp_path / 'm.json'), 'k')
    for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(name, raising=False)
    assert init_dist('cuda:1') == DistInfo(device='cuda:1')
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    monkeypatch.setenv('LOCAL_RANK', '1')
    with pytest.raises(ValueError, match='--device cuda:1: under torchrun'):
        init_dist('cuda:1')


def _worker(rank: int, port: int, root: str, die_at_video: int) -> None:
    """One of 2 gloo processes; os._exit mid-way through its
    ``die_at_video``-th video (1-based) when given."""
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE='2',
        LOCAL_RANK=str(rank),
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port))
    dist = init_dist('cpu')
    assert dist == DistInfo(rank, 2, rank, 'cpu')
    log = osp.join(root, f'log{rank}.txt')
    count = [0]

    def process(task):
        count[0] += 1
        dying = count[0] == die_at_video
        with open(log, 'a') as f:
            f.write(task.name + ('!' if dying else '') + '\n')
        write_video(task, FRAMES[task.name], 2 if dying else None)

    written = run_sharded(tasks_under(root), process,
                          lambda t: FRAMES[t.name],
                          osp.join(root, 'out', 'manifest.json'), 'k1', dist)
    with open(osp.join(root, f'written{rank}.json'), 'w') as f:
        json.dump(written, f)


def run_two_processes(root, die_at_video=None):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    context = multiprocessing.get_context('spawn')
    procs = [
        context.Process(
            target=_worker, args=(rank, port, str(root), die_at_video))
        for rank in range(2)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(300)
    return [proc.exitcode for proc in procs]


def read_log(root, rank):
    path = root / f'log{rank}.txt'
    return path.read_text().split() if path.exists() else []


def test_two_processes_killed_then_resumed(tmp_path):
    # each rank dies in its second video: a and b done, c and d not
    assert run_two_processes(tmp_path, die_at_video=2) == [3, 3]
    assert read_log(tmp_path, 0) == ['a', 'd!']
    assert read_log(tmp_path, 1) == ['b', 'c!']
    out = tmp_path / 'out'
    assert not (out / 'manifest.json').exists()  # never merged
    parts = {
        r: json.load(open(out / f'.manifest.json.rank{r}'))['videos']
        for r in range(2)
    }
    assert {r: sorted(p) for r, p in parts.items()} == {0: ['a'], 1: ['b']}
    # the killed videos left only their marked temporaries
    left = sorted(os.listdir(out))
    assert [n for n in left if not n.startswith('.')] == ['a', 'b']
    stale = [n for n in left if n.startswith(('.c.tmp-', '.d.tmp-'))]
    assert len(stale) == 2
    assert all(osp.isfile(out / n / PARTIAL_MARKER) for n in stale)

    # the rerun does only c and d, one per rank, and merges one manifest
    (tmp_path / 'log0.txt').unlink()
    (tmp_path / 'log1.txt').unlink()
    assert run_two_processes(tmp_path) == [0, 0]
    assert read_log(tmp_path, 0) == ['c'] and read_log(tmp_path, 1) == ['d']
    for rank in range(2):
        assert json.load(open(tmp_path / f'written{rank}.json')) == ['c', 'd']
    assert sorted(os.listdir(out)) == ['a', 'b', 'c', 'd', 'manifest.json']
    videos = json.load(open(out / 'manifest.json'))['videos']
    assert {n: (v['rank'], v['frames'], v['files'])
            for n, v in videos.items()} == {
                'a': (0, 5, 5),
                'b': (1, 4, 4),
                'c': (0, 3, 3),
                'd': (1, 2, 2)
            }
    for name, frames in FRAMES.items():
        assert sorted(os.listdir(out / name)) == [
            f'{t:08d}.png' for t in range(frames)
        ]
        assert (out / name / f'{frames - 1:08d}.png').read_text() == (
            f'{name} frame {frames - 1}')
