"""Benchmark of the ASTF fusion (astf_mm/models/fusion.py).

Times, per frame, the local variance against the window radius (the
cumulative-sum version must be flat in ``r``) and against a direct sliding
window (``unfold`` + ``var``, cost ~ r^2), the whole mask, the sharpening
and the full :class:`ASTFFusion`; then measures the PSNR cost of the
sharpening against its amount. Writes a markdown report.

Usage::

    python benchmarks/bench_fusion.py [--repeats 3] [--threads N]
        [--out benchmarks/results/fusion.md]
        [--psnr-gt DIR --psnr-lq DIR [--psnr-label TEXT]]

Timings are medians of ``--repeats`` runs after one warm-up run (the
direct method at large ``r`` gets a single timed run: it takes seconds).
"""
import argparse
import os
import sys
from typing import List, Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from common import machine_info, median_time, run_and_report

from astf_mm.evaluation import frame_psnr
from astf_mm.io import read_frames
from astf_mm.models.fusion import (DEFAULT_SHARPEN_AMOUNT, ASTFFusion,
                                   astf_mask, local_variance, rgb_to_luma,
                                   unsharp_mask)

SIZES = ((960, 536), (480, 270))  # (w, h)
RADII = (1, 3, 5, 11, 21, 41)
DIRECT_MAX_RADIUS = 11
AMOUNTS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


def direct_variance(y: torch.Tensor, radius: int) -> torch.Tensor:
    """Sliding-window variance of (h, w) maps, cost ~ (2r+1)^2 per pixel."""
    padded = F.pad(y.double()[None, None], (radius, ) * 4, mode='reflect')
    k = 2 * radius + 1
    windows = padded[0, 0].unfold(0, k, 1).unfold(1, k, 1)
    return windows.var(dim=(-2, -1), unbiased=False)


