"""Equal CPU budget: how many iterations each peer trains in stage 1's time.

Usage::

    python benchmarks/bench_peer_budget.py [--repeats 5]
        [--out benchmarks/results/peer_budget_cpu.md]

The sample peers (EDVR and BasicVSR++ at sample width, ``configs/peers/``)
are trained for the time the sample stage 1 takes for its iterations. This
times one training step of each config as the runner takes it (model
``train_step`` on a batch of the config's clips x frames x crop: data
preprocessor, forward, loss, backward, Adam step, with every parameter
trained; data loading excluded)
and prints the iterations each peer gets: stage 1's iterations x its step
time / the peer's step time, the ``max_iters`` of its config.
"""
import argparse
import copy
import os.path as osp
from typing import List, Optional

from bench_training import make_batch, step_time
from common import add_device_args, prepare_run, run_and_report

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REFERENCE = ('sample stage 1 (EnhanceNet c16b2)',
             'configs/astf/sample/stage1_enhancenet_c16b2_1xb4-1000_sample-'
             'qp37.py')
PEERS = [
    ('EDVR, same size, c16',
     'configs/peers/edvr-same-size_c16_1xb4-equal-time_sample-qp37.py'),
    ('BasicVSR++ decompression mode, c16n2',
     'configs/peers/basicvsr-pp_c16n2_1xb4-equal-time_sample-qp37.py'),
]


def training_batch_shape(cfg):
    """(clips, frames, crop) of a config's training batch."""
    loader = cfg.train_dataloader
    crops = [
        step['gt_patch_size'] for step in loader.dataset.pipeline
        if step['type'] == 'PairedRandomCrop'
    ]
    return loader.batch_size, loader.dataset.num_input_frames, crops[0]


def bench(args) -> List[str]:
    from mmengine.config import Config
    lines = [
        '## Seconds per training step and equal-time iterations', '',
        '| config | batch (clips x frames x crop) | s/step | iterations in '
        "the reference's time |", '|---|---|---|---|'
    ]
    reference_time = None
    for title, path in [REFERENCE] + PEERS:
        cfg = Config.fromfile(osp.join(ROOT, path))
        # every parameter trains, as after fix_iter (SPyNet is held still
        # only for the first 10% of iterations of stage 1 and BasicVSR++)
        cfg.model.train_cfg = dict(fix_iter=0)
        clips, frames, crop = training_batch_shape(cfg)
        seconds = step_time(cfg.model, copy.deepcopy(cfg.optim_wrapper),
                            make_batch(clips, frames, crop, 1), args.device,
                            args.amp, args.repeats)
        if reference_time is None:
            reference_time = seconds * cfg.train_cfg.max_iters
        iterations = round(reference_time / seconds)
        lines.append(f'| {title} (`{osp.basename(path)}`) | {clips} x '
                     f'{frames} x {crop} | {seconds:.2f} | {iterations} |')
        print(lines[-1], flush=True)
    return lines + [
        '', f'Reference time: {reference_time:.0f} s of training steps '
        '(data loading excluded: the runner overlaps it with compute).', ''
    ]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_device_args(parser, 'peer_budget', repeats=5)
    args = parser.parse_args(argv)
    from mmengine.registry import init_default_scope

    import astf_mm  # noqa: F401
    init_default_scope('mmagic')  # as the runner does for our configs
    out, info = prepare_run(args, 'bf16 autocast (AmpOptimWrapper)')
    run_and_report(out, 'Equal-time budget of the sample peers', info,
                   lambda: bench(args))


if __name__ == '__main__':
    main()
