"""Fuse two folders of saved refiner outputs with ASTF (paper sec. 3.2).

For users who ran EnhanceNet1 and EnhanceNet2 elsewhere and saved their
frames as PNG. Frames are streamed with a window of
``2 * temporal_radius + 1`` frames, so memory does not grow with the
video's length. The computation is :class:`astf_mm.models.ASTFFusion`'s,
frame for frame.

Each output folder is written under a temporary name and renamed when its
video is complete, so a kill or an error never leaves a partial folder that
looks complete; the temporaries of a killed run are removed by the next
run, and SIGTERM is handled like Ctrl-C (exit code 143). An existing
non-empty output folder is refused unless ``--overwrite`` (which replaces
only the frames written), and so is an output inside or holding an input.
"""
import argparse
import os
import sys
from collections import deque
from contextlib import ExitStack
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch
from tqdm import tqdm

from astf_mm.io import (atomic_folder, check_output_path, exit_on_sigterm,
                        list_frame_files, natural_key)
from astf_mm.models.fusion import (DEFAULT_SHARPEN_AMOUNT, fuse,
                                   normalise_variance, unsharp_mask,
                                   variance_map)

LAYOUT = """\
input layout (detected): DIR1 and DIR2 each hold either the PNG frames
of one video, or one subfolder of PNG frames per video. Both folders must
hold the same videos and frame names, with equal frame sizes and bit
depths (8 or 16 bit RGB). Frames are taken in name order, numbers compared
by value (2.png before 10.png).

output layout (PNG, same names and bit depth as the inputs; VIDEO/ only
for a folder of videos):
  OUT/fused/[VIDEO/]NAME.png        fusion, eq. 3
  OUT/fused_sharp/[VIDEO/]NAME.png  fusion + unsharp mask (not with
                                    --no-sharpen)
  OUT/mask/[VIDEO/]NAME.png         mask, 8-bit grey, 255 = EnhanceNet1
                                    (only with --save-mask)
"""


def _png_names(folder: str) -> List[str]:
    # natural order (10.png follows 3.png), as every frame folder is read
    return [os.path.basename(f) for f in list_frame_files(folder, ('.png', ))]


def find_videos(root: str) -> Dict[str, List[str]]:
    """Videos in ``root`` and their frame names, in temporal order.

    Args:
        root (str): A folder of PNG frames (one video, returned under the
            key ``''``) or a folder of subfolders of PNG frames.

    Returns:
        Dict[str, List[str]]: Video name (subfolder, or ``''``) to frame
        file names.
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f'{root} is not a folder.')
    frames = _png_names(root)
    videos = {}
    for sub in sorted(os.listdir(root), key=natural_key):
        path = os.path.join(root, sub)
        if os.path.isdir(path):
            names = _png_names(path)
            if names:
                videos[sub] = names
    if frames and videos:
        raise ValueError(
            f'{root} holds both PNG frames and subfolders of PNG frames '
            f'({", ".join(list(videos)[:3])}); pass a folder of frames of '
            'one video or a folder of video subfolders, not both.')
    if frames:
        return {'': frames}
    if not videos:
        raise ValueError(f'{root} holds no PNG frames, neither directly nor '
                         'in subfolders.')
    return videos


def match_videos(videos1: Dict[str, List[str]],
                 videos2: Dict[str, List[str]], root1: str,
                 root2: str) -> None:
    """Raise a ValueError naming the first video or frame that differs."""
    for a, b, root_a, root_b in ((videos1, videos2, root1, root2),
                                 (videos2, videos1, root2, root1)):
        for video, names in a.items():
            if video not in b:
                raise ValueError(
                    f'{os.path.join(root_a, video)} has no counterpart in '
                    f'{root_b} (expected {os.path.join(root_b, video)}).')
            missing = sorted(set(names) - set(b[video]), key=natural_key)
            if missing:
                raise ValueError(
                    f'{os.path.join(root_b, video, missing[0])} is missing: '
                    f'{os.path.join(root_a, video, missing[0])} exists, and '
                    'both folders must hold the same frame names '
                    f'({len(missing)} missing).')


def read_frame(path: str) -> Tuple[torch.Tensor, np.dtype]:
    """A PNG as an ``(3, h, w)`` float32 RGB tensor in [0, 1]."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f'{path} cannot be read as an image.')
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'{path} has shape {img.shape}; expected an RGB '
                         'image (h, w, 3).')
    if img.dtype not in (np.uint8, np.uint16):
        raise ValueError(f'{path} is {img.dtype}; expected 8 or 16 bit.')
    peak = np.iinfo(img.dtype).max
    rgb = np.ascontiguousarray(img[..., ::-1]).astype(np.float32) / peak
    return torch.from_numpy(rgb).permute(2, 0, 1), img.dtype


