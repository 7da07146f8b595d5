"""Many videos on many processes: the set-up torchrun expects, a split of
the videos balanced by frame count, and a resumable manifest.

``torchrun --nproc_per_node N tool.py ...`` starts N copies of a tool;
:func:`init_dist` joins them (NCCL on GPUs, one per ``LOCAL_RANK``; gloo
on CPU) and is a no-op outside torchrun. :func:`run_sharded` gives each
process its share of the videos not yet done and records every finished
one in :class:`VideoManifest`: a rerun after a crash (or on another number
of processes) skips the videos whose recorded output is still complete and
does the rest.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.distributed as torch_dist
from tqdm import tqdm

from astf_mm.io import atomic_write_text, list_frame_files
from astf_mm.utils.checksum import sha256_of

MANIFEST_FORMAT = 1
TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job.

    Attributes:
        rank (int): Global rank (0 outside torchrun).
        world_size (int): Number of processes (1 outside torchrun).
        local_rank (int): Rank on this node; picks the GPU.
        device (str): Device this process computes on.
    """
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = 'cpu'

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_by_torchrun() -> bool:
    """Whether torchrun (or a launcher setting its variables) started us."""
    return all(name in os.environ for name in TORCHRUN_VARS)


def init_dist(device: str = 'cpu') -> DistInfo:
    """Join the process group torchrun set up; one process otherwise.

    Under torchrun, ``device='cuda'`` becomes ``cuda:LOCAL_RANK`` with the
    NCCL backend, and ``'cpu'`` uses gloo. Outside torchrun ``device`` is
    kept as given.

    Args:
        device (str): The tool's ``--device``: ``cpu``, ``cuda`` (or
            ``cuda:N`` outside torchrun). Default: ``'cpu'``.

    Returns:
        DistInfo: Rank, world size, local rank and device.

    Raises:
        ValueError: If a numbered GPU is asked for under torchrun (each
            process takes the GPU of its ``LOCAL_RANK``).
    """
    if not launched_by_torchrun():
        return DistInfo(device=device)
    rank = int(os.environ['RANK'])
    world_size = int(os.environ['WORLD_SIZE'])
    local_rank = int(os.environ['LOCAL_RANK'])
    if device.startswith('cuda'):
        if device != 'cuda':
            raise ValueError(
                f'--device {device}: under torchrun every process uses the '
                'GPU of its LOCAL_RANK; pass --device cuda (or cpu).')
        torch.cuda.set_device(local_rank)
        device, backend = f'cuda:{local_rank}', 'nccl'
    else:
        backend = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend=backend, rank=rank, world_size=world_size)
    return DistInfo(rank, world_size, local_rank, device)


def barrier(dist: DistInfo) -> None:
    """Wait for every process (nothing to wait for in one process)."""
    if dist.distributed:
        torch_dist.barrier()


def broadcast_from_main(obj, dist: DistInfo):
    """Rank 0's ``obj`` on every rank (picklable objects)."""
    if not dist.distributed:
        return obj
    box = [obj]
    torch_dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_to_all(obj, dist: DistInfo) -> list:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not dist.distributed:
        return [obj]
    out = [None] * dist.world_size
    torch_dist.all_gather_object(out, obj)
    return out


def shard_by_frames(frames: Dict[str, int], world_size: int,
                    rank: int) -> List[str]:
    """The videos one rank processes: every video on exactly one rank,
    the ranks' frame totals as even as a greedy split makes them.

    Longest first, each video goes to the rank with the fewest frames so
    far (the lowest rank on a tie); the result is the same on every rank
    and in every run with the same input.

    Args:
        frames (dict[str, int]): Video name -> frame count, in processing
            order.
        world_size (int): Number of ranks.
        rank (int): This rank.

    Returns:
        list[str]: This rank's videos, in the order of ``frames``.
    """
    loads = [0] * world_size
    owner = {}
    for name in sorted(frames, key=lambda n: (-frames[n], n)):
        target = min(range(world_size), key=lambda r: (loads[r], r))
        owner[name] = target
        loads[target] += frames[name]
    return [name for name in frames if owner[name] == rank]


def output_fingerprint(path: str) -> dict:
    """What tells a complete output from a missing or changed one.

    A file: its size and sha256. A folder (frames): its file count and
    total size; hashing hundreds of frames per video on every resume costs
    a pass over the dataset, and frames are renamed into place whole, so a
    lost or rewritten frame changes the count or size.
    """
    if osp.isfile(path):
        return dict(bytes=osp.getsize(path), sha256=sha256_of(path))
    names = [n for n in os.listdir(path) if not n.startswith('.')]
    return dict(
        files=len(names),
        bytes=sum(osp.getsize(osp.join(path, n)) for n in names))


