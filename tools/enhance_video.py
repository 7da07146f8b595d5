"""Enhance a compressed video with ASTF: one command, video in, video out.

``python tools/enhance_video.py INPUT --output OUT.mp4``

INPUT: a video file (mp4, mkv, a raw .hevc/.h265 bitstream, .yuv with
``--size WxH``) or a folder of frames. OUT: a video file (``.mp4``: H.264,
``.mkv``: lossless FFV1 unless ``--crf``) or, without an extension, a folder
of PNG frames. The video is processed in chunks of ``--max-seq-len`` frames
with ``--overlap`` context frames, so memory does not grow with its length;
every output is written under a temporary name and renamed when complete.

With ``--reference SOURCE`` (the uncompressed video INPUT was made from),
PSNR and SSIM of the input and of every stage against it are computed on
the fly and written beside OUTPUT as ``<stem>_metrics.md`` / ``.json``.
"""
import argparse
import json
import os
import os.path as osp
import time
from contextlib import ExitStack
from typing import Dict, List, Optional

import numpy as np
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import add_astf_model_args, add_stream_args, stream_enhance
from astf_mm.evaluation import frame_psnr, frame_ssim, table_markdown
from astf_mm.io import (atomic_write_text, iter_pairs, open_writer,
                        probe_video, read_frames)
from astf_mm.models import ASTF
from astf_mm.models.astf_model import ROW_TITLES, ROWS

DEFAULT_CONFIG = 'configs/astf/sample/astf_fusion_c16b2_sample-qp37.py'
INTERMEDIATES = ('stage1', 'enhancenet1', 'enhancenet2', 'fused')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Enhance a compressed video with ASTF')
    parser.add_argument('input', help='video file or folder of frames')
    parser.add_argument(
        '--output',
        required=True,
        help='output video (.mp4/.mkv) or folder of PNG frames')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='end-to-end ASTF config (default: the sample models)')
    add_astf_model_args(parser)
    parser.add_argument(
        '--size', help='WxH of a raw .yuv input (e.g. 960x536)')
    parser.add_argument(
        '--pix-fmt', default='yuv420p', help='pixel format of a .yuv input')
    parser.add_argument(
        '--fps', type=float, help='output frame rate (default: the input\'s)')
    parser.add_argument('--max-frames', type=int, help='stop after N frames')
    parser.add_argument(
        '--codec', help='ffv1, libx264, libx265 or png (default: by suffix)')
    parser.add_argument(
        '--crf',
        type=int,
        help='lossy quality for libx264/libx265 (default for .mp4: 18)')
    parser.add_argument(
        '--save-intermediates',
        metavar='DIR',
        help='also write stage1/enhancenet1/enhancenet2/fused videos here')
    parser.add_argument(
        '--save-mask', metavar='PATH', help='also write the ASTF mask video')
    parser.add_argument(
        '--reference',
        metavar='SOURCE',
        help='the uncompressed video INPUT was made from (file or frame '
        'folder, same frames): report PSNR/SSIM of the input and of every '
        'stage against it in OUTPUT\'s <stem>_metrics.md/.json')
    add_stream_args(parser)
    return parser.parse_args(argv)


def _parse_size(size: Optional[str]):
    if size is None:
        return None
    try:
        width, height = (int(v) for v in size.lower().split('x'))
    except ValueError:
        raise ValueError(f'--size must be WxH, got {size!r}.') from None
    return width, height


