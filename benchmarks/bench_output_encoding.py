"""What the final video encoding costs: PSNR of encoded-then-decoded frames.

``python benchmarks/bench_output_encoding.py SCORED --reference REF
[--input LQ]``

SCORED is a lossless file of the frames that were scored (the ``.mkv``
that ``tools/enhance_video.py`` writes by default, FFV1 in RGB). Each
setting (codec, CRF or lossless, pixel format) encodes those frames with
:class:`astf_mm.io.VideoWriter`, decodes the file back with
:func:`astf_mm.io.read_frames` and reports its mean per-frame PSNR against
the scored frames and against the reference, the PSNR lost against the
reference (the encoding cost), and the file size. Writes
``benchmarks/results/output_encoding.md``.
"""
import argparse
import os
import os.path as osp
import tempfile
from typing import List, Optional, Tuple

import common
import numpy as np

from astf_mm.evaluation import frame_psnr
from astf_mm.io import VideoWriter, read_frames

# (label, codec, crf, pix_fmt); crf None = lossless
SETTINGS: List[Tuple[str, str, Optional[int], str]] = [
    ('FFV1 (RGB, bgr0)', 'ffv1', None, 'bgr0'),
    ('H.264 -qp 0 yuv444p', 'libx264', None, 'yuv444p'),
    ('H.264 -qp 0 yuv420p', 'libx264', None, 'yuv420p'),
    ('H.264 CRF 18 yuv420p', 'libx264', 18, 'yuv420p'),
    ('H.264 CRF 14 yuv420p', 'libx264', 14, 'yuv420p'),
    ('H.264 CRF 12 yuv420p', 'libx264', 12, 'yuv420p'),
    ('H.264 CRF 10 yuv420p', 'libx264', 10, 'yuv420p'),
    ('H.264 CRF 8 yuv420p', 'libx264', 8, 'yuv420p'),
    ('H.264 CRF 4 yuv420p', 'libx264', 4, 'yuv420p'),
    ('H.264 CRF 1 yuv420p', 'libx264', 1, 'yuv420p'),
    ('H.264 CRF 18 yuv444p', 'libx264', 18, 'yuv444p'),
    ('H.264 CRF 10 yuv444p', 'libx264', 10, 'yuv444p'),
    ('H.265 lossless yuv444p', 'libx265', None, 'yuv444p'),
    ('H.265 CRF 18 yuv420p', 'libx265', 18, 'yuv420p'),
    ('H.265 CRF 10 yuv420p', 'libx265', 10, 'yuv420p'),
    ('H.265 CRF 4 yuv420p', 'libx265', 4, 'yuv420p'),
]

# what browsers decode (Chrome/Firefox/Safari): 8-bit 4:2:0 H.264 in
# mp4 everywhere; High 4:4:4 (every -qp 0 or yuv444p H.264) nowhere
# reliably; HEVC only where the OS/hardware has a decoder; FFV1 nowhere
PLAYS_IN_BROWSERS = {
    ('libx264', 'yuv420p', False): 'yes',
    ('libx264', 'yuv420p', True): 'no (High 4:4:4 profile)',
    ('libx264', 'yuv444p', False): 'no (High 4:4:4 profile)',
    ('libx264', 'yuv444p', True): 'no (High 4:4:4 profile)',
    ('libx265', 'yuv420p', False): 'Safari, hardware-dependent elsewhere',
    ('libx265', 'yuv444p', True): 'no',
    ('ffv1', 'bgr0', True): 'no (VLC, mpv, ffplay: yes)',
}


def mean_psnr(frames: List[np.ndarray], refs: List[np.ndarray]) -> float:
    """Mean per-frame PSNR, as the metrics files report it."""
    return float(np.mean([frame_psnr(a, b) for a, b in zip(frames, refs)]))


def encode_decode(frames: List[np.ndarray], folder: str, codec: str,
                  crf: Optional[int], pix_fmt: str,
                  fps: float) -> Tuple[List[np.ndarray], int]:
    """Frames through one encoding and back; returns them and the size."""
    path = osp.join(folder, 'encoded.mkv' if codec == 'ffv1' else
                    'encoded.mp4')
    with VideoWriter(path, fps=fps, codec=codec, crf=crf, pix_fmt=pix_fmt,
                     overwrite=True) as writer:
        for frame in frames:
            writer.write(frame)
    decoded = list(read_frames(path))
    size = os.path.getsize(path)
    os.remove(path)
    return decoded, size


def bench(args: argparse.Namespace) -> List[str]:
    scored = list(read_frames(args.scored))
    refs = list(read_frames(args.reference))
    if len(refs) != len(scored):
        raise ValueError(f'{args.reference}: {len(refs)} frames, '
                         f'{args.scored}: {len(scored)}')
    scored_ref = mean_psnr(scored, refs)
    lines = [
        f'Scored frames: `{args.scored}` ({len(scored)} frames, '
        f'{scored[0].shape[1]}x{scored[0].shape[0]}); reference: '
        f'`{args.reference}`. PSNR is the mean of per-frame RGB PSNR, as '
        'in the metrics files.', ''
    ]
    if args.input:
        lq_ref = mean_psnr(list(read_frames(args.input)), refs)
        lines += [
            f'- input `{args.input}` vs reference: {lq_ref:.3f} dB',
            f'- scored frames vs reference: {scored_ref:.3f} dB '
            f'(enhancement gain {scored_ref - lq_ref:+.3f} dB)', ''
        ]
    else:
        lines += [f'- scored frames vs reference: {scored_ref:.3f} dB', '']
    lines += [
        '| encoding | decoded vs scored (dB) | decoded vs reference (dB) '
        '| encoding cost (dB) | size (kB) | plays in browsers |',
        '|---|---|---|---|---|---|'
    ]
    with tempfile.TemporaryDirectory() as folder:
        for label, codec, crf, pix_fmt in SETTINGS:
            decoded, size = encode_decode(scored, folder, codec, crf,
                                          pix_fmt, args.fps)
            to_scored = mean_psnr(decoded, scored)
            to_ref = mean_psnr(decoded, refs)
            plays = PLAYS_IN_BROWSERS.get((codec, pix_fmt, crf is None),
                                          '?')
            shown = 'inf' if np.isinf(to_scored) else f'{to_scored:.2f}'
            row = (f'| {label} | {shown} | {to_ref:.3f} | '
                   f'{scored_ref - to_ref:.3f} | {size / 1000:.0f} | '
                   f'{plays} |')
            print(row, flush=True)
            lines.append(row)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scored', help='lossless file of the scored frames')
    parser.add_argument('--reference', required=True)
    parser.add_argument('--input', help='the compressed input, for the gain')
    parser.add_argument('--fps', type=float, default=30.)
    parser.add_argument(
        '--out',
        default=osp.join(
            osp.dirname(osp.abspath(__file__)), 'results',
            'output_encoding.md'))
    args = parser.parse_args()
    info = common.machine_info('cpu')
    common.run_and_report(args.out, 'Output encoding: PSNR cost', info,
                          lambda: bench(args))


if __name__ == '__main__':
    main()
