"""Speed against the NTIRE 2021 winner: ASTF beside BasicVSR++ c128n25.

Usage::

    python benchmarks/bench_vs_basicvsrpp.py [--device cpu|cuda]
        [--frames 8] [--height 256] [--width 448] [--repeats 1]
        [--out benchmarks/results/vs_basicvsrpp_{cpu,cuda}.md]

One run, the same frames for every row: the first ``--frames`` frames of
the demo clip (``data/sample/demo/carphone_qp37.mkv``, HEVC QP37, 176x144)
upscaled bicubically to ``--width`` x ``--height``. Weights are random
(seeded): speed does not depend on them. Rows, in seconds per frame and as
a ratio to BasicVSR++:

- **BasicVSR++ c128n25** as mmagic's NTIRE 2021 decompression config builds
  it (``configs/peers/``, full-resolution input through strided
  convolutions, deformable convolution through ``astf_mm.compat`` when
  mmcv's compiled ops are missing); its test-time x8 flip ensemble runs the
  network on 8 flipped/transposed copies, stated as 8 x the single pass.
- **ASTF at paper width (c64b30)**, the end-to-end configs with full- and
  1/4-resolution propagation: each network alone (with its own flows), and
  the whole pipeline ``ASTF.enhance`` (stage 1, both refiners on shared
  flows, fusion and sharpening, channels-last networks, as the configs
  run it).

Timings are medians of ``--repeats`` runs after one warm-up run.
"""
import argparse
import os.path as osp
import sys
import tempfile
from typing import Dict, List, Optional

import torch
import torch.nn as nn

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from common import (add_device_args, autocast, clip_frames,  # noqa: E402
                    median_time, prepare_run, run_and_report)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CLIP = 'data/sample/demo/carphone_qp37.mkv'
PEER_CONFIG = ('configs/peers/'
               'basicvsr-pp_c128n25_ntire-decompress-track2_ldv-qp37.py')
#: row label -> end-to-end ASTF config
ASTF_CONFIGS = {
    'full-resolution propagation':
    'configs/astf/astf_fusion_c64b30_ldv-qp37.py',
    '1/4-resolution propagation':
    'configs/astf/astf_fusion_c64b30-ps4_ldv-qp37.py',
}
NETWORKS = ('stage1', 'enhancenet1', 'enhancenet2')
#: the issue's target: pipeline time <= this share of BasicVSR++'s
TARGET_RATIO = 0.5
#: passes of mmagic's SpatialTemporalEnsemble without temporal flips
ENSEMBLE_PASSES = 8


def demo_frames(num: int, width: int, height: int) -> torch.Tensor:
    """The demo clip's first ``num`` frames, (1, num, 3, height, width)."""
    return clip_frames(DEMO_CLIP, num, width, height,
                       'it ships with the repository (data/sample/demo).')


def build_peer() -> nn.Module:
    """BasicVSR++'s generator as the NTIRE 2021 peer config builds it."""
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    cfg = Config.fromfile(osp.join(ROOT, PEER_CONFIG))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg.model.generator).eval()


def random_astf(config: str, folder: str, device: str) -> nn.Module:
    """An end-to-end ASTF config's model with seeded random networks.

    Each network is saved as a checkpoint under ``folder`` and loaded the
    way a user's trained ones are (:func:`astf_mm.apis.init_astf_model`).
    The refiners get stage 1's SPyNet, as stage 2 keeps it frozen, so the
    pipeline shares their flows as it does with trained weights.
    """
    from mmengine.config import Config

    from astf_mm.apis import init_astf_model
    from astf_mm.models.weight_init import build_network
    cfg = Config.fromfile(osp.join(ROOT, config))
    paths, spynet = [], None
    for i, name in enumerate(NETWORKS):
        torch.manual_seed(i)
        network, _ = build_network(cfg.model[name].to_dict())
        if spynet is None:
            spynet = network.spynet.state_dict()
        else:
            network.spynet.load_state_dict(spynet)
        state = {f'generator.{k}': v for k, v in network.state_dict().items()}
        paths.append(osp.join(folder, f'{name}.pth'))
        torch.save({'state_dict': state}, paths[-1])
    model = init_astf_model(cfg, checkpoints=paths, device=device)
    if not model.refiners_share_flows():
        raise RuntimeError(f'{config}: the refiners do not share flows.')
    return model