def write_png(path: str, img: np.ndarray) -> None:
    """Write ``img`` (h, w) or BGR (h, w, 3) as PNG (into a temporary
    folder: the folder, not the file, is renamed when complete)."""
    ok, data = cv2.imencode('.png', img)
    if not ok:
        raise RuntimeError(f'PNG encoding failed for {path}.')
    with open(path, 'wb') as f:
        f.write(data.tobytes())


def _to_image(x: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """(c, h, w) in [0, 1] -> (h, w[, 3]) BGR / grey integer image."""
    peak = np.iinfo(dtype).max
    arr = (x.float().clamp(0, 1) * peak).round().cpu().numpy().astype(dtype)
    if arr.shape[0] == 1:
        return arr[0]
    return np.ascontiguousarray(arr.transpose(1, 2, 0)[..., ::-1])


class _Frame:
    """One frame in the sliding window."""

    def __init__(self, path: str, i1: torch.Tensor, i2: torch.Tensor,
                 var: torch.Tensor, dtype: np.dtype) -> None:
        self.path, self.i1, self.i2, self.var = path, i1, i2, var
        self.name = os.path.basename(path)
        self.dtype = dtype
        self.vmax, self.vmin = var.amax(), var.amin()


def fuse_folders(enhancenet1: str,
                 enhancenet2: str,
                 out: str,
                 radius: int = 11,
                 temporal_radius: int = 1,
                 sharpen: bool = True,
                 sharpen_amount: float = DEFAULT_SHARPEN_AMOUNT,
                 save_mask: bool = False,
                 device: str = 'cpu',
                 progress: bool = True,
                 overwrite: bool = False) -> Dict[str, int]:
    """Fuse every video of two folders of refiner outputs.

    See ``LAYOUT`` (``--help``) for the folder layouts.

    Args:
        enhancenet1 (str): Folder of EnhanceNet1 (LPIPS) frames.
        enhancenet2 (str): Folder of EnhanceNet2 (trade-off) frames.
        out (str): Output folder.
        radius (int): Spatial variance window radius. Default: 11.
        temporal_radius (int): Temporal normalisation radius. Default: 1.
        sharpen (bool): Also write the sharpened fusion. Default: True.
        sharpen_amount (float): Unsharp-mask amount.
            Default: :data:`DEFAULT_SHARPEN_AMOUNT`.
        save_mask (bool): Also write the masks. Default: False.
        device (str): Torch device for the computation. Default: 'cpu'.
        progress (bool): Show a progress bar. Default: True.
        overwrite (bool): Write into existing non-empty output folders,
            replacing only the frames written. Default: False.

    Returns:
        Dict[str, int]: Frames written per video (``''`` for one video).
    """
    if radius < 0 or temporal_radius < 0:
        raise ValueError('radius and temporal_radius must be >= 0, got '
                         f'{radius} and {temporal_radius}.')
    videos1 = find_videos(enhancenet1)
    videos2 = find_videos(enhancenet2)
    match_videos(videos1, videos2, enhancenet1, enhancenet2)
    kinds = ['fused'] + (['fused_sharp'] if sharpen else []) + (
        ['mask'] if save_mask else [])
    # every output folder is checked before anything is written
    for video in videos2:
        for kind in kinds:
            check_output_path(
                _out_dir(out, kind, video),
                (enhancenet1, enhancenet2),
                kind='folder',
                overwrite=overwrite,
                name='--out')
    total = sum(len(names) for names in videos2.values())
    written = {}
    with tqdm(total=total, unit='frame', disable=not progress) as bar:
        for video, names in videos2.items():
            bar.set_description(video or os.path.basename(enhancenet2))
            frames = (_load_pair(enhancenet1, enhancenet2, video, name,
                                 radius, device) for name in names)
            with ExitStack() as stack:
                # temporary folders, renamed when the video is complete
                dirs = {
                    k: stack.enter_context(
                        atomic_folder(_out_dir(out, k, video), overwrite))
                    for k in kinds
                }
                count = 0
                for frame, mask in _sliding_masks(frames, temporal_radius):
                    results = {'fused': fuse(frame.i1, frame.i2, mask)}
                    if sharpen:
                        results['fused_sharp'] = unsharp_mask(
                            results['fused'], amount=sharpen_amount)
                    if save_mask:
                        results['mask'] = mask
                    for kind, value in results.items():
                        dtype = np.uint8 if kind == 'mask' else frame.dtype
                        write_png(
                            os.path.join(dirs[kind], frame.name),
                            _to_image(value[0, 0], dtype))
                    count += 1
                    bar.update()
            written[video] = count
    return written


def _out_dir(out: str, kind: str, video: str) -> str:
    """``OUT/KIND/VIDEO``, or ``OUT/KIND`` for a folder of one video."""
    return os.path.join(out, kind, video) if video else os.path.join(out, kind)


def _load_pair(root1: str, root2: str, video: str, name: str, radius: int,
               device: str) -> _Frame:
    path1 = os.path.join(root1, video, name)
    path2 = os.path.join(root2, video, name)
    i1, dtype1 = read_frame(path1)
    i2, dtype2 = read_frame(path2)
    if i1.shape != i2.shape or dtype1 != dtype2:
        raise ValueError(
            f'{path1} ({i1.shape[2]}x{i1.shape[1]}, {dtype1}) and {path2} '
            f'({i2.shape[2]}x{i2.shape[1]}, {dtype2}) differ in size or bit '
            'depth; the refiners\' outputs of a frame must match.')
    i1 = i1.to(device)[None, None]
    i2 = i2.to(device)[None, None]
    return _Frame(path2, i1, i2, variance_map(i2, radius), dtype2)


def _sliding_masks(frames, temporal_radius: int):
    """Yield ``(frame, mask)`` in order, holding at most 2r+1 frames."""
    window: deque = deque()  # frames t - r .. t + r around the next output
    first_size = None
    next_out = 0  # index of the next frame to emit, counted in the window
    for frame in frames:
        size = tuple(frame.i2.shape)
        if first_size is None:
            first_size = size
        elif size != first_size:
            raise ValueError(
                f'{frame.path} is {size[-1]}x{size[-2]} but earlier '
                f'frames of the video are {first_size[-1]}x'
                f'{first_size[-2]}; a video must have one frame size.')
        window.append(frame)
        if len(window) - 1 - next_out >= temporal_radius:
            yield _emit(window, next_out)
            next_out = _advance(window, next_out, temporal_radius)
    while next_out < len(window):
        yield _emit(window, next_out)
        next_out = _advance(window, next_out, temporal_radius)


def _advance(window: deque, index: int, temporal_radius: int) -> int:
    # Drop the frame that left the next output's window.
    index += 1
    if index > temporal_radius:
        window.popleft()
        index -= 1
    return index


def _emit(window: deque, index: int) -> Tuple[_Frame, torch.Tensor]:
    # The window holds exactly frames index - r .. index + r that exist.
    p = torch.stack([f.vmax for f in window]).amax()
    q = torch.stack([f.vmin for f in window]).amin()
    frame = window[index]
    mask = normalise_variance(frame.var, p, q).to(frame.i2.dtype)
    return frame, mask


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Fuse saved EnhanceNet1 / EnhanceNet2 frames with ASTF '
        '(variance mask + fusion + unsharp mask).',
        epilog=LAYOUT,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        '--enhancenet1',
        required=True,
        metavar='DIR1',
        help='frames of EnhanceNet1 (LPIPS-trained, textures)')
    parser.add_argument(
        '--enhancenet2',
        required=True,
        metavar='DIR2',
        help='frames of EnhanceNet2 (trade-off, smooth); the mask is '
        'computed from these')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--radius',
        metavar='R',
        type=int,
        default=11,
        help='variance window radius r, window (2r+1)^2 (default: 11)')
    parser.add_argument(
        '--temporal-radius',
        metavar='T',
        type=int,
        default=1,
        help='frames on each side in the mask normalisation (default: 1)')
    parser.add_argument(
        '--sharpen-amount',
        metavar='A',
        type=float,
        default=DEFAULT_SHARPEN_AMOUNT,
        help='unsharp-mask amount a in x + a (x - G*x) '
        f'(default: {DEFAULT_SHARPEN_AMOUNT})')
    parser.add_argument(
        '--no-sharpen',
        action='store_true',
        help='write only the unsharpened fusion')
    parser.add_argument(
        '--save-mask', action='store_true', help='also write the masks')
    parser.add_argument(
        '--device', default='cpu', help='torch device (default: cpu)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='write into existing non-empty output folders (only the '
        'frames written are replaced; nothing is deleted)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        written = fuse_folders(
            args.enhancenet1,
            args.enhancenet2,
            args.out,
            radius=args.radius,
            temporal_radius=args.temporal_radius,
            sharpen=not args.no_sharpen,
            sharpen_amount=args.sharpen_amount,
            save_mask=args.save_mask,
            device=args.device,
            overwrite=args.overwrite)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {sum(written.values())} frames of {len(written)} '
          f'video(s) under {args.out}')


if __name__ == '__main__':
    exit_on_sigterm()  # like Ctrl-C: temporaries removed
    main()
