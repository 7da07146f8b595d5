"""Choose the unsharp-mask amount: fidelity and LPIPS of fuse+sharp vs amount.

The paper sharpens the fused output with a 3x3 Gaussian unsharp mask but
gives no amount. This tool runs the three networks of an end-to-end ASTF
config once over the videos of a dataset split, applies the unsharp mask to
the fused output at each ``--amounts`` value, and reports PSNR, SSIM and
LPIPS-alex against the ground truth (frames rounded to 8 bits, averaged over
each video's frames, then over videos, as ``tools/test.py``), beside the
compressed input.

``python tools/analysis_tools/sharpen_sweep.py CONFIG --ann-file
meta_info_train.txt --out sweep.md`` (``--video-stride N``: every Nth
video, for a large split; ``--out-json scores.json``: every video's
scores). Each row also counts the videos it leaves below their input and
names the worst.

It names the largest amount whose PSNR stays at or above the compressed
input's (averaged over videos): the strongest sharpening that does not
leave the output less faithful than what came in. Choose it on clips you
do not report, never on the held-out videos (the sample models: the
training split, which holds more clean, high-PSNR content than the
validation split and is the stricter of the two there).

``--enhancenet1 CKPT [CKPT ...]`` and ``--enhancenet2 CKPT [CKPT ...]``
sweep refiner candidates (e.g. the checkpoints of their training runs),
every pair with the same stage 1: each pair gets its amount by the rule
above, and the pair with the lowest LPIPS at its amount is named. A
perceptual refiner keeps trading fidelity for texture as it trains, and
where that stops paying depends on the content, so its checkpoint is
chosen with the fusion and the sharpening, not by its own validation LPIPS.
"""
import argparse
import itertools
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import frames_to_tensor, init_astf_model, tensor_to_frames
from astf_mm.datasets import videos_from_ann
from astf_mm.evaluation import frame_psnr, frame_ssim
from astf_mm.io import atomic_write_text, read_frames
from astf_mm.models.fusion import unsharp_mask
from astf_mm.models.perceptual_nets import build_lpips
from astf_mm.utils.cli import add_astf_model_args

DEFAULT_AMOUNTS = (0., 0.1, 0.2, 0.3, 0.5, 0.75, 1.)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='PSNR/SSIM/LPIPS of the sharpened fusion vs amount')
    parser.add_argument('config', help='end-to-end ASTF config')
    add_astf_model_args(parser)
    parser.add_argument(
        '--data-root',
        help='dataset root (default: the config\'s test data root)')
    parser.add_argument(
        '--ann-file',
        default='meta_info_train.txt',
        help='annotation file of the videos, relative to the data root')
    parser.add_argument(
        '--amounts',
        type=float,
        nargs='+',
        default=list(DEFAULT_AMOUNTS),
        help='unsharp-mask amounts to try')
    parser.add_argument(
        '--max-frames', type=int, help='first N frames of each video')
    parser.add_argument(
        '--video-stride',
        type=int,
        default=1,
        help='every Nth video of the annotation file, from the first (a '
        'spread-out subset of a large training split)')
    for net in ('enhancenet1', 'enhancenet2'):
        parser.add_argument(
            f'--{net}',
            nargs='+',
            metavar='CKPT',
            help=f'{net} checkpoints to choose from (default: the '
            'config\'s, or the one of --checkpoints)')
    parser.add_argument('--out', help='write the table here (markdown)')
    parser.add_argument(
        '--out-json',
        help='write every video\'s scores here (JSON: one entry per '
        'candidate pair, row -> video -> PSNR/SSIM/LPIPS)')
    args = parser.parse_args(argv)
    if args.video_stride < 1:
        parser.error(f'--video-stride must be >= 1, got {args.video_stride}')
    if (args.enhancenet1 or args.enhancenet2) and args.sha256:
        parser.error('--sha256 pins one checkpoint per network; it cannot '
                     'be given with --enhancenet1/--enhancenet2 candidates')
    return args


