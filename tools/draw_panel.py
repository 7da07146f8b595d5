"""Draw the paper's Figure 3 panel for one frame of a dataset video.

``python tools/draw_panel.py --data-root data/sample --video carphone
--frame 10 --out panel.png``

Tiles: lq, stage-1, EnhanceNet1 (lpips), EnhanceNet2 (cb+lpips), fuse,
fuse+sharp, mask, ground truth; below them the same crop of each, taken
where EnhanceNet1 and EnhanceNet2 differ most (where the fusion matters).
"""
import argparse
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import frames_to_tensor, init_astf_model, tensor_to_frames
from astf_mm.io import list_frame_files, read_frames
from astf_mm.models import ASTF
from astf_mm.utils.cli import add_astf_model_args

DEFAULT_CONFIG = 'configs/astf/sample/astf_fusion_c16b2_sample-qp37.py'
TILES = (('lq', 'compressed (lq)'), ('stage1', 'stage-1'),
         ('enhancenet1', 'EnhanceNet1 (lpips)'),
         ('enhancenet2', 'EnhanceNet2 (cb+lpips)'), ('fused', 'fuse'),
         ('fused_sharp', 'fuse+sharp'), ('mask', 'mask'),
         ('gt', 'ground truth'))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw a Figure-3 panel')
    parser.add_argument('--data-root', default='data/sample')
    parser.add_argument('--video', required=True, help='video folder name')
    parser.add_argument('--frame', type=int, default=0, help='frame index')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    add_astf_model_args(parser)
    parser.add_argument(
        '--context', type=int, default=7, help='frames on each side')
    parser.add_argument('--crop', type=int, default=64, help='crop size')
    return parser.parse_args()


def pick_crop(a: np.ndarray, b: np.ndarray, size: int) -> Tuple[int, int]:
    """Top-left corner of the size x size window where a and b differ most."""
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(-1)
    size = min(size, *diff.shape)
    energy = cv2.boxFilter(diff, -1, (size, size), normalize=True,
                           anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    valid = energy[:diff.shape[0] - size + 1, :diff.shape[1] - size + 1]
    y, x = np.unravel_index(np.argmax(valid), valid.shape)
    return int(y), int(x)


def compose_panel(tiles: Dict[str, np.ndarray], crop: int,
                  corner: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """An RGB panel: labelled full frames above their zoomed crops."""
    if corner is None:
        corner = pick_crop(tiles['enhancenet1'], tiles['enhancenet2'], crop)
    h, w = tiles['gt'].shape[:2]
    crop = min(crop, h, w)
    y, x = corner
    label_h = 22
    columns = []
    for key, title in TILES:
        image = tiles[key]
        full = image.copy()
        cv2.rectangle(full, (x, y), (x + crop - 1, y + crop - 1),
                      (255, 0, 0), 1)
        zoom = cv2.resize(
            image[y:y + crop, x:x + crop], (w, w),
            interpolation=cv2.INTER_NEAREST)
        label = np.full((label_h, w, 3), 255, np.uint8)
        cv2.putText(label, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        columns.append(np.concatenate([label, full, zoom], axis=0))
    gap = np.full((columns[0].shape[0], 4, 3), 255, np.uint8)
    row = [c for col in columns for c in (col, gap)][:-1]
    return np.concatenate(row, axis=1)


def panel_tiles(model: ASTF, data_root: str, video: str, frame: int,
                context: int, device: str) -> Dict[str, np.ndarray]:
    """Run the pipeline around ``frame`` and return its eight tiles."""
    lq_dir = osp.join(data_root, 'lq', video)
    num_frames = len(list_frame_files(lq_dir))
    if not 0 <= frame < num_frames:
        raise ValueError(f'{lq_dir} has {num_frames} frames; --frame '
                         f'{frame} is out of range.')
    start = max(frame - context, 0)
    stop = min(frame + context + 1, num_frames)
    lqs = list(read_frames(lq_dir, start=start, max_frames=stop - start))
    with torch.inference_mode():
        out = model.enhance_chunk(frames_to_tensor(lqs, device))
    index = frame - start
    tiles = {k: tensor_to_frames(v[0, index:index + 1])[0]
             for k, v in out.items()}
    tiles['mask'] = np.repeat(tiles['mask'], 3, axis=-1)
    tiles['gt'] = next(
        read_frames(osp.join(data_root, 'gt', video), start=frame,
                    max_frames=1))
    return tiles


def main() -> None:
    args = parse_args()
    model = init_astf_model(args.config, args.checkpoints,
                            args.cfg_options, args.sha256).to(args.device)
    tiles = panel_tiles(model, args.data_root, args.video, args.frame,
                        args.context, args.device)
    panel = compose_panel(tiles, args.crop)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = osp.join(osp.dirname(osp.abspath(args.out)),
                   f'.{osp.basename(args.out)}.tmp-{os.getpid()}.png')
    if not cv2.imwrite(tmp, panel[..., ::-1]):
        raise OSError(f'Could not write {args.out}.')
    os.replace(tmp, args.out)
    print(f'panel: {args.out}')


if __name__ == '__main__':
    main()