def realish_clip(t: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """A (1, t, 3, h, w) float32 clip with textures at several scales."""
    gen = torch.Generator().manual_seed(seed)
    clip = torch.rand(1, t, 3, h // 8, w // 8, generator=gen)
    clip = F.interpolate(
        clip.view(t, 3, h // 8, w // 8), size=(h, w), mode='bilinear')
    clip = clip + 0.1 * torch.rand(t, 3, h, w, generator=gen)
    return clip.clamp(0, 1).view(1, t, 3, h, w)


def ms(seconds: float) -> str:
    return f'{seconds * 1e3:.1f}'


def bench_variance(repeats: int) -> List[str]:
    lines = [
        '## Local variance and mask vs window radius r (ms per frame)', '',
        '`local_variance` on one luma map (float64 cumulative sums); '
        '`direct`: unfold + var in float64 (r <= '
        f'{DIRECT_MAX_RADIUS}); `astf_mask`: luma + variance + '
        'normalisation, timed on a 3-frame clip and divided by 3.', '',
        '| size | r | local_variance | astf_mask | direct | direct / ours |',
        '|---|---|---|---|---|---|'
    ]
    for w, h in SIZES:
        clip = realish_clip(3, h, w)
        luma = rgb_to_luma(clip[:, :1])
        for r in RADII:
            ours = median_time(lambda: local_variance(luma, r), repeats)
            mask = median_time(lambda: astf_mask(clip, radius=r),
                               max(1, repeats // 2)) / 3
            direct = ratio = '-'
            if r <= DIRECT_MAX_RADIUS:
                slow = r >= 5
                seconds = median_time(
                    lambda: direct_variance(luma[0, 0, 0], r),
                    1 if slow else repeats)
                direct, ratio = ms(seconds), f'{seconds / ours:.1f}x'
            row = (f'| {w}x{h} | {r} | {ms(ours)} | {ms(mask)} | {direct} '
                   f'| {ratio} |')
            print(row, flush=True)
            lines.append(row)
    return lines + ['']


def bench_sharpen_and_fusion(repeats: int) -> List[str]:
    lines = [
        '## Sharpening and full fusion (ms per frame)', '',
        '`unsharp_mask`: 3x3 Gaussian, one RGB frame. `ASTFFusion`: mask '
        '(r = 11) + fusion + sharpening, 3-frame clip divided by 3. '
        'float32.', '', '| size | unsharp_mask | ASTFFusion |',
        '|---|---|---|'
    ]
    model = ASTFFusion()
    for w, h in SIZES:
        clip = realish_clip(3, h, w)
        other = realish_clip(3, h, w, seed=1)
        sharp = median_time(lambda: unsharp_mask(clip[:, :1]), repeats)
        full = median_time(lambda: model(other, clip),
                           max(1, repeats // 2)) / 3
        row = f'| {w}x{h} | {ms(sharp)} | {ms(full)} |'
        print(row, flush=True)
        lines.append(row)
    return lines + ['']


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two (t, h, w, 3) clips over all their pixels (one MSE)."""
    # frames stacked into one tall (t*h, w, 3) image: the clip's MSE
    return frame_psnr(np.concatenate(a), np.concatenate(b))


def sharpen_cost(gt: np.ndarray, lq: np.ndarray) -> List[float]:
    """PSNR to ``gt`` of ``lq`` (uint8 RGB, (t, h, w, 3)), then sharpened."""
    x = torch.from_numpy(lq).permute(0, 3, 1, 2)[None].float() / 255
    values = [psnr(lq, gt)]
    for amount in AMOUNTS:
        out = unsharp_mask(x, amount=amount)[0].permute(0, 2, 3, 1)
        out8 = (out * 255).round().numpy().astype(np.uint8)
        values.append(psnr(out8, gt))
    return values


def first_frames(folder: str, limit: int = 10) -> np.ndarray:
    """The first ``limit`` frames of a frame folder (io's natural order)."""
    return np.stack(list(read_frames(folder, max_frames=limit)))


def bench_sharpen_cost(psnr_gt: Optional[str], psnr_lq: Optional[str],
                       psnr_label: Optional[str]) -> List[str]:
    lines = [
        '## PSNR cost of the sharpening vs amount', '',
        'PSNR (dB) to the ground truth of degraded frames, then of the same '
        'frames after `unsharp_mask(amount=a)` (3x3, sigma 0.8). Default '
        f'amount: {DEFAULT_SHARPEN_AMOUNT}. The paper (Table 1) loses 4.98 '
        'dB from fuse (31.81) to fuse+sharp (26.83).', '',
        '| content | unsharpened | ' +
        ' | '.join(f'a={a:g}' for a in AMOUNTS) + ' |',
        '|---|---|' + '---|' * len(AMOUNTS)
    ]
    cases = []
    try:
        import matplotlib.cbook
        path = matplotlib.cbook.get_sample_data(
            'grace_hopper.jpg', asfileobj=False)
        gt = cv2.imread(str(path))
        ok, buf = cv2.imencode('.jpg', gt, [cv2.IMWRITE_JPEG_QUALITY, 40])
        lq = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        cases.append(('grace_hopper.jpg (matplotlib), JPEG q40',
                      gt[None, ..., ::-1].copy(), lq[None, ..., ::-1].copy()))
    except Exception as err:  # an optional data source
        print(f'skipping grace_hopper: {err}', file=sys.stderr)
    if psnr_gt and psnr_lq:
        cases.append((psnr_label or f'{psnr_lq} vs {psnr_gt}',
                      first_frames(psnr_gt), first_frames(psnr_lq)))
    for name, gt, lq in cases:
        values = sharpen_cost(gt, lq)
        base = values[0]
        cells = [f'{base:.2f}'] + [
            f'{v:.2f} ({v - base:+.2f})' for v in values[1:]
        ]
        row = f'| {name} | ' + ' | '.join(cells) + ' |'
        print(row, flush=True)
        lines.append(row)
    return lines + ['']


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--repeats', type=int, default=3, help='timed runs (default: 3)')
    parser.add_argument(
        '--threads', type=int, default=None, help='torch threads')
    parser.add_argument(
        '--out',
        default=os.path.join(
            os.path.dirname(__file__), 'results', 'fusion.md'),
        help='markdown report (default: benchmarks/results/fusion.md)')
    parser.add_argument(
        '--psnr-gt', help='optional folder of ground-truth PNG frames')
    parser.add_argument(
        '--psnr-lq', help='optional folder of the matching degraded frames')
    parser.add_argument(
        '--psnr-label', help='how the --psnr-* frames were made (report)')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    info = machine_info()
    info['opencv'] = cv2.__version__
    run_and_report(
        args.out, 'ASTF fusion benchmark', info,
        lambda: bench_variance(args.repeats) + bench_sharpen_and_fusion(
            args.repeats) + bench_sharpen_cost(args.psnr_gt, args.psnr_lq,
                                               args.psnr_label))


if __name__ == '__main__':
    main()