class SweepScores:
    """Per-video means of PSNR/SSIM/LPIPS for each row of the sweep."""

    def __init__(self, lpips_net: torch.nn.Module) -> None:
        self.lpips = lpips_net
        self.videos: Dict[str, Dict[str, Dict[str, float]]] = {}

    @torch.no_grad()
    def add(self, row: str, video: str, pred: np.ndarray,
            gt: np.ndarray) -> None:
        """Score ``(t, h, w, 3)`` uint8 frames against the ground truth."""
        device = next(self.lpips.parameters()).device
        to_tensor = (lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).to(
            device).float().div_(255.))
        lpips = self.lpips(to_tensor(pred), to_tensor(gt), normalize=True)
        self.videos.setdefault(row, {})[video] = dict(
            PSNR=float(np.mean([frame_psnr(p, g) for p, g in zip(pred, gt)])),
            SSIM=float(np.mean([frame_ssim(p, g) for p, g in zip(pred, gt)])),
            LPIPS=float(lpips.mean()))

    def mean(self, row: str, metric: str) -> float:
        return float(np.mean([v[metric] for v in self.videos[row].values()]))

    def psnr_vs(self, row: str, baseline: str = 'lq') -> Dict[str, float]:
        """Each video's PSNR in ``row`` minus its PSNR in ``baseline``."""
        base = self.videos[baseline]
        return {
            video: scores['PSNR'] - base[video]['PSNR']
            for video, scores in self.videos[row].items()
        }


def best_amount(scores: SweepScores, amounts: Sequence[float],
                baseline: str = 'lq') -> Optional[float]:
    """The largest amount whose mean PSNR is >= the baseline row's."""
    floor = scores.mean(baseline, 'PSNR')
    kept = [a for a in amounts if scores.mean(f'a={a:g}', 'PSNR') >= floor]
    return max(kept) if kept else None


Candidate = Tuple[Optional[str], Optional[str]]


def best_candidate(
    chosen: Dict[Candidate, Tuple[Optional[float], SweepScores]]
) -> Optional[Tuple[Candidate, float]]:
    """The refiner pair with the lowest LPIPS at its chosen amount.

    Args:
        chosen (dict): (EnhanceNet1, EnhanceNet2) checkpoints -> (the
            pair's amount from :func:`best_amount`, or None when no amount
            keeps the input's PSNR; its scores).

    Returns:
        tuple | None: The pair and its amount; None when no pair has an
        amount.
    """
    kept = [(scores.mean(f'a={amount:g}', 'LPIPS'), pair, amount)
            for pair, (amount, scores) in chosen.items()
            if amount is not None]
    if not kept:
        return None
    _, pair, amount = min(kept, key=lambda item: item[0])
    return pair, amount


class RefinerRuns:
    """The models that give every candidate's output with the fewest runs.

    Run k holds EnhanceNet1 candidate k and EnhanceNet2 candidate k (the
    shorter list repeats its last); the first run also holds stage 1, whose
    output the others refine, so a clip costs one stage-1 pass and as many
    passes of each refiner as the longer list has candidates (not one per
    pair), and every pair is then fused from those outputs by the first
    model's own :meth:`~astf_mm.models.ASTF.fuse`.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.enhancenet1 = args.enhancenet1 or [None]
        self.enhancenet2 = args.enhancenet2 or [None]
        self.pairs: List[Candidate] = list(
            itertools.product(self.enhancenet1, self.enhancenet2))
        runs = max(len(self.enhancenet1), len(self.enhancenet2))
        last1, last2 = len(self.enhancenet1) - 1, len(self.enhancenet2) - 1
        self.runs = [(self.enhancenet1[min(k, last1)],
                      self.enhancenet2[min(k, last2)]) for k in range(runs)]
        self.models = [
            build_candidate(args, pair, with_stage1=k == 0)
            for k, pair in enumerate(self.runs)
        ]

    @torch.no_grad()
    def fused(self, lqs: torch.Tensor) -> Tuple[Dict[
            Candidate, torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
        """Every pair's projected fusion of ``lqs``, and the projection."""
        first = self.models[0]
        finish = first.chroma_projection(lqs)
        out = first.enhance(lqs)
        stage1 = out.get('stage1', lqs)
        refined = {(1, self.runs[0][0]): out['enhancenet1'],
                   (2, self.runs[0][1]): out['enhancenet2']}
        for (e1, e2), model in zip(self.runs[1:], self.models[1:]):
            out = model.enhance(stage1)
            refined.setdefault((1, e1), out['enhancenet1'])
            refined.setdefault((2, e2), out['enhancenet2'])
        return {
            pair: first.fuse(refined[(1, pair[0])], refined[(2, pair[1])],
                             finish)['fused']
            for pair in self.pairs
        }, finish


