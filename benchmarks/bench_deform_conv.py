"""The torchvision deformable-convolution stand-in against mmcv's compiled op.

Usage::

    PYTHONPATH=FULL_MMCV_DIR python benchmarks/bench_deform_conv.py \
        [--device cpu|cuda] [--repeats 5] \
        [--out benchmarks/results/deform_conv_{cpu,cuda}.md]

``astf_mm.compat`` runs mmcv's (modulated) deformable convolutions on
``torchvision.ops.deform_conv2d`` when mmcv's compiled ops are missing. This
times both on the same tensors in one process: mmcv's compiled
``modulated_deform_conv2d`` / ``deform_conv2d`` and the stand-ins
(``astf_mm.compat.torchvision_modulated_deform_conv2d`` /
``torchvision_deform_conv2d``), forward alone and forward + backward, and
reports how far their outputs and gradients are apart. It needs the full
mmcv importable (it is not a dependency): build it once in a scratch folder
without touching the environment, then put that folder first on the path::

    MMCV_WITH_OPS=1 MAX_JOBS=2 python -m pip install --no-build-isolation \
        --no-deps --no-binary mmcv --target FULL_MMCV_DIR mmcv==2.1.0

Rows are the deformable convolutions of the restorers we compare with, at
the sizes they run: BasicVSR++ c128 (second-order alignment, 256 -> 128
channels, 16 deform groups) and EDVR c64 (the level-1 convolution of PCD,
8 deform groups) at 1/4 of 256x448, the unmodulated op (TDAN's kind) at
the same size, and the sample BasicVSR++ c16 training batch. Offsets are
random and fractional (std 2 px), masks random in (0, 1); timings are
medians of ``--repeats`` rounds after one warm-up, the two backends taking
turns in every round.
"""
import argparse
from functools import partial
from typing import Callable, Dict, List, NamedTuple, Optional

import torch
from common import (add_device_args, interleaved_median_times, prepare_run,
                    run_and_report)

FULL_MMCV_HINT = (
    'mmcv with compiled ops is not importable, so there is nothing to '
    'compare the stand-in with. Build it once in a scratch folder (11 min '
    'on 2 cores here) and put that folder first on PYTHONPATH:\n'
    '  MMCV_WITH_OPS=1 MAX_JOBS=2 python -m pip install --no-build-isolation '
    '--no-deps --no-binary mmcv --target FULL_MMCV_DIR mmcv==2.1.0\n'
    '  PYTHONPATH=FULL_MMCV_DIR python benchmarks/bench_deform_conv.py')


class Case(NamedTuple):
    name: str
    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    deform_groups: int
    modulated: bool


CASES = [
    Case('BasicVSR++ c128 second-order alignment, 1/4 of 256x448', 1, 256, 128,
         64, 112, 16, True),
    Case('EDVR c64 PCD level-1 deformable conv, 1/4 of 256x448', 1, 64,
         64, 64, 112, 8, True),
    Case('unmodulated DeformConv2d (TDAN-like), c64, 8 groups, 64x112', 1,
         64, 64, 64, 112, 8, False),
    Case('BasicVSR++ c16 sample training batch (4 x 1/4 of 256x256)', 4, 32,
         16, 64, 64, 16, True),
]


def make_inputs(case: Case, device: str) -> Dict[str, torch.Tensor]:
    """Seeded tensors of one case; ``mask`` only for modulated cases."""
    gen = torch.Generator().manual_seed(0)
    kernel = 3 * 3
    n, h, w = case.batch, case.height, case.width

    def rand(*shape):
        return torch.randn(*shape, generator=gen).to(device)

    tensors = dict(
        input=rand(n, case.in_channels, h, w),
        offset=rand(n, 2 * case.deform_groups * kernel, h, w) * 2,
        weight=rand(case.out_channels, case.in_channels, 3, 3) * 0.05)
    if case.modulated:
        tensors['mask'] = torch.sigmoid(
            rand(n, case.deform_groups * kernel, h, w))
        tensors['bias'] = rand(case.out_channels) * 0.1
    return tensors


