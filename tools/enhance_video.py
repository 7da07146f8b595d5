"""Enhance a compressed video with ASTF: one command, video in, video out.

``python tools/enhance_video.py INPUT --output OUT.mp4``

INPUT: a video file (mp4, mkv, a raw .hevc/.h265 bitstream, .yuv with
``--size WxH``) or a folder of frames. OUT: a video file (``.mp4``: H.264,
``.mkv``: lossless FFV1 unless ``--crf``) or, without an extension, a folder
of PNG frames. The video is processed in chunks of ``--max-seq-len`` frames
with ``--overlap`` context frames, so memory does not grow with its length;
every output is written under a temporary name and renamed when complete.
"""
import argparse
import os
import os.path as osp
import time
from contextlib import ExitStack
from typing import Dict, List, Optional

from mmengine.config import DictAction
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import add_stream_args, stream_enhance
from astf_mm.io import open_writer, probe_video, read_frames
from astf_mm.models import ASTF

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
    parser.add_argument(
        '--checkpoints',
        nargs=3,
        metavar=('STAGE1', 'ENHANCENET1', 'ENHANCENET2'),
        help='checkpoints of the three networks (default: the config\'s)')
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
    add_stream_args(parser)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def _parse_size(size: Optional[str]):
    if size is None:
        return None
    try:
        width, height = (int(v) for v in size.lower().split('x'))
    except ValueError:
        raise ValueError(f'--size must be WxH, got {size!r}.') from None
    return width, height


def enhance_video(args: argparse.Namespace) -> Dict[str, str]:
    """Run the pipeline; returns output name -> path."""
    if not osp.exists(args.input):
        raise FileNotFoundError(f'Input {args.input} does not exist.')
    size = _parse_size(args.size)
    info = probe_video(args.input, size=size, pix_fmt=args.pix_fmt)
    fps = args.fps or info.fps or 25.
    total = info.num_frames
    if args.max_frames:
        total = min(total, args.max_frames) if total else args.max_frames

    model = ASTF.from_config(args.config, args.checkpoints,
                             args.cfg_options).to(args.device)
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
        for count, result in enumerate(bar, 1):
            for name, writer in writers.items():
                frame = result[name]
                if frame.shape[-1] == 1:
                    frame = frame.repeat(3, axis=-1)
                writer.write(frame)
            bar.set_postfix(
                fps=f'{count / (time.perf_counter() - start):.2f}',
                refresh=False)
    return outputs


def main() -> None:
    args = parse_args()
    outputs = enhance_video(args)
    for name, path in outputs.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
