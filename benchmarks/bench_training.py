"""Training speed: our stage-1/stage-2 configs vs mmagic's BasicVSR.

Usage::

    python benchmarks/bench_training.py [--device cpu|cuda] [--amp]
        [--repeats 3] [--out benchmarks/results/training_{cpu,cuda}.md]

Builds each model and optimiser from its config, exactly as the runner
does (model ``train_step``: data preprocessor, forward, loss, backward,
Adam step), and times steps on one batch of the config's shape: the sample
configs' 4 clips x 5 frames x 64x64, and the paper's EnhanceNet (64
channels x 30 blocks) on 1 clip x 5 frames x 64x64 (its 4 x 15-frame batch
takes minutes per step on a CPU; ``--paper-batch`` uses it). mmagic's
BasicVSR runs with the same generator width/depth, the same optimiser and
loss, and the same input clip (its x4 upsampler makes its output, and the
ground truth it is compared to, 256x256).

The cost of the LPIPS loss within a step is the step time minus that of the
same step with the loss replaced by a Charbonnier loss (whose own cost is
negligible).
"""
import argparse
import copy
import os.path as osp
from typing import List, Optional, Tuple

import torch
from common import add_device_args, median_time, prepare_run, run_and_report

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE = 'configs/astf/sample/'
CONFIGS = [
    ('stage 1 (sample)',
     SAMPLE + 'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py'),
    ('EnhanceNet1, LPIPS (sample)',
     SAMPLE + 'stage2_enhancenet1-lpips_c16b2_1xb4-500_sample-qp37.py'),
    ('EnhanceNet2, trade-off (sample)',
     SAMPLE + 'stage2_enhancenet2-tradeoff_c16b2_1xb4-250_sample-qp37.py'),
    ('stage 1 (paper width)',
     'configs/astf/stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py'),
]
CHARBONNIER = dict(
    type='CharbonnierLoss', loss_weight=1.0, reduction='mean', eps=1e-12)


def load_config(path: str):
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, path))
    gen = cfg.model.generator
    gen.spynet_pretrained = None  # not reachable offline; speed is the same
    gen.pop('init_cfg', None)  # stage 2 starts from stage 1: not needed here
    cfg.model.train_cfg = dict(fix_iter=cfg.model.train_cfg.fix_iter)
    return cfg


def batch_shape(cfg, paper_batch: bool) -> Tuple[int, int, int]:
    """(clips, frames, crop) of the config's training batch."""
    loader = cfg.train_dataloader
    frames = loader.dataset.get('num_input_frames', 15)
    clips = loader.batch_size
    crop = 64
    if cfg.model.generator.mid_channels == 64 and not paper_batch:
        clips, frames = 1, 5
    return clips, frames, crop


def make_batch(clips: int, frames: int, crop: int, scale: int) -> dict:
    from mmagic.structures import DataSample
    torch.manual_seed(0)
    inputs = torch.rand(clips, frames, 3, crop, crop) * 255
    samples = [
        DataSample(gt_img=torch.rand(frames, 3, crop * scale, crop * scale) *
                   255) for _ in range(clips)
    ]
    return dict(inputs=inputs, data_samples=samples)


def step_time(model_cfg, optim_cfg, batch: dict, device: str, amp: bool,
              repeats: int) -> float:
    from mmagic.registry import MODELS
    from mmengine.optim import build_optim_wrapper
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(model_cfg)).to(device).train()
    optim_cfg = copy.deepcopy(optim_cfg)
    if amp and device.startswith('cuda'):
        optim_cfg['type'] = 'AmpOptimWrapper'
        optim_cfg['dtype'] = 'bfloat16'
    optim = build_optim_wrapper(model, optim_cfg)
    return median_time(lambda: model.train_step(batch, optim), repeats,
                       device)


def bench(args) -> List[str]:
    lines = [
        '## Seconds per training step (iterations/s in brackets)', '',
        '| config | batch (clips x frames x crop) | ours | LPIPS loss share '
        '| mmagic BasicVSR, same width/depth | BasicVSR / ours |',
        '|---|---|---|---|---|---|'
    ]
    for title, path in CONFIGS:
        cfg = load_config(path)
        clips, frames, crop = batch_shape(cfg, args.paper_batch)
        batch = make_batch(clips, frames, crop, 1)
        ours = step_time(cfg.model, cfg.optim_wrapper, batch, args.device,
                         args.amp, args.repeats)
        lpips_share = ''
        if cfg.model.pixel_loss.type != 'CharbonnierLoss':
            plain = copy.deepcopy(cfg.model)
            plain.pixel_loss = CHARBONNIER
            without = step_time(plain, cfg.optim_wrapper, batch, args.device,
                                args.amp, args.repeats)
            lpips_share = (f'{ours - without:.2f} s ('
                           f'{(ours - without) / ours:.0%})')
        basicvsr = copy.deepcopy(cfg.model)
        basicvsr.generator = dict(
            type='BasicVSRNet',
            mid_channels=cfg.model.generator.mid_channels,
            num_blocks=cfg.model.generator.num_blocks,
            spynet_pretrained=None)
        theirs = step_time(basicvsr, cfg.optim_wrapper,
                           make_batch(clips, frames, crop, 4), args.device,
                           args.amp, args.repeats)
        lines.append(f'| {title} | {clips} x {frames} x {crop} | '
                     f'{ours:.2f} ({1 / ours:.2f}) | {lpips_share} | '
                     f'{theirs:.2f} ({1 / theirs:.2f}) | '
                     f'{theirs / ours:.2f}x |')
        print(lines[-1], flush=True)
    return lines + [
        '', 'Data loading is not included (the runner overlaps it with '
        'compute in its worker processes).', ''
    ]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, 'training', repeats=3)
    parser.add_argument(
        '--paper-batch',
        action='store_true',
        help='the paper config at its own batch (4 x 15 frames)')
    args = parser.parse_args(argv)
    from mmengine.registry import init_default_scope

    import astf_mm  # noqa: F401
    init_default_scope('mmagic')  # as the runner does for our configs
    out, info = prepare_run(args, 'bf16 autocast (AmpOptimWrapper)')
    run_and_report(out, 'Training benchmark', info, lambda: bench(args))


if __name__ == '__main__':
    main()
