"""Inference speed and memory: networks, machine peak, the ASTF pipeline.

Usage::

    python benchmarks/bench_inference.py [--device cpu|cuda] [--amp]
        [--repeats 2] [--out benchmarks/results/inference.md]

Three sections, all from one run:

1. **Machine peak**: fp32 (or autocast) matmul and 3x3 64->64 convolution
   throughput, the physical limit the networks are compared against.
2. **Networks on the same input**: EnhanceNet against mmagic's
   ``BasicVSRNet`` of the same width and depth (the paper's 64 channels x 30
   blocks and the sample models' 16 x 2), time per frame, GFLOP per frame
   (multiply-adds x 2 of every convolution, counted with forward hooks),
   achieved GFLOP/s as a share of the measured convolution peak, and peak
   memory of the forward pass (each network in a fresh child process on
   CPU: resident memory polled during the forward minus before it; on CUDA:
   ``max_memory_allocated``). BasicVSRNet upsamples x4, EnhanceNet does not:
   the difference is the cost of the upsampler ASTF removes. EnhanceNet is
   also timed with channels-last weights and with 1/4-resolution
   propagation (``propagation_scale=4``).
3. **ASTF pipeline** with the shipped sample models at 480x270 and 960x536:
   frames/s of the three network passes timed one by one, of
   ``ASTF.enhance`` (networks + fusion + sharpening) with and without the
   refiners' shared flows and with NCHW instead of channels-last networks,
   and of the whole inference command (``tools/enhance_video.py``: decode,
   enhance, encode to lossless mkv),
   each as a ratio of the sum of the three passes.

Timings are medians of ``--repeats`` runs after one warm-up run.
"""
import argparse
import json
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import (ROOT, PeakRSS, add_device_args, autocast,  # noqa: E402
                    clip_frames, load_average, median_time, prepare_run,
                    write_report)

SAMPLE_CONFIG = 'configs/' + SAMPLE_ASTF_CONFIG
SAMPLE_CLIP = 'data/sample/gt/bbb_000'
# (mid_channels, num_blocks, frames, height, width) per device
NETWORK_CASES = {
    'cpu': [(64, 30, 5, 128, 128), (16, 2, 5, 270, 480)],
    'cuda': [(64, 30, 10, 270, 480), (16, 2, 10, 536, 960)],
}
PIPELINE_SIZES = {'cpu': [(480, 270, 8), (960, 536, 4)],
                  'cuda': [(480, 270, 30), (960, 536, 30)]}