def score_videos(runs: RefinerRuns, data_root: str, videos: List[str],
                 args: argparse.Namespace,
                 lpips_net: torch.nn.Module) -> Dict[Candidate, SweepScores]:
    """Scores of the input and of each pair's fuse+sharp at every amount."""
    scores = {pair: SweepScores(lpips_net) for pair in runs.pairs}
    # the input is scored once; every pair's table shares its row
    inputs = SweepScores(lpips_net)
    for video in tqdm(videos, desc='videos', unit='video'):
        lq = list(
            read_frames(
                osp.join(data_root, 'lq', video), max_frames=args.max_frames))
        gt = np.stack(
            list(
                read_frames(
                    osp.join(data_root, 'gt', video),
                    max_frames=args.max_frames)))
        if len(lq) != len(gt) or lq[0].shape != gt[0].shape:
            raise ValueError(
                f'{video}: lq has {len(lq)} frames of {lq[0].shape}, gt '
                f'{len(gt)} of {gt[0].shape} under {data_root}.')
        with torch.inference_mode():
            fused, finish = runs.fused(frames_to_tensor(lq, args.device))
            inputs.add('lq', video, np.stack(lq), gt)
            for pair, pair_scores in scores.items():
                # the model's own last step (its chroma projection)
                # follows each sharpening, as in fuse+sharp
                for amount in args.amounts:
                    sharp = finish(unsharp_mask(fused[pair], amount=amount))
                    pair_scores.add(f'a={amount:g}', video,
                                    tensor_to_frames(sharp[0]), gt)
    for pair_scores in scores.values():
        pair_scores.videos['lq'] = inputs.videos['lq']
    return scores


def build_candidate(args: argparse.Namespace,
                    pair: Candidate,
                    with_stage1: bool = True) -> torch.nn.Module:
    """The config's model, with other refiner checkpoints where given
    (and without its stage 1 unless ``with_stage1``)."""
    checkpoints = list(args.checkpoints) if args.checkpoints else None
    cfg_options = dict(args.cfg_options or {})
    if not with_stage1:
        # stage 1's settings go with it (they refuse a model without it)
        cfg_options.update({
            'model.stage1': None,
            'model.stage1_ensemble': None,
            'model.stage1_luma_only': False
        })
    for index, (net, checkpoint) in enumerate(
            zip(('enhancenet1', 'enhancenet2'), pair), start=1):
        if checkpoint is None:
            continue
        if checkpoints:
            checkpoints[index] = checkpoint
        else:
            # the config's pin names its own file; the other networks keep
            # theirs
            cfg_options[f'model.{net}.init_cfg.checkpoint'] = checkpoint
            cfg_options[f'model.{net}.init_cfg.sha256'] = None
    return init_astf_model(args.config, checkpoints, cfg_options,
                           args.sha256).to(args.device)