class VideoManifest:
    """The record of finished videos: ``{'format': 1, 'videos': {name:
    {frames, output, key, rank, files|sha256, bytes}}}``.

    One process writes the manifest itself after each video. Under
    torchrun each rank writes its own part (``.<manifest>.rank<r>``, beside
    it, atomically after each video) and rank 0 merges the parts into the
    manifest and removes them (:meth:`merge_parts`), at the start (the
    parts of a killed run) and at the end. Output paths are stored
    relative to the manifest's folder.

    Args:
        path (str): The manifest file.
        dist (DistInfo): This process.
    """

    def __init__(self, path: str, dist: DistInfo) -> None:
        self.path = osp.abspath(path)
        self.folder = osp.dirname(self.path)
        self.dist = dist
        self.videos = self._read(self.path)
        self.mine = {}

    def part_path(self, rank: int) -> str:
        return osp.join(self.folder,
                        f'.{osp.basename(self.path)}.rank{rank}')

    def _part_paths(self) -> List[str]:
        prefix = f'.{osp.basename(self.path)}.rank'
        if not osp.isdir(self.folder):
            return []
        return [
            osp.join(self.folder, n) for n in sorted(os.listdir(self.folder))
            if n.startswith(prefix) and n[len(prefix):].isdigit()
        ]

    @staticmethod
    def _read(path: str) -> Dict[str, dict]:
        if not osp.isfile(path):
            return {}
        try:
            with open(path) as f:
                data = json.load(f)
        except ValueError as err:
            raise ValueError(
                f'{path}: not valid JSON ({err}); move it away to redo '
                'every video.') from None
        if not isinstance(data, dict):
            raise ValueError(f'{path}: not a manifest (a JSON object).')
        if 'format' not in data:
            # written before the format existed: {video: key}
            return {
                name: dict(key=key)
                for name, key in data.items() if isinstance(key, str)
            }
        if data['format'] != MANIFEST_FORMAT:
            raise ValueError(f'{path}: unknown manifest format '
                             f'{data["format"]!r} (expected '
                             f'{MANIFEST_FORMAT}).')
        return dict(data['videos'])

    def _write(self, path: str, videos: Dict[str, dict]) -> None:
        atomic_write_text(
            path,
            json.dumps(
                dict(format=MANIFEST_FORMAT, videos=videos),
                indent=2,
                sort_keys=True) + '\n')

    def merge_parts(self) -> None:
        """Rank 0 folds every part into the manifest; all ranks then read
        it. Call it on every rank at the same point."""
        if self.dist.rank == 0:
            parts = self._part_paths()
            if parts:
                videos = self._read(self.path)
                for part in parts:
                    videos.update(self._read(part))
                self._write(self.path, videos)
                for part in parts:  # each was written by this tool
                    os.remove(part)
        barrier(self.dist)
        self.videos = self._read(self.path)
        self.mine = {}

    def output_path(self, record: dict) -> str:
        return osp.join(self.folder, record['output'])

    def is_done(self, name: str, key: str, output: str,
                frames: int) -> bool:
        """Whether ``name`` was finished with ``key`` and its output is
        still complete (what was recorded, ``frames`` frames in a
        folder)."""
        record = self.videos.get(name)
        if record is None or record.get('key') != key:
            return False
        if not osp.exists(output):
            return False
        if osp.isdir(output) and 'files' not in record:
            # recorded before fingerprints: a complete frame count
            return len(list_frame_files(output)) == frames
        if record.get('frames') != frames or osp.abspath(
                output) != osp.abspath(self.output_path(record)):
            return False
        fingerprint = output_fingerprint(output)
        return all(record.get(k) == v for k, v in fingerprint.items())

    def record(self, name: str, key: str, output: str, frames: int) -> None:
        """Record a finished video (atomically, at once)."""
        entry = dict(
            frames=frames,
            output=osp.relpath(osp.abspath(output), self.folder),
            key=key,
            rank=self.dist.rank,
            **output_fingerprint(output))
        self.mine[name] = entry
        if self.dist.distributed:
            self._write(self.part_path(self.dist.rank), self.mine)
        else:
            self.videos[name] = entry
            self._write(self.path, self.videos)


@dataclass(frozen=True)
class VideoTask:
    """One video of a sharded run.

    Attributes:
        name (str): Unique name (the manifest's key).
        source (str): Input file or frame folder.
        output (str): The output file or folder it becomes.
    """
    name: str
    source: str
    output: str


def run_sharded(tasks: Sequence[VideoTask],
                process: Callable[[VideoTask], None],
                count_frames: Callable[[VideoTask], int],
                manifest_path: str,
                key: str,
                dist: Optional[DistInfo] = None) -> List[str]:
    """Process the videos not done yet, each on one rank, and record them.

    Rank 0 counts frames and checks the manifest (:meth:`VideoManifest.
    is_done`), every rank takes its share (:func:`shard_by_frames`) and
    calls ``process`` per video, then records it. Call it on every rank.

    Args:
        tasks (Sequence[VideoTask]): All videos, in order; names unique.
        process (Callable[[VideoTask], None]): Writes one video's output
            (under a temporary name, renamed when complete).
        count_frames (Callable[[VideoTask], int]): A video's frame count
            (called on rank 0 only).
        manifest_path (str): Where the manifest is.
        key (str): What the outputs depend on (e.g. the checkpoint's
            sha256); a video recorded with another key is done again.
        dist (DistInfo, optional): This process. Default: one process.

    Returns:
        list[str]: The videos written by this call on all ranks, in the
        order of ``tasks``.
    """
    dist = dist or DistInfo()
    names = [task.name for task in tasks]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f'Two inputs share the name(s) {twice}: each video '
                         'needs its own output name.')
    manifest = VideoManifest(manifest_path, dist)
    manifest.merge_parts()
    pending = None
    if dist.rank == 0:
        pending = {}
        for task in tasks:
            frames = count_frames(task)
            if not manifest.is_done(task.name, key, task.output, frames):
                pending[task.name] = frames
    pending = broadcast_from_main(pending, dist)
    by_name = {task.name: task for task in tasks}
    mine = shard_by_frames(pending, dist.world_size, dist.rank)
    desc = f'videos (rank {dist.rank})' if dist.distributed else 'videos'
    written = []
    for name in tqdm(mine, desc=desc, unit='video', position=dist.rank):
        process(by_name[name])
        manifest.record(name, key, by_name[name].output, pending[name])
        written.append(name)
    done = {n for part in gather_to_all(written, dist) for n in part}
    manifest.merge_parts()
    return [name for name in names if name in done]