def deform_ops(case: Case) -> Dict[str, Callable]:
    """Backend name -> fn(tensors) for a case: compiled mmcv, stand-in."""
    from mmcv.ops import deform_conv2d, modulated_deform_conv2d

    from astf_mm.compat import (torchvision_deform_conv2d,
                                torchvision_modulated_deform_conv2d)
    dg = case.deform_groups

    def modulated(op):
        return lambda t: op(t['input'], t['offset'], t['mask'], t['weight'], t[
            'bias'], 1, 1, 1, 1, dg)

    def plain(op):
        return lambda t: op(t['input'], t['offset'], t['weight'], 1, 1, 1, 1,
                            dg)

    wrap = modulated if case.modulated else plain
    if case.modulated:
        return {
            'mmcv compiled': wrap(modulated_deform_conv2d),
            'torchvision stand-in': wrap(torchvision_modulated_deform_conv2d)
        }
    return {
        'mmcv compiled': wrap(deform_conv2d),
        'torchvision stand-in': wrap(torchvision_deform_conv2d)
    }


def forward_backward(
        op: Callable, tensors: Dict[str,
                                    torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Output and the gradients of ``sum(out * g)`` for a fixed ``g``."""
    leaves = {
        k: v.detach().clone().requires_grad_()
        for k, v in tensors.items()
    }
    out = op(leaves)
    g = torch.cos(
        torch.arange(out.numel(), device=out.device,
                     dtype=out.dtype)).view_as(out)
    (out * g).sum().backward()
    result = {'output': out.detach()}
    result.update({k: v.grad for k, v in leaves.items()})
    return result


def relative_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b|."""
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def bench(args) -> List[str]:
    lines = [
        '## Seconds per call', '',
        '| case | backend | forward (s) | forward + backward (s) |',
        '|---|---|---|---|'
    ]
    gaps = [
        '', '## Agreement (stand-in vs compiled, max |diff| / max |compiled|)',
        '', '| case | output | input grad | offset grad | mask grad | '
        'weight grad |', '|---|---|---|---|---|---|'
    ]
    ratios = [
        '', '## Ratio (stand-in time / compiled time)', '',
        '| case | forward | forward + backward |', '|---|---|---|'
    ]
    for case in CASES:
        tensors = make_inputs(case, args.device)
        ops = deform_ops(case)
        with torch.no_grad():
            forward = interleaved_median_times(
                {b: partial(op, tensors) for b, op in ops.items()},
                args.repeats, args.device)
        both = interleaved_median_times(
            {b: partial(forward_backward, op, tensors)
             for b, op in ops.items()}, args.repeats, args.device)
        times = {b: (forward[b], both[b]) for b in ops}
        for backend, (fwd, fwd_bwd) in times.items():
            lines.append(f'| {case.name} | {backend} | {fwd:.4f} | '
                         f'{fwd_bwd:.4f} |')
            print(lines[-1], flush=True)
        compiled, stand_in = (
            forward_backward(op, tensors) for op in ops.values())
        cells = [
            f'{relative_gap(stand_in[k], compiled[k]):.1e}'
            if k in compiled else 'n/a'
            for k in ('output', 'input', 'offset', 'mask', 'weight')
        ]
        gaps.append(f'| {case.name} | ' + ' | '.join(cells) + ' |')
        (cf, cb), (sf, sb) = times.values()
        ratios.append(f'| {case.name} | {sf / cf:.2f}x | {sb / cb:.2f}x |')
    return lines + ratios + gaps


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, 'deform_conv', repeats=5)
    args = parser.parse_args(argv)
    from astf_mm.compat import mmcv_has_compiled_ops
    if not mmcv_has_compiled_ops():
        raise SystemExit(FULL_MMCV_HINT)
    out, info = prepare_run(args, amp_precision='fp32')
    import mmcv
    info['mmcv'] = f'{mmcv.__version__} (compiled ops, {mmcv.__file__})'
    import torchvision
    info['torchvision'] = torchvision.__version__
    run_and_report(
        out, 'torchvision deformable-convolution stand-in vs mmcv compiled',
        info, lambda: bench(args))


if __name__ == '__main__':
    main()
