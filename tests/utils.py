"""Helpers shared by tests: tiny frame datasets in the configs' layout,
tiny ASTF networks, frames with 4:2:0 chroma, tools run in this process."""
import contextlib
import functools
import importlib.util
import io
import os.path as osp
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, Sequence

import cv2
import numpy as np
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet

from astf_mm.models.fusion import LUMA_WEIGHTS
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMPLE_STAGE1 = ('configs/astf/sample/'
                 'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py')
SAMPLE_ASTF = 'configs/' + SAMPLE_ASTF_CONFIG
TINY_ENHANCENET = dict(type='EnhanceNet', mid_channels=8, num_blocks=1)


@functools.lru_cache(maxsize=None)
def load_tool(script: str) -> ModuleType:
    """A script under ``tools/`` (``'export_stage1.py'``,
    ``'data/compress_videos.py'``) as a module, loaded once."""
    path = osp.join(ROOT, 'tools', script)
    name = osp.splitext(script)[0].replace('/', '.')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(script: str, *args, cwd: str = ROOT
             ) -> subprocess.CompletedProcess:
    """``python tools/{script} ARGS`` from ``cwd`` (default: the repository
    root), in this process: ``main()`` with ``sys.argv`` set and
    stdout/stderr captured;
    ``sys.exit(message)`` gives return code 1 and the message on stderr,
    as the interpreter does.

    A subprocess costs 10-15 s of interpreter start and imports on 2 CPU
    cores; tests that run a tool many times use this, and keep one run
    through a real subprocess for the script's ``__main__`` wiring.
    """
    argv = [osp.join(ROOT, 'tools', script)] + [str(a) for a in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    saved_argv, sys.argv = sys.argv, argv
    try:
        with contextlib.chdir(cwd), contextlib.redirect_stdout(
                stdout), contextlib.redirect_stderr(stderr):
            try:
                load_tool(script).main()
            except SystemExit as exit_:
                code = exit_.code
                if isinstance(code, str):
                    print(code, file=sys.stderr)
                    code = 1
                code = code or 0
    finally:
        sys.argv = saved_argv
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(),
                                       stderr.getvalue())


def save_spynet_checkpoint(tmp_path: Path):
    """A random SPyNet and its checkpoint in mmagic's format."""
    ref = SPyNet(pretrained=None)
    path = tmp_path / 'spynet.pth'
    # mmagic's SPyNet checkpoint holds the flow modules, not mean/std
    torch.save({
        k: v
        for k, v in ref.state_dict().items() if k.startswith('basic_module')
    }, path)
    return ref, path


def save_tiny_checkpoint(path,
                         seed: int,
                         propagation_scale: int = 1,
                         lq_to_head: bool = False) -> str:
    """A random, mildly non-identity tiny EnhanceNet as a Runner checkpoint.

    ``propagation_scale`` and ``lq_to_head`` as the config that loads it.
    """
    from astf_mm.models import EnhanceNet
    torch.manual_seed(seed)
    net = EnhanceNet(
        mid_channels=8,
        num_blocks=1,
        zero_init_residual=False,
        propagation_scale=propagation_scale,
        lq_to_head=lq_to_head)
    with torch.no_grad():
        net.conv_last.weight.mul_(0.05)  # a mild, non-identity enhancer
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return str(path)


def make_tiny_astf(tmp: Path) -> dict:
    """Two tiny validation videos and an ASTF config of three tiny networks.

    Returns:
        dict: ``tmp``, ``data_root``, ``ckpts`` and ``config`` (a config
        inheriting the sample ASTF config).
    """
    data_root = make_frames_dataset(
        tmp / 'data', {'val': ['c', 'd']}, num_frames=4, size=(48, 56))
    ckpts = [save_tiny_checkpoint(tmp / f'n{i}.pth', i) for i in range(3)]
    config = tmp / 'astf_tiny.py'
    specs = ',\n'.join(
        f"    {name}=dict(_delete_=True, **{TINY_ENHANCENET!r}, "
        f"init_cfg=dict(type='CheckedPretrained', checkpoint='{ckpt}'))"
        for name, ckpt in zip(('stage1', 'enhancenet1', 'enhancenet2'), ckpts))
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_ASTF)}'\n"
        f'model = dict(\n{specs})\n'
        f"test_dataloader = dict(dataset=dict(data_root='{data_root}'))\n")
    return dict(tmp=tmp, data_root=data_root, ckpts=ckpts, config=config)


