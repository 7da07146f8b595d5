"""Per-video PSNR/SSIM of one trained network against its input.

``python tools/analysis_tools/eval_network.py CONFIG CHECKPOINT
--data-root data/heldout --ann-file meta_info_val.txt --out heldout.md``

For each video of the annotation file: PSNR and SSIM of the compressed
input (``lq/``) and of the network's output against ``gt/``, averaged over
frames, and the gain; then the mean over videos and the worst gain. This is
how a stage-1 model is scored on footage it never saw (the held-out set
built by ``tools/data/build_corpus.py``). The network runs in chunks, as
in the end-to-end pipeline (channels-last, 8-bit output).
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List

import numpy as np
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import init_generator, stream_enhance
from astf_mm.datasets import videos_from_ann
from astf_mm.evaluation import frame_psnr, frame_ssim
from astf_mm.io import (OutputPathError, atomic_write_text, check_output_path,
                        iter_pairs, read_frames)
from astf_mm.models.astf_model import run_stage1
from astf_mm.models.chroma import Chroma420Projection
from astf_mm.models.self_ensemble import self_ensemble_of_passes
from astf_mm.utils.cli import (add_device_arg, add_stage1_run_args,
                               add_stream_args)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Per-video PSNR/SSIM of a network against its input')
    parser.add_argument('config', help='the network\'s training config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('--data-root', required=True)
    parser.add_argument(
        '--ann-file', default='meta_info_val.txt', help='under the root')
    parser.add_argument('--lq-folder', default='lq')
    parser.add_argument(
        '--out', required=True, help='markdown table (and .json beside it)')
    parser.add_argument('--overwrite', action='store_true')
    add_stage1_run_args(parser)
    add_stream_args(parser)
    add_device_arg(parser)
    return parser.parse_args(argv)


def evaluate(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Video -> {'PSNR lq', 'PSNR out', 'SSIM lq', 'SSIM out'}."""
    network = init_generator(args.config, args.checkpoint, device=args.device)
    chroma = Chroma420Projection(enabled=args.chroma_420)
    ensemble = self_ensemble_of_passes(args.self_ensemble)

    def run(lqs):
        return {
            'lq':
            lqs,
            'out':
            run_stage1(network, lqs, ensemble, args.luma_only,
                       chroma.for_input(lqs))
        }

    results = {}
    videos = videos_from_ann(args.data_root, [args.ann_file])
    for video in tqdm(videos, desc='videos', unit='video'):
        lq_dir = osp.join(args.data_root, args.lq_folder, video)
        gt_dir = osp.join(args.data_root, 'gt', video)
        outputs = stream_enhance(
            read_frames(lq_dir), run, args.max_seq_len, args.overlap,
            args.device)
        scores: Dict[str, List[float]] = {
            k: []
            for k in ('PSNR lq', 'PSNR out', 'SSIM lq', 'SSIM out')
        }
        for result, gt in iter_pairs(outputs, read_frames(gt_dir),
                                     (lq_dir, gt_dir)):
            for key in ('lq', 'out'):
                scores[f'PSNR {key}'].append(frame_psnr(result[key], gt))
                scores[f'SSIM {key}'].append(frame_ssim(result[key], gt))
        results[video] = {k: float(np.mean(v)) for k, v in scores.items()}
    return results


def table(results: Dict[str, Dict[str, float]], title: str) -> str:
    """Markdown: one row per video, then the mean and the worst gain."""
    lines = [
        f'{title}', '',
        '| video | PSNR input | PSNR output | gain (dB) | SSIM input | '
        'SSIM output |', '|---|---|---|---|---|---|'
    ]
    gains = []
    for video, r in results.items():
        gain = r['PSNR out'] - r['PSNR lq']
        gains.append(gain)
        lines.append(f"| {video} | {r['PSNR lq']:.3f} | {r['PSNR out']:.3f} "
                     f"| {gain:+.3f} | {r['SSIM lq']:.4f} | "
                     f"{r['SSIM out']:.4f} |")
    mean = {
        k: float(np.mean([r[k] for r in results.values()]))
        for k in next(iter(results.values()))
    }
    lines.append(f"| **mean** | {mean['PSNR lq']:.3f} | "
                 f"{mean['PSNR out']:.3f} | {np.mean(gains):+.3f} | "
                 f"{mean['SSIM lq']:.4f} | {mean['SSIM out']:.4f} |")
    lines += [
        '', f'Worst gain: {min(gains):+.3f} dB; videos below their input: '
        f'{sum(g < 0 for g in gains)} of {len(gains)}.'
    ]
    return '\n'.join(lines) + '\n'


def main(argv=None) -> None:
    args = parse_args(argv)
    json_out = osp.splitext(args.out)[0] + '.json'
    try:
        for path in (args.out, json_out):
            check_output_path(
                path, [args.data_root], overwrite=args.overwrite, name='--out')
    except OutputPathError as err:
        sys.exit(f'error: {err}')
    results = evaluate(args)
    chroma = ', 4:2:0 chroma projection' if args.chroma_420 else ''
    ensemble = (f', {args.self_ensemble} self-ensemble'
                if args.self_ensemble else '')
    luma = ', luma only' if args.luma_only else ''
    markdown = table(
        results, f'{args.checkpoint} on {args.data_root}/{args.ann_file}'
        f'{ensemble}{luma}{chroma}')
    atomic_write_text(args.out, markdown)
    atomic_write_text(json_out, json.dumps(results, indent=2))
    print(markdown)


if __name__ == '__main__':
    main()
