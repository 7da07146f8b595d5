"""Run a trained stage-1 network over a dataset: the input of stage 2.

``python tools/export_stage1.py CONFIG CHECKPOINT [--data-root DIR]``

For every video of the dataset's annotation files (train and validation),
writes the stage-1 output frames as PNG in the dataset's layout, next to
its ``lq`` folder: ``{data_root}/{out_folder}/{video}/{frame:08d}.png``.
Long videos run in chunks with temporal overlap (memory bounded whatever
the length); each video is written atomically, and videos already
exported with the same checkpoint (sha256 recorded per video in
``{data_root}/{out_folder}/export_manifest.json``) are skipped, so an
interrupted run resumes where it stopped and a new checkpoint rewrites
everything. A recorded video is skipped only while its folder still holds
what was recorded (file count and bytes).

Many GPUs: ``torchrun --nproc_per_node N tools/export_stage1.py ...`` (or
``bash tools/dist_export_stage1.sh CONFIG CHECKPOINT N ...``) splits the
videos across the N processes, balanced by frame count, each on the GPU of
its ``LOCAL_RANK`` (gloo on CPU with ``--device cpu``); each process
records its finished videos in its own part file and rank 0 merges them
into the one manifest, so a killed run resumes with any number of
processes.

The output folder is never a dataset source: ``--out-folder`` equal to,
inside, or holding the LQ folder, any ``data_prefix`` folder of the
config's datasets (``lq``, ``gt``, ...) or an annotation file is refused.
SIGTERM is handled like Ctrl-C (the video being written is discarded, exit
code 143); the temporaries of a killed run are removed by the next run.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import torch
from mmengine.config import Config
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import init_generator, stream_enhance
from astf_mm.datasets import videos_from_ann
from astf_mm.engine.dist_shard import (DistInfo, VideoTask, init_dist,
                                       run_sharded)
from astf_mm.io import (OutputPathError, check_output_path, exit_on_sigterm,
                        list_frame_files, read_frames, write_png_folder)
from astf_mm.models.astf_model import run_stage1
from astf_mm.models.chroma import Chroma420Projection
from astf_mm.models.self_ensemble import self_ensemble_of_passes
from astf_mm.utils.cli import (add_device_arg, add_stage1_run_args,
                               add_stream_args)

MANIFEST = 'export_manifest.json'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write stage-1 outputs as the LQ input of stage 2')
    parser.add_argument('config', help='stage-1 training config')
    parser.add_argument('checkpoint', help='stage-1 checkpoint')
    parser.add_argument(
        '--data-root', help='dataset root (default: the config\'s)')
    parser.add_argument(
        '--lq-folder', default='lq', help='input folder under the root')
    parser.add_argument(
        '--out-folder', default='stage1', help='output folder under the root')
    parser.add_argument(
        '--ann-files',
        nargs='+',
        help='annotation files under the root (default: the config\'s '
        'train and validation ones)')
    add_stage1_run_args(parser)
    add_stream_args(parser)
    add_device_arg(parser)
    return parser.parse_args()


def dataset_sources(cfg: Config, data_root: str, lq_folder: str,
                    ann_files: List[str]) -> List[str]:
    """The dataset's own files and folders, which no output may touch.

    ``{data_root}/{lq_folder}``, every ``data_prefix`` folder of the
    config's train/val/test datasets (``lq``, ``gt``, ...) under
    ``data_root`` and under the dataset's own root, and the annotation
    files.
    """
    sources = [osp.join(data_root, lq_folder)]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset', {})
        roots = {data_root, dataset.get('data_root', data_root)}
        for prefix in (dataset.get('data_prefix') or {}).values():
            if prefix:
                sources += [osp.join(root, prefix) for root in sorted(roots)]
    sources += [osp.join(data_root, ann) for ann in ann_files]
    return list(dict.fromkeys(sources))


def export(config: str,
           checkpoint: str,
           data_root: str = None,
           lq_folder: str = 'lq',
           out_folder: str = 'stage1',
           ann_files: List[str] = None,
           max_seq_len: int = 30,
           overlap: int = 2,
           device: str = 'cpu',
           dist: Optional[DistInfo] = None,
           chroma_420: bool = False,
           self_ensemble: Optional[str] = None,
           luma_only: bool = False) -> List[str]:
    """Export stage-1 outputs; returns the videos written by this call
    (on every rank, when ``dist`` is a torchrun process)."""
    cfg = Config.fromfile(config)
    data_root = data_root or cfg.train_dataloader.dataset.data_root
    ann_files = ann_files or [
        cfg.train_dataloader.dataset.ann_file,
        cfg.val_dataloader.dataset.ann_file
    ]
    # refused before the network is built: never write into a source
    sources = dataset_sources(cfg, data_root, lq_folder, ann_files)
    check_output_path(
        osp.join(data_root, out_folder),
        sources,
        kind='container',
        name='--out-folder')
    tasks = []
    for video in videos_from_ann(data_root, ann_files):
        dst = osp.join(data_root, out_folder, video)
        # a video name such as '../gt/x' must not lead into a source
        check_output_path(
            dst, sources, kind='folder', overwrite=True, name='--out-folder')
        tasks.append(
            VideoTask(video, osp.join(data_root, lq_folder, video), dst))
    # channels-last, as in the ASTF pipeline: the same stage-1 frames
    network = init_generator(config, checkpoint, device=device)
    chroma = Chroma420Projection(enabled=chroma_420)
    ensemble = self_ensemble_of_passes(self_ensemble)

    def run(lqs: torch.Tensor) -> dict:
        return {
            'stage1':
            run_stage1(network, lqs, ensemble, luma_only,
                       chroma.for_input(lqs))
        }

    def count_frames(task: VideoTask) -> int:
        return len(list_frame_files(task.source))

    def process(task: VideoTask) -> None:
        frames = tqdm(
            read_frames(task.source),
            total=count_frames(task),
            desc=task.name,
            unit='frame',
            leave=False)
        outputs = stream_enhance(frames, run, max_seq_len, overlap, device)
        write_png_folder((out['stage1'] for out in outputs),
                         task.output,
                         overwrite=True)

    # what the outputs were made with: another run's outputs are stale
    made_with = network.checkpoint_sha256
    if chroma_420:
        made_with += ' chroma_420'
    if self_ensemble:  # x8 keeps the tag of manifests written before x16
        made_with += ' self_ensemble' + ('' if self_ensemble == 'x8' else
                                         f'_{self_ensemble}')
    if luma_only:
        made_with += ' luma_only'
    return run_sharded(tasks, process, count_frames,
                       osp.join(data_root, out_folder, MANIFEST), made_with,
                       dist)


def main() -> None:
    args = parse_args()
    try:
        dist = init_dist(args.device)
        written = export(args.config, args.checkpoint, args.data_root,
                         args.lq_folder, args.out_folder, args.ann_files,
                         args.max_seq_len, args.overlap, dist.device, dist,
                         args.chroma_420, args.self_ensemble, args.luma_only)
    except (OutputPathError, ValueError) as err:
        sys.exit(f'error: {err}')
    if dist.rank == 0:
        print(
            f'Wrote {len(written)} videos'
            f' ({", ".join(written) if written else "all were done"}).',
            flush=True)


if __name__ == '__main__':
    exit_on_sigterm()  # like Ctrl-C: temporaries removed
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
