"""Pretrain mmagic's SPyNet offline, on synthetic motion of your own frames.

BasicVSR (and so EnhanceNet) starts from a SPyNet pretrained on optical-flow
datasets, downloaded from the OpenMMLab site. Where that is not reachable
(this project's CI, air-gapped clusters), this tool trains one from any
frame folders: every sample is a crop of a real frame and a copy of it
warped by a known flow (a global translation plus a smooth random field),
and SPyNet learns to recover that flow (end-point error). The result is an
mmagic-format SPyNet checkpoint for ``spynet_pretrained=``.

    python tools/pretrain_spynet.py data/sample \
        --ann-file meta_info_train.txt \
        --out checkpoints/sample/spynet_synthetic-motion_sample.pth

It also reports the end-point error on real panned clips, whose flow is
known exactly (``--eval VIDEO:DX,DY``: the window moves by DX, DY pixels
per frame, so content moves by -DX, -DY). Interrupted runs resume from
``{work_dir}/latest.pth``; the output is written atomically.
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

import astf_mm  # noqa: F401  (compat shims before mmagic)
from astf_mm.datasets import videos_from_ann
from astf_mm.io import (OutputPathError, atomic_write, atomic_write_bytes,
                        check_output_path, read_frames)
from astf_mm.utils.checkpoint import checkpoint_bytes


def load_videos(data_root: str, folder: str, names: Sequence[str],
                max_frames: int = 30) -> List[torch.Tensor]:
    """Frame folders as (t, 3, h, w) float tensors in [0, 1]."""
    videos = []
    for name in names:
        path = osp.join(data_root, folder, name)
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path}: no such frame folder.')
        frames = np.stack(list(read_frames(path, max_frames=max_frames)))
        videos.append(
            torch.from_numpy(frames).permute(0, 3, 1, 2).float().div_(255))
    return videos


def random_flow(n: int, size: int, max_shift: float, smooth: float,
                generator: torch.Generator) -> torch.Tensor:
    """(n, 2, size, size) flows: translation + smooth random deformation."""
    shift = (torch.rand(n, 2, 1, 1, generator=generator) * 2 - 1) * max_shift
    coarse = torch.randn(n, 2, 4, 4, generator=generator) * smooth
    field = F.interpolate(
        coarse, size=(size, size), mode='bicubic', align_corners=False)
    still = torch.rand(n, 1, 1, 1, generator=generator) < 0.1
    return torch.where(still, torch.zeros(()), shift + field)


def sample_batch(videos: List[torch.Tensor], batch: int, crop: int,
                 margin: int, max_shift: float, smooth: float,
                 generator: torch.Generator
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pairs (ref, supp) and the flow with ``flow_warp(supp, flow) = ref``."""
    from mmagic.models.utils import flow_warp
    big = crop + 2 * margin
    crops = []
    for _ in range(batch):
        video = videos[int(torch.randint(len(videos), (1, ),
                                         generator=generator))]
        t, _, h, w = video.shape
        if h < big or w < big:
            raise ValueError(f'Frames of {h}x{w} are smaller than crop + '
                             f'2 x margin = {big}.')
        i = int(torch.randint(t, (1, ), generator=generator))
        y = int(torch.randint(h - big + 1, (1, ), generator=generator))
        x = int(torch.randint(w - big + 1, (1, ), generator=generator))
        crops.append(video[i, :, y:y + big, x:x + big])
    supp = torch.stack(crops)
    flow = random_flow(batch, big, max_shift, smooth, generator)
    flow = flow.clamp(-margin, margin)
    ref = flow_warp(supp, flow.permute(0, 2, 3, 1), padding_mode='border')
    inner = (slice(None), slice(None), slice(margin, margin + crop),
             slice(margin, margin + crop))
    return ref[inner], supp[inner], flow[inner]


