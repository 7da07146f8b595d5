"""Draw the paper's Figure 3 panel for one frame of a dataset video.

``python tools/draw_panel.py --data-root data/sample --video carphone
--out panel.png`` (``--frame N`` for a given frame)

Tiles: lq, stage-1, EnhanceNet1 (lpips), EnhanceNet2 (cb+lpips), fuse,
fuse+sharp, mask, ground truth; below them the same crop of each. Without
``--frame`` the frame, and always the crop, are where the enhanced output
differs most from the input, weighted by the ASTF mask: where a person can
see what the pipeline did. Beside the panel, ``<out>_diff.png`` shows that
difference amplified (output minus input, times a gain, around grey).
"""
import argparse
import os.path as osp
from typing import Dict, Iterator, Optional, Tuple

import cv2
import numpy as np

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import init_astf_model, stream_enhance
from astf_mm.io import (OutputPathError, atomic_write, check_output_path,
                        list_frame_files, read_frames)
from astf_mm.models import ASTF
from astf_mm.utils.cli import add_astf_model_args
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from astf_mm.utils.third_party_warnings import quiet_third_party_warnings
from astf_mm.visualization import frame_strip

DEFAULT_CONFIG = 'configs/' + SAMPLE_ASTF_CONFIG
TILES = (('lq', 'compressed (lq)'), ('stage1', 'stage-1'),
         ('enhancenet1', 'EnhanceNet1 (lpips)'),
         ('enhancenet2', 'EnhanceNet2 (cb+lpips)'), ('fused', 'fuse'),
         ('fused_sharp', 'fuse+sharp'), ('mask', 'mask'),
         ('gt', 'ground truth'))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw a Figure-3 panel')
    parser.add_argument('--data-root', default='data/sample')
    parser.add_argument('--video', required=True, help='video folder name')
    parser.add_argument(
        '--frame',
        type=int,
        help='frame index (default: the frame where the enhanced output '
        'differs most from the input, weighted by the mask)')
    parser.add_argument(
        '--out', required=True, help='output PNG (and <out>_diff.png)')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    add_astf_model_args(parser)
    parser.add_argument(
        '--context', type=int, default=7, help='frames on each side')
    parser.add_argument('--crop', type=int, default=64, help='crop size')
    parser.add_argument(
        '--diff-gain',
        type=float,
        help='gain of the difference image (default: the 99.5th '
        'percentile of |output - input| maps to 100 levels)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing output images')
    return parser.parse_args()


def effect_map(tiles: Dict[str, np.ndarray]) -> np.ndarray:
    """|enhanced - input| per pixel, weighted by the ASTF mask (H, W)."""
    diff = np.abs(tiles['fused_sharp'].astype(np.float32) -
                  tiles['lq'].astype(np.float32)).mean(-1)
    return diff * (tiles['mask'][..., 0].astype(np.float32) / 255.)