def conv_flops(model: nn.Module, *inputs) -> float:
    """FLOPs (2 x multiply-adds) of every Conv2d in one forward pass."""
    total = [0.0]

    def hook(module, _, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        total[0] += 2. * output.numel() * module.in_channels / (
            module.groups) * k

    handles = [
        m.register_forward_hook(hook) for m in model.modules()
        if isinstance(m, nn.Conv2d)
    ]
    with torch.inference_mode():
        model(*inputs)
    for handle in handles:
        handle.remove()
    return total[0]


def machine_peak(device: str, amp: bool, repeats: int) -> Dict[str, float]:
    """Measured matmul and 3x3 convolution GFLOP/s (best of a few shapes)."""
    a = torch.randn(2048, 2048, device=device)
    b = torch.randn(2048, 2048, device=device)
    with torch.inference_mode(), autocast(device, amp):
        t_mm = median_time(lambda: a @ b, repeats + 4, device)
    conv_rates = []
    for channels, (n, h, w) in ((64, (1, 270, 480)), (64, (5, 128, 128)),
                                (128, (1, 128, 128))):
        conv = nn.Conv2d(channels, channels, 3, 1, 1).to(device)
        x = torch.randn(n, channels, h, w, device=device)
        with torch.inference_mode(), autocast(device, amp):
            seconds = median_time(lambda: conv(x), repeats + 4, device)
        conv_rates.append(2 * n * h * w * channels**2 * 9 / seconds / 1e9)
    return dict(matmul=2 * 2048**3 / t_mm / 1e9, conv=max(conv_rates))


#: network rows: label -> (network, EnhanceNet propagation_scale, whether
#: the weights are converted to channels-last)
NETWORKS = {
    'EnhanceNet': ('EnhanceNet', 1, False),
    'EnhanceNet, channels-last': ('EnhanceNet', 1, True),
    'EnhanceNet, 1/4-res propagation': ('EnhanceNet', 4, False),
    'BasicVSRNet': ('BasicVSRNet', 1, False),
}


def build_network(kind: str, mid: int, blocks: int,
                  propagation_scale: int = 1) -> nn.Module:
    from mmagic.models.editors.basicvsr.basicvsr_net import BasicVSRNet

    from astf_mm.models import EnhanceNet
    torch.manual_seed(0)
    if kind == 'EnhanceNet':
        return EnhanceNet(
            mid,
            blocks,
            zero_init_residual=False,
            propagation_scale=propagation_scale)
    return BasicVSRNet(mid_channels=mid, num_blocks=blocks)


def network_child(job: dict) -> dict:
    """Time and peak memory of one network (run in a fresh process)."""
    import astf_mm  # noqa: F401  (registers, applies the compat shims)
    device, amp, repeats = job['device'], job['amp'], job['repeats']
    if job['threads']:
        torch.set_num_threads(job['threads'])
    kind, scale, channels_last = NETWORKS[job['kind']]
    net = build_network(kind, job['mid'], job['blocks'], scale)
    net = net.to(device).eval()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    torch.manual_seed(1)
    x = torch.rand(1, job['frames'], 3, job['h'], job['w'], device=device)

    def forward():
        with torch.inference_mode(), autocast(device, amp):
            net(x)

    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        seconds = median_time(forward, repeats, device)
        peak = torch.cuda.max_memory_allocated() - before
    else:
        with PeakRSS() as rss:
            seconds = median_time(forward, repeats, device)
        peak = rss.peak
    flops = conv_flops(net, x)
    return dict(seconds=seconds, flops=flops, peak=peak)


def run_child(job: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, '--child', json.dumps(job)],
        cwd=ROOT, capture_output=True, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
    if proc.returncode or not lines:
        raise RuntimeError(f'benchmark child {job} failed:\n{proc.stderr}')
    return json.loads(lines[-1][len('RESULT '):])


def bench_networks(args, peak: Dict[str, float]) -> List[str]:
    lines = [
        '## EnhanceNet vs mmagic BasicVSRNet, same input, same width/depth',
        '', 'One clip of `frames` frames; BasicVSRNet outputs x4 the input '
        'size, EnhanceNet the input size. Peak memory: of the forward pass, '
        'above what the model and input already hold (CPU: resident memory '
        'polled every 2 ms). Channels-last: the weights converted with '
        '`net.to(memory_format=torch.channels_last)` (convolutions then '
        'produce channels-last features). 1/4-res propagation: EnhanceNet\'s '
        '`propagation_scale=4` (more FLOPs at the input and output '
        'convolutions, 1/16 of them in the propagation). '
        f'Share of peak: achieved / measured 3x3 conv peak ({peak["conv"]:.0f}'
        ' GFLOP/s).', '',
        '| network | channels x blocks | frames x size | s / frame | '
        'GFLOP / frame | GFLOP/s | share of peak | peak memory (MiB) |',
        '|---|---|---|---|---|---|---|---|'
    ]
    for mid, blocks, frames, h, w in NETWORK_CASES[args.kind]:
        results = {}
        for kind in NETWORKS:
            res = run_child(
                dict(kind=kind, mid=mid, blocks=blocks, frames=frames, h=h,
                     w=w, device=args.device, amp=args.amp,
                     repeats=args.repeats, threads=args.threads))
            results[kind] = res
            per_frame = res['seconds'] / frames
            gflop = res['flops'] / frames / 1e9
            rate = gflop / per_frame
            lines.append(
                f'| {kind} | {mid} x {blocks} | {frames} x {w}x{h} | '
                f'{per_frame:.3f} | {gflop:.1f} | {rate:.0f} | '
                f'{rate / peak["conv"]:.0%} | {res["peak"] / 2**20:.0f} |')
            print(lines[-1], flush=True)
        for kind in list(NETWORKS)[1:]:
            ratio = (results[kind]['seconds'] /
                     results['EnhanceNet']['seconds'])
            lines.append(f'| {kind} / EnhanceNet time | | | {ratio:.2f}x '
                         '| | | | |')
    return lines + ['']


def write_clip(frames: torch.Tensor, path: str) -> None:
    from astf_mm.io import VideoWriter
    with VideoWriter(path, fps=25, codec='ffv1') as writer:
        for frame in frames[0]:
            writer.write(
                frame.mul(255).round().byte().permute(1, 2, 0).numpy())


def bench_pipeline(args) -> List[str]:
    from astf_mm.apis import init_astf_model
    sys.path.insert(0, osp.join(ROOT, 'tools'))
    from enhance_video import enhance_video
    from enhance_video import parse_args as enhance_args
    model = init_astf_model(
        osp.join(ROOT, SAMPLE_CONFIG), device=args.device)
    nchw = init_astf_model(
        osp.join(ROOT, SAMPLE_CONFIG),
        cfg_options={'model.channels_last': False},
        device=args.device)
    shared = model.refiners_share_flows()
    lines = [
        '## ASTF pipeline with the sample models', '',
        f'`{SAMPLE_CONFIG}`; the refiners\' SPyNets are '
        f'{"identical: flows shared" if shared else "different: no sharing"}'
        '. Frames/s; ratio = time / (sum of the three network passes). '
        'The command row decodes a lossless (ffv1) clip, runs the pipeline '
        'in chunks of 30 frames and encodes a lossless mkv. The networks '
        'run channels-last (the default) except in the NCHW column.', '',
        '| size | frames | stage 1 | EnhanceNet1 | EnhanceNet2 | '
        'sum of passes | enhance, flows not shared | enhance, flows shared | '
        'enhance, flows shared, NCHW | inference command |',
        '|---|---|---|---|---|---|---|---|---|---|'
    ]
    for w, h, num in PIPELINE_SIZES[args.kind]:
        lqs = clip_frames(SAMPLE_CLIP, num, w, h,
                          'run python tools/data/make_sample_data.py')
        lqs = lqs.to(args.device)

        def timed(fn):
            def run():
                with torch.inference_mode(), autocast(args.device, args.amp):
                    fn()
            return median_time(run, args.repeats, args.device)

        stage1 = model.stage1(lqs).clamp(0, 1)
        passes = [
            timed(lambda: model.stage1(lqs)),
            timed(lambda: model.enhancenet1(stage1)),
            timed(lambda: model.enhancenet2(stage1)),
        ]
        total = sum(passes)
        model.share_flows = False
        separate = timed(lambda: model.enhance(lqs))
        model.share_flows = True
        together = timed(lambda: model.enhance(lqs))
        channels_first = timed(lambda: nchw.enhance(lqs))
        with tempfile.TemporaryDirectory() as tmp:
            clip = osp.join(tmp, 'in.mkv')
            write_clip(lqs.cpu(), clip)
            cmd = enhance_args([
                clip, '--output',
                osp.join(tmp, 'out.mkv'), '--device', args.device
            ])
            command = median_time(lambda: enhance_video(cmd), args.repeats,
                                  args.device)

        def cell(seconds):
            return f'{num / seconds:.2f} fps ({seconds / total:.2f})'

        lines.append(f'| {w}x{h} | {num} | ' +
                     ' | '.join(cell(s) for s in passes) +
                     f' | {cell(total)} | {cell(separate)} | '
                     f'{cell(together)} | {cell(channels_first)} | '
                     f'{cell(command)} |')
        print(lines[-1], flush=True)
    return lines + [
        '', 'The inference command row includes building the model (config, '
        'checkpoint loading, sha256 check) on every call, as a user\'s run '
        'does.', ''
    ]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, 'inference', repeats=2)
    parser.add_argument(
        '--skip', nargs='*', default=[], choices=['networks', 'pipeline'])
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print('RESULT', json.dumps(network_child(json.loads(args.child))))
        return
    import astf_mm  # noqa: F401
    out, info = prepare_run(args, 'bf16 autocast')
    load_before = load_average()
    start = time.perf_counter()
    peak = machine_peak(args.device, args.amp, args.repeats)
    body = [
        '## Machine peak', '',
        f'- matmul 2048x2048x2048: {peak["matmul"]:.0f} GFLOP/s',
        f'- conv 3x3 (best of 64 ch on 1x270x480 and 5x128x128, 128 ch on '
        f'1x128x128): {peak["conv"]:.0f} GFLOP/s', ''
    ]
    if 'networks' not in args.skip:
        body += bench_networks(args, peak)
    if 'pipeline' not in args.skip:
        body += bench_pipeline(args)
    write_report(out, 'Inference benchmark', info, load_before, start, body)


if __name__ == '__main__':
    main()