def end_point_error(pred: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    # the epsilon keeps the gradient finite where the error is exactly 0
    # (at zero-flow init on still samples): a NaN flow would reach
    # grid_sample, which does not check its coordinates
    return (pred - flow).pow(2).sum(dim=1).add(1e-8).sqrt().mean()


@torch.no_grad()
def pan_epe(spynet, video: torch.Tensor, step: Tuple[float, float],
            border: int = 16) -> float:
    """EPE on a clip panned by ``step`` px/frame (interior pixels)."""
    ref, supp = video[:-1], video[1:]
    pred = spynet(ref, supp)
    target = torch.tensor([-step[0], -step[1]]).view(1, 2, 1, 1)
    inner = pred[..., border:-border, border:-border]
    return float(end_point_error(inner, target.expand_as(inner)))


def parse_eval(specs: Sequence[str]) -> List[Tuple[str, Tuple[float, float]]]:
    out = []
    for spec in specs:
        try:
            name, step = spec.split(':')
            dx, dy = (float(v) for v in step.split(','))
        except ValueError:
            raise ValueError(f'--eval takes VIDEO:DX,DY, got {spec!r}.'
                             ) from None
        out.append((name, (dx, dy)))
    return out


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root', help='dataset root (e.g. data/sample)')
    parser.add_argument(
        '--ann-file',
        default='meta_info_train.txt',
        help='videos to train on (relative to data_root)')
    parser.add_argument(
        '--folder', default='lq', help='frame folder under data_root')
    parser.add_argument('--out', required=True, help='SPyNet checkpoint')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing --out (refused without it)')
    parser.add_argument('--work-dir', default='work_dirs/pretrain_spynet')
    parser.add_argument('--iters', type=int, default=1200)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--crop', type=int, default=96)
    parser.add_argument('--max-shift', type=float, default=10.)
    parser.add_argument('--smooth', type=float, default=1.5)
    parser.add_argument('--lr', type=float, default=3e-4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--eval',
        nargs='*',
        default=['astronaut_pan:6,3', 'coffee_pan:-6,2'],
        help='panned validation clips VIDEO:DX,DY (window step per frame)')
    parser.add_argument('--eval-folder', default='lq')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    # refused before any training, never after it
    try:
        check_output_path(args.out, [args.data_root],
                          overwrite=args.overwrite, name='--out')
    except OutputPathError as e:
        sys.exit(str(e))
    from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet
    names = videos_from_ann(args.data_root, [args.ann_file])
    videos = load_videos(args.data_root, args.folder, names)
    evals = [(name, step, load_videos(args.data_root, args.eval_folder,
                                      [name])[0])
             for name, step in parse_eval(args.eval)]
    margin = int(np.ceil(args.max_shift + 3 * args.smooth))
    torch.manual_seed(args.seed)
    spynet = SPyNet(pretrained=None)
    # start at zero flow (a random SPyNet predicts flows of hundreds of px)
    for level in spynet.basic_module:
        torch.nn.init.zeros_(level.basic_module[-1].conv.weight)
        torch.nn.init.zeros_(level.basic_module[-1].conv.bias)
    optimizer = torch.optim.Adam(spynet.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.work_dir, exist_ok=True)
    latest = osp.join(args.work_dir, 'latest.pth')
    start = 0
    if osp.isfile(latest):
        state = torch.load(latest, weights_only=True)
        spynet.load_state_dict(state['spynet'])
        optimizer.load_state_dict(state['optimizer'])
        generator.set_state(state['generator'])
        start = state['iter']
        print(f'resuming from {latest} at iteration {start}')

    def report(tag: str) -> None:
        for name, step, video in evals:
            print(f'{tag}: EPE on {name} (pan {step}) = '
                  f'{pan_epe(spynet.eval(), video, step):.3f} px')
        spynet.train()

    if start == 0:
        report('zero-flow init')
    bar = tqdm(range(start, args.iters), initial=start, total=args.iters,
               desc='SPyNet', unit='it')
    for it in bar:
        ref, supp, flow = sample_batch(videos, args.batch_size, args.crop,
                                       margin, args.max_shift, args.smooth,
                                       generator)
        loss = end_point_error(spynet(ref, supp), flow)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bar.set_postfix(epe=f'{loss.item():.3f}', refresh=False)
        if (it + 1) % 100 == 0 or it + 1 == args.iters:
            state = dict(
                spynet=spynet.state_dict(),
                optimizer=optimizer.state_dict(),
                generator=generator.get_state(),
                iter=it + 1)
            atomic_write(latest, lambda tmp: torch.save(state, tmp))
    report(f'after {args.iters} iterations')
    # mmagic's SPyNet checkpoint format: the flow modules, not mean/std
    weights = {
        k: v
        for k, v in spynet.state_dict().items() if k.startswith('basic_module')
    }
    atomic_write_bytes(args.out, checkpoint_bytes(weights),
                       overwrite=args.overwrite)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