class ReferenceScores:
    """Per-frame PSNR/SSIM of every pipeline row against a reference."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sums = {row: dict(PSNR=0., SSIM=0.) for row in ROWS}
        self.count = 0

    def add(self, result: Dict[str, np.ndarray], ref: np.ndarray) -> None:
        for row in ROWS:
            self.sums[row]['PSNR'] += frame_psnr(result[row], ref)
            self.sums[row]['SSIM'] += frame_ssim(result[row], ref)
        self.count += 1

    def table(self) -> Dict[str, Dict[str, Dict[str, float]]]:
        """Row -> metric -> {video: mean over frames}."""
        return {
            row: {
                metric: {
                    self.name: total / max(self.count, 1)
                }
                for metric, total in sums.items()
            }
            for row, sums in self.sums.items()
        }

    def write(self, base: str) -> str:
        """Write ``base.md`` / ``base.json``; returns the markdown."""
        table = self.table()
        markdown = (f'Frames: {self.count}, reference: {self.name}\n\n' +
                    table_markdown(table, ROW_TITLES))
        atomic_write_text(base + '.md', markdown)
        atomic_write_text(base + '.json', json.dumps(
            dict(frames=self.count, table=table), indent=2))
        return markdown


def _check_reference(frame: np.ndarray, ref: np.ndarray, args) -> None:
    if frame.shape != ref.shape:
        raise ValueError(
            f'Reference {args.reference} has frames of {ref.shape[1]}x'
            f'{ref.shape[0]}, input {args.input} of {frame.shape[1]}x'
            f'{frame.shape[0]}: --reference must be the source of the input.')


def enhance_video(args: argparse.Namespace) -> Dict[str, str]:
    """Run the pipeline; returns output name -> path."""
    for path in (args.input, args.reference):
        if path is not None and not osp.exists(path):
            raise FileNotFoundError(f'{path} does not exist.')
    size = _parse_size(args.size)
    info = probe_video(args.input, size=size, pix_fmt=args.pix_fmt)
    fps = args.fps or info.fps or 25.
    total = info.num_frames
    if args.max_frames:
        total = min(total, args.max_frames) if total else args.max_frames

    model = ASTF.from_config(args.config, args.checkpoints,
                             args.cfg_options).to(args.device)
    fusion = model.fusion
    amount = fusion.sharpen_amount if fusion.sharpen else 0.
    print(f'{args.config}: unsharp-mask amount {amount:g}' +
          (' (no sharpening: fuse+sharp = fuse)' if amount == 0 else ''))
    outputs = {'fused_sharp': args.output}
    if args.save_intermediates:
        os.makedirs(args.save_intermediates, exist_ok=True)
        # lossless videos, or frame folders when the output is a folder
        ext = '.mkv' if osp.splitext(args.output)[1] else ''
        for name in INTERMEDIATES:
            outputs[name] = osp.join(args.save_intermediates, name + ext)
    if args.save_mask:
        outputs['mask'] = args.save_mask
    crf = args.crf
    if crf is None and args.output.lower().endswith('.mp4'):
        crf = 18  # a file that plays everywhere

    frames = read_frames(
        args.input, size=size, pix_fmt=args.pix_fmt,
        max_frames=args.max_frames)
    results = stream_enhance(frames, model.enhance_chunk, args.max_seq_len,
                             args.overlap, args.device)
    scores = None
    if args.reference:
        ref_size = size if args.reference.lower().endswith('.yuv') else None
        refs = read_frames(
            args.reference,
            size=ref_size,
            pix_fmt=args.pix_fmt,
            max_frames=args.max_frames)
        results = iter_pairs(results, refs, (args.input, args.reference))
        scores = ReferenceScores(osp.basename(args.reference))
    start = time.perf_counter()
    with ExitStack() as stack:
        writers = {
            name: stack.enter_context(
                open_writer(
                    path,
                    fps=fps,
                    codec=args.codec,
                    crf=crf if path.lower().endswith('.mp4') else None))
            for name, path in outputs.items()
        }
        bar = tqdm(results, total=total, unit='frame', desc='ASTF')
        for count, item in enumerate(bar, 1):
            result = item
            if scores is not None:
                result, ref = item
                _check_reference(result['lq'], ref, args)
                scores.add(result, ref)
            for name, writer in writers.items():
                frame = result[name]
                if frame.shape[-1] == 1:
                    frame = frame.repeat(3, axis=-1)
                writer.write(frame)
            bar.set_postfix(
                fps=f'{count / (time.perf_counter() - start):.2f}',
                refresh=False)
    if scores is not None:
        base = osp.splitext(args.output.rstrip('/'))[0] + '_metrics'
        print(scores.write(base))
        outputs['metrics'] = base + '.md'
    return outputs


def main() -> None:
    args = parse_args()
    outputs = enhance_video(args)
    for name, path in outputs.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