def describe(pair: Candidate) -> str:
    """Markdown naming a refiner pair (None: the config's network)."""
    return ', '.join(
        f'{net} `{checkpoint}`' if checkpoint else f'{net} of the config'
        for net, checkpoint in zip(('EnhanceNet1', 'EnhanceNet2'), pair))


def table(scores: SweepScores, amounts: Sequence[float]) -> List[str]:
    """The markdown rows of one candidate's sweep."""
    floor = scores.mean('lq', 'PSNR')
    lines = [
        '| fused output sharpened with amount | PSNR ↑ | vs input (dB) '
        '| SSIM ↑ | LPIPS-alex ↓ | videos below input | worst video (dB) |',
        '|---|---|---|---|---|---|---|'
    ]
    for row in ['lq'] + [f'a={a:g}' for a in amounts]:
        title = 'lq input' if row == 'lq' else row[2:]
        psnr = scores.mean(row, 'PSNR')
        # a mean gain can hide the videos it costs: count them, and name
        # the worst
        gains = scores.psnr_vs(row)
        worst = min(gains, key=gains.get)
        below = sum(gain < 0 for gain in gains.values())
        lines.append(f'| {title} | {psnr:.3f} | {psnr - floor:+.3f} | '
                     f'{scores.mean(row, "SSIM"):.4f} | '
                     f'{scores.mean(row, "LPIPS"):.5f} | '
                     f'{below} of {len(gains)} | '
                     f'{gains[worst]:+.3f} ({worst}) |')
    return lines


def sweep(args: argparse.Namespace) -> str:
    """Run the sweep; returns the markdown report."""
    cfg = Config.fromfile(args.config)
    data_root = args.data_root or cfg.test_dataloader.dataset.data_root
    videos = videos_from_ann(data_root,
                             [args.ann_file])[::args.video_stride]
    lpips_net = build_lpips('alex').to(args.device)
    lines = [
        f'Unsharp-mask amount sweep: `{args.config}` on {len(videos)} '
        f'videos of `{osp.join(data_root, args.ann_file)}`'
        + (f' (every {args.video_stride}th, from the first)'
           if args.video_stride > 1 else '')
        + (f' (first {args.max_frames} frames each)'
           if args.max_frames else '') + '.'
    ]
    chosen = {}
    swept = bool(args.enhancenet1 or args.enhancenet2)
    runs = RefinerRuns(args)
    scores = score_videos(runs, data_root, videos, args, lpips_net)
    for pair in runs.pairs:
        best = best_amount(scores[pair], args.amounts)
        chosen[pair] = (best, scores[pair])
        if swept:
            lines += ['', '### ' + describe(pair)]
        lines += [''] + table(scores[pair], args.amounts) + [
            '', 'Largest amount with PSNR >= the input\'s: ' +
            ('none' if best is None else f'{best:g}') + '.'
        ]
    if swept:
        choice = best_candidate(chosen)
        if choice is None:
            lines += ['', 'No candidate keeps the input\'s PSNR at any '
                      'amount.']
        else:
            pair, amount = choice
            scores = chosen[pair][1]
            row = f'a={amount:g}'
            gain = scores.mean(row, 'PSNR') - scores.mean('lq', 'PSNR')
            lines += [
                '', f'Lowest LPIPS among the candidates at their amount: '
                f'{describe(pair)}, amount {amount:g} (PSNR {gain:+.3f} dB '
                f'vs the input, LPIPS-alex {scores.mean(row, "LPIPS"):.5f}).'
            ]
    report = '\n'.join(lines) + '\n'
    if args.out:
        atomic_write_text(args.out, report)
    if args.out_json:
        atomic_write_text(
            args.out_json,
            json.dumps([
                dict(enhancenet1=pair[0], enhancenet2=pair[1],
                     amount=chosen[pair][0], videos=chosen[pair][1].videos)
                for pair in runs.pairs
            ], indent=1) + '\n')
    return report


def main() -> None:
    print(sweep(parse_args()))


if __name__ == '__main__':
    main()
