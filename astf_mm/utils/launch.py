"""What ``tools/train.py`` and ``tools/test.py`` share: CLI options and
distributed set-up that works on CPU (gloo) as well as GPU (NCCL)."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel

from .cli import add_cfg_options_arg


def add_launch_args(parser: argparse.ArgumentParser,
                    work_dir_help: str) -> None:
    """Add the options every OpenMMLab entry point shares.

    ``--work-dir``, ``--cfg-options``, ``--launcher`` and ``--local-rank``
    (which ``torch.distributed.launch`` passes; torchrun sets
    ``LOCAL_RANK`` itself, see :func:`parse_launch_args`).

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        work_dir_help (str): Help text of ``--work-dir``.
    """
    parser.add_argument('--work-dir', help=work_dir_help)
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launch_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, and export ``LOCAL_RANK`` when the launcher did not."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_cli_options(cfg: Config,
                      config_path: str,
                      launcher: str = 'none',
                      work_dir: Optional[str] = None,
                      cfg_options: Optional[dict] = None) -> Config:
    """Apply the standard OpenMMLab command-line options to a config.

    ``work_dir`` is chosen as in mmagic: CLI > config > config file name.

    Args:
        cfg (Config): The loaded config (changed in place).
        config_path (str): Path of the config file.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
            Default: ``'none'``.
        work_dir (str, optional): ``--work-dir``. Default: None.
        cfg_options (dict, optional): ``--cfg-options``. Default: None.

    Returns:
        Config: ``cfg``.
    """
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    return cfg


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare a distributed run on CPU-only machines (gloo).

    mmengine 0.10.7 assumes CUDA for the ``pytorch`` launcher: it calls
    ``torch.cuda.set_device`` before ``init_process_group`` and wraps the
    model in DDP with ``device_ids=[LOCAL_RANK]``, both of which fail
    without a GPU. When the launcher is not ``none`` and CUDA is absent,
    this initialises the gloo process group itself (mmengine then skips
    its own initialisation) and wraps the model with ``device_ids=None``.
    On GPUs it does nothing: the config's NCCL set-up applies unchanged.

    Args:
        cfg (Config): The config, after :func:`apply_cli_options`.

    Returns:
        bool: Whether the CPU set-up was applied.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return False
    if cfg.launcher != 'pytorch':
        raise RuntimeError(
            f'The "{cfg.launcher}" launcher needs GPUs; on CPU use '
            'tools/dist_train.sh (torchrun, launcher "pytorch").')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    # device_ids is DDP's; other wrappers (FrozenModelWrapper) do not take it
    if _is_ddp_wrapper(wrapper['type']):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def _is_ddp_wrapper(wrapper_type) -> bool:
    # the look-up Runner.wrap_model makes
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    return isinstance(wrapper_type, type) and issubclass(
        wrapper_type, DistributedDataParallel)