def pick_crop(diff: np.ndarray, size: int) -> Tuple[int, int]:
    """Top-left corner of the size x size window of largest mean ``diff``."""
    diff = diff.astype(np.float32)
    size = min(size, *diff.shape)
    energy = cv2.boxFilter(diff, -1, (size, size), normalize=True,
                           anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    valid = energy[:diff.shape[0] - size + 1, :diff.shape[1] - size + 1]
    y, x = np.unravel_index(np.argmax(valid), valid.shape)
    return int(y), int(x)


def compose_panel(tiles: Dict[str, np.ndarray],
                  crop: int,
                  corner: Optional[Tuple[int, int]] = None,
                  tiles_spec: Tuple[Tuple[str, str], ...] = TILES
                  ) -> np.ndarray:
    """An RGB panel: labelled full frames above their zoomed crops."""
    if corner is None:
        corner = pick_crop(effect_map(tiles), crop)
    h, w = tiles[tiles_spec[0][0]].shape[:2]
    crop = min(crop, h, w)
    y, x = corner
    panels = []
    for key, title in tiles_spec:
        image = tiles[key]
        full = image.copy()
        cv2.rectangle(full, (x, y), (x + crop - 1, y + crop - 1),
                      (255, 0, 0), 1)
        zoom = cv2.resize(
            image[y:y + crop, x:x + crop], (w, w),
            interpolation=cv2.INTER_NEAREST)
        panels.append((title, np.concatenate([full, zoom], axis=0)))
    return frame_strip(panels)


def _tiles(result: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    tiles = dict(result)
    tiles['mask'] = np.repeat(tiles['mask'], 3, axis=-1)
    return tiles


def panel_tiles(model: ASTF, data_root: str, video: str,
                frame: Optional[int], context: int,
                device: str) -> Tuple[int, Dict[str, np.ndarray]]:
    """Run the pipeline and return the chosen frame and its eight tiles.

    Args:
        frame (int, optional): The frame; None picks the one with the
            largest mean of :func:`effect_map` (the whole video is run,
            ``2 * context + 1`` frames at a time).

    Returns:
        tuple[int, dict]: Frame index and tiles (HxWx3 uint8 RGB).
    """
    lq_dir = osp.join(data_root, 'lq', video)
    num_frames = len(list_frame_files(lq_dir))
    if frame is not None and not 0 <= frame < num_frames:
        raise ValueError(f'{lq_dir} has {num_frames} frames; --frame '
                         f'{frame} is out of range.')
    start = 0 if frame is None else max(frame - context, 0)
    stop = num_frames if frame is None else min(frame + context + 1,
                                                num_frames)
    results: Iterator[Dict[str, np.ndarray]] = stream_enhance(
        read_frames(lq_dir, start=start, max_frames=stop - start),
        model.enhance_chunk,
        max_seq_len=stop - start if frame is not None else 2 * context + 1,
        overlap=context,
        device=device)
    best, best_score, tiles = None, -1., None
    for index, result in enumerate(results, start):
        if frame is not None and index != frame:
            continue
        candidate = _tiles(result)
        score = float(effect_map(candidate).mean())
        if score > best_score:
            best, best_score, tiles = index, score, candidate
    tiles['gt'] = next(
        read_frames(osp.join(data_root, 'gt', video), start=best,
                    max_frames=1))
    return best, tiles


def difference_image(tiles: Dict[str, np.ndarray], crop: int,
                     corner: Tuple[int, int],
                     gain: Optional[float] = None) -> Tuple[np.ndarray, float]:
    """Output minus input, amplified around grey, with its zoomed crop.

    Args:
        gain (float, optional): Levels of the image per level of
            difference. Default: the 99.5th percentile of |difference|
            maps to 100 levels (at least 1).

    Returns:
        tuple[np.ndarray, float]: The RGB image and the gain used.
    """
    diff = tiles['fused_sharp'].astype(np.float32) - tiles['lq'].astype(
        np.float32)
    if gain is None:
        gain = max(100. / max(float(np.percentile(np.abs(diff), 99.5)),
                              1e-6), 1.)
    image = np.clip(128. + gain * diff, 0, 255).round().astype(np.uint8)
    panel = compose_panel(
        dict(tiles, diff=image), crop, corner,
        tiles_spec=(('diff', f'enhanced - input, x{gain:.3g}'), ))
    return panel, gain


def write_png(path: str, image: np.ndarray) -> None:
    """Write an RGB image as PNG, atomically."""

    def write(tmp: str) -> None:
        if not cv2.imwrite(tmp, image[..., ::-1]):
            raise OSError(f'Could not write {path}.')

    atomic_write(path, write)


def main() -> None:
    args = parse_args()
    stem, ext = osp.splitext(args.out)
    diff_out = f'{stem}_diff{ext or ".png"}'
    try:
        for path, name in ((args.out, '--out'), (diff_out, '--out (diff)')):
            check_output_path(
                path,
                inputs=[args.data_root],
                overwrite=args.overwrite,
                name=name)
    except OutputPathError as err:
        raise SystemExit(f'error: {err}')
    model = init_astf_model(args.config, args.checkpoints,
                            args.cfg_options, args.sha256).to(args.device)
    frame, tiles = panel_tiles(model, args.data_root, args.video, args.frame,
                               args.context, args.device)
    corner = pick_crop(effect_map(tiles), args.crop)
    write_png(args.out, compose_panel(tiles, args.crop, corner))
    diff, gain = difference_image(tiles, args.crop, corner, args.diff_gain)
    write_png(diff_out, diff)
    mean = float(
        np.abs(tiles['fused_sharp'].astype(np.float32) - tiles['lq']).mean())
    print(f'panel: {args.out} (frame {frame}, crop at y={corner[0]} '
          f'x={corner[1]}); difference x{gain:.3g}: {diff_out}; '
          f'mean |enhanced - input| {mean:.2f} levels')


if __name__ == '__main__':
    with quiet_third_party_warnings():
        main()