def bench(args) -> List[str]:
    lqs = demo_frames(args.frames, args.width, args.height).to(args.device)
    num = lqs.size(1)

    def per_frame(fn) -> float:
        def run():
            with torch.inference_mode(), autocast(args.device, args.amp):
                fn()

        seconds = median_time(run, args.repeats, args.device)
        return seconds / num

    rows: Dict[str, float] = {}
    peer = build_peer().to(args.device)
    rows['BasicVSR++ c128n25, NTIRE 2021 decompression'] = per_frame(
        lambda: peer(lqs))
    peer = None  # frees its memory before ASTF's
    peer_time = next(iter(rows.values()))
    print(f'BasicVSR++: {peer_time:.3f} s/frame', flush=True)
    pipelines = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, config in ASTF_CONFIGS.items():
            if label.split('-')[0] not in args.propagation:
                continue
            model = random_astf(config, tmp, args.device)
            stage1 = model.stage1(lqs).clamp(0, 1)
            for name in NETWORKS:
                network = getattr(model, name)
                source = lqs if name == 'stage1' else stage1
                rows[f'{name} alone, {label}'] = per_frame(
                    lambda: network(source))
            pipelines[label] = per_frame(lambda: model.enhance(lqs))
            rows[f'ASTF pipeline, {label}'] = pipelines[label]
            print(f'ASTF, {label}: {pipelines[label]:.3f} s/frame',
                  flush=True)
            model = stage1 = None

    lines = [
        '## ASTF (c64b30) beside BasicVSR++ (c128n25, NTIRE 2021 '
        'decompression)', '',
        f'Frames: the first {num} frames of `{DEMO_CLIP}` (HEVC QP37, '
        f'176x144) upscaled bicubically to {args.width}x{args.height}, the '
        'same tensor for every row. Weights: random, seeded (speed does not '
        'depend on them). BasicVSR++: mmagic\'s `BasicVSRPlusPlusNet` as '
        f'`{PEER_CONFIG}` builds it (mid_channels 128, 25 blocks, '
        '`is_low_res_input=False`), deformable convolution through '
        'torchvision\'s `deform_conv2d` (`astf_mm.compat`) where mmcv has '
        'no compiled ops. ASTF: the end-to-end configs ('
        + ', '.join(f'`{ASTF_CONFIGS[label]}`' for label in pipelines)
        + '); each network '
        'alone computes its own flows; the pipeline is `ASTF.enhance` '
        '(stage 1, both refiners on shared flows, fusion, sharpening; '
        'channels-last networks). Ratio: time / BasicVSR++\'s time.', '',
        '| row | s / frame | ratio to BasicVSR++ |', '|---|---|---|'
    ]
    for label, seconds in rows.items():
        lines.append(f'| {label} | {seconds:.3f} | '
                     f'{seconds / peer_time:.2f}x |')
    lines.append(
        f'| BasicVSR++ with its x{ENSEMBLE_PASSES} flip ensemble '
        f'({ENSEMBLE_PASSES} x the single pass, not timed) | '
        f'{ENSEMBLE_PASSES * peer_time:.3f} | {ENSEMBLE_PASSES:.2f}x |')
    verdicts = []
    for label, seconds in pipelines.items():
        ratio = seconds / peer_time
        verdict = 'meets' if ratio <= TARGET_RATIO else 'misses'
        verdicts.append(f'the {label.split(" ")[0]} pipeline takes '
                        f'{ratio:.2f}x: it {verdict} the target')
    summary = '; '.join(verdicts)
    lines += [
        '', f'Target (issue 12): an LDV ASTF pipeline at most '
        f'{TARGET_RATIO}x BasicVSR++\'s time per frame. '
        f'{summary[0].upper()}{summary[1:]}.', ''
    ]
    return lines


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, 'vs_basicvsrpp', repeats=1)
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--height', type=int, default=256)
    parser.add_argument('--width', type=int, default=448)
    parser.add_argument(
        '--propagation', nargs='+', default=['full', '1/4'],
        choices=['full', '1/4'],
        help='which ASTF configs to time (full- and/or 1/4-resolution '
        'propagation)')
    args = parser.parse_args(argv)
    if min(args.height, args.width) < 256:
        # BasicVSR++'s SPyNet runs on 1/4-size frames in this mode and
        # needs at least 64 pixels there
        parser.error('BasicVSR++\'s decompression mode needs frames of at '
                     'least 256x256.')
    import astf_mm  # noqa: F401  (registers, applies the compat shims)
    out, info = prepare_run(args, 'bf16 autocast')
    run_and_report(out, 'ASTF against BasicVSR++ (NTIRE 2021 winner)',
                   info, lambda: bench(args))


if __name__ == '__main__':
    main()