def make_frames_dataset(root: Path,
                        videos: Dict[str, Sequence[str]] = None,
                        num_frames: int = 4,
                        size: tuple = (64, 72),
                        lq_folder: str = 'lq',
                        seed: int = 0,
                        chroma_420: bool = False) -> Path:
    """Write gt/ and lq/ PNG frames and meta_info files under ``root``.

    GT frames are a smooth pattern moving right by one pixel per frame; LQ
    frames are GT plus Gaussian noise (sigma 8), so any sensible enhancer
    can beat them.

    Args:
        root (Path): Dataset root.
        videos (dict): Split name -> video names.
            Default: ``{'train': ['a', 'b'], 'val': ['c']}``.
        num_frames (int): Frames per video. Default: 4.
        size (tuple): (h, w). Default: (64, 72).
        lq_folder (str): Folder name of the inputs. Default: ``'lq'``.
        seed (int): Noise seed. Default: 0.
        chroma_420 (bool): Give both GT and LQ frames 4:2:0 chroma, as
            decoded video has (:func:`astf_mm.models.chroma.
            project_chroma_420`, then 8-bit rounding). Default: False.

    Returns:
        Path: ``root``.
    """
    from astf_mm.models.chroma import project_chroma_420

    def as_420(frame: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(frame).permute(2, 0, 1).double() / 255
        x = project_chroma_420(x).permute(1, 2, 0).numpy()
        return np.rint(x * 255).astype(np.uint8)

    videos = videos or {'train': ['a', 'b'], 'val': ['c']}
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for split, names in videos.items():
        lines = []
        for v, name in enumerate(names):
            for folder in ('gt', lq_folder):
                Path(osp.join(root, folder, name)).mkdir(
                    parents=True, exist_ok=True)
            for t in range(num_frames):
                base = np.stack([
                    128 + 100 * np.sin((xx - t + 7 * v) / 6.0),
                    128 + 100 * np.cos(yy / 5.0),
                    128 + 80 * np.sin((xx + yy - t) / 9.0),
                ], axis=-1)
                gt = np.clip(base, 0, 255).astype(np.uint8)
                noisy = gt + rng.normal(0, 8, gt.shape)
                lq = np.clip(noisy, 0, 255).astype(np.uint8)
                if chroma_420:
                    gt, lq = as_420(gt), as_420(lq)
                cv2.imwrite(osp.join(root, 'gt', name, f'{t:08d}.png'), gt)
                cv2.imwrite(
                    osp.join(root, lq_folder, name, f'{t:08d}.png'), lq)
            lines.append(f'{name} {num_frames}')
        (Path(root) / f'meta_info_{split}.txt').write_text(
            '\n'.join(lines) + '\n')
    return Path(root)


def tiny_overrides(data_root: Path, work_dir: Path, max_iters: int = 2,
                   lq_folder: str = 'lq') -> dict:
    """``--cfg-options`` that shrink a sample config to a seconds-long run."""
    return {
        'work_dir': str(work_dir),
        'model.generator.mid_channels': 8,
        'model.generator.num_blocks': 1,
        'train_dataloader.num_workers': 0,
        'train_dataloader.batch_size': 2,
        'train_dataloader.dataset.data_root': str(data_root),
        'train_dataloader.dataset.num_input_frames': 3,
        'train_dataloader.dataset.data_prefix.img': lq_folder,
        'val_dataloader.dataset.data_root': str(data_root),
        'val_dataloader.dataset.data_prefix.img': lq_folder,
        'test_dataloader.dataset.data_root': str(data_root),
        'test_dataloader.dataset.data_prefix.img': lq_folder,
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters,
        'param_scheduler.periods': [max_iters],
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.logger.interval': 1,
    }


def train_datasets(cfg) -> list:
    """The frame datasets a config trains on: the parts of a
    ``ConcatDataset``, or its one dataset."""
    dataset = cfg.train_dataloader.dataset
    if dataset.type == 'ConcatDataset':
        return list(dataset.datasets)
    return [dataset]


def for_each_train_dataset(cfg, options: dict) -> dict:
    """``options`` with their ``train_dataloader.dataset.*`` keys set on
    every part of a ``ConcatDataset`` (merge with
    ``allow_list_keys=True``)."""
    dataset = cfg.train_dataloader.dataset
    prefix = 'train_dataloader.dataset.'
    if dataset.type != 'ConcatDataset':
        return options
    out = {k: v for k, v in options.items() if not k.startswith(prefix)}
    for key, value in options.items():
        if key.startswith(prefix):
            for i in range(len(dataset.datasets)):
                out[f'{prefix}datasets.{i}.{key[len(prefix):]}'] = value
    return out


def luma(x: torch.Tensor) -> torch.Tensor:
    kr, kg, kb = LUMA_WEIGHTS
    return kr * x[..., 0, :, :] + kg * x[..., 1, :, :] + kb * x[..., 2, :, :]


def colour_differences(x: torch.Tensor) -> torch.Tensor:
    """``(R - Y, B - Y)``: Cr and Cb up to constants."""
    y = luma(x)
    return torch.stack((x[..., 0, :, :] - y, x[..., 2, :, :] - y), dim=-3)


def frame_420(shape, seed: int = 0) -> torch.Tensor:
    """RGB frames of full-resolution luma and 2x2-block chroma, in range."""
    gen = torch.Generator().manual_seed(seed)
    *lead, _, h, w = shape
    y = 0.3 + 0.4 * torch.rand(*lead, h, w, generator=gen)
    half = (*lead, (h + 1) // 2, (w + 1) // 2)
    cr = 0.1 * (torch.rand(half, generator=gen) - 0.5)
    cb = 0.1 * (torch.rand(half, generator=gen) - 0.5)

    def up(c):
        return c.repeat_interleave(2, -2).repeat_interleave(2, -1)[..., :h, :w]

    kr, kg, kb = LUMA_WEIGHTS
    r, b = y + up(cr), y + up(cb)
    g = (y - kr * r - kb * b) / kg
    return torch.stack((r, g, b), dim=-3)


def flips_and_transposes_mean(network, clip: torch.Tensor) -> torch.Tensor:
    """The x8 geometric self-ensemble derived by hand (independent of
    mmagic's code): the network on the 4 flips of the clip and of its
    transpose, each output transformed back, averaged."""
    passes = []
    for transpose in (False, True):
        for dims in ((), (-1, ), (-2, ), (-2, -1)):
            x = clip.transpose(-1, -2) if transpose else clip
            y = network(x.flip(dims) if dims else x)
            y = y.flip(dims) if dims else y
            passes.append(y.transpose(-1, -2) if transpose else y)
    return torch.stack(passes).mean(0)
