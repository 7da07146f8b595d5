"""The end-to-end ASTF model evaluated by ``tools/test.py``."""
import copy
import hashlib
import os.path as osp
import re
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner.checkpoint import _load_checkpoint

from astf_mm.apis.inference import chunk_windows
from astf_mm.compat import check_checkpoint_file
from .enhance_net import EnhanceNet

# The three trained networks, in the order of ``--checkpoints``.
NETWORKS = ('stage1', 'enhancenet1', 'enhancenet2')

# Every intermediate result, in the order of the paper's Tables 1 and 2.
ROWS = ('lq', 'stage1', 'enhancenet2', 'enhancenet1', 'fused', 'fused_sharp')
ROW_TITLES = {
    'lq': 'lq input',
    'stage1': 'stage-1',
    'enhancenet2': 'cb+lpips',
    'enhancenet1': 'lpips',
    'fused': 'fuse',
    'fused_sharp': 'fuse+sharp',
}


def sha256_of(path: str) -> str:
    """The sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


_SHA256_RE = re.compile(r'[0-9a-fA-F]{64}')


def check_sha256(value: Any, where: str) -> Optional[str]:
    """Validate a pinned sha256: None, or a 64-character hex string.

    ``--cfg-options key=000...`` reads an all-digit value as an integer
    (quotes are stripped before parsing, so they do not help): such a
    value, or any other non-string, is refused instead of silently
    disabling the check.

    Args:
        value (Any): The pinned digest, as the config holds it.
        where (str): Where it was set, for the message (e.g.
            ``'model.stage1.sha256'``).

    Returns:
        str | None: The digest in lower case, or None when not pinned.

    Raises:
        ValueError: If ``value`` is not None and not 64 hex digits.
    """
    if value is None:
        return None
    if isinstance(value, str) and _SHA256_RE.fullmatch(value):
        return value.lower()
    hint = ''
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = (' --cfg-options reads an all-digit value as a number '
                '(quotes do not help): pin it with --sha256 on the tools '
                'that take --checkpoints, or write it in the config file as '
                'a string.')
    raise ValueError(f'{where} must be a sha256: a string of 64 hex digits; '
                     f'got {type(value).__name__} {value!r}.{hint}')


def build_generator_from_spec(spec: dict,
                              name: str,
                              channels_last: bool = False) -> nn.Module:
    """Build one trained network of the pipeline.

    Args:
        spec (dict): ``config`` (a training config whose
            ``model.generator`` is used) or ``generator`` (the generator
            config itself); ``checkpoint`` (a Runner checkpoint or a bare
            state dict; required); optional ``sha256`` (64 hex digits)
            checked before loading. The file's sha256 is logged and kept
            as ``checkpoint_sha256`` on the returned network.
        name (str): Name used in error messages.
        channels_last (bool): Store the convolution weights channels-last,
            so that the convolutions run on NHWC features (13-19% faster
            on CPU, ``benchmarks/results/inference_cpu.md``; the outputs
            equal the default layout's to float rounding). Default: False.

    Returns:
        nn.Module: The network in eval mode.

    Raises:
        FileNotFoundError: If the checkpoint does not exist.
        IsADirectoryError: If it is a directory.
        astf_mm.compat.CheckpointError: If it is empty, truncated or
            corrupt.
        ValueError: If ``sha256`` is not 64 hex digits.
        RuntimeError: If it does not match ``sha256`` or the network.
    """
    if 'generator' in spec:
        generator = copy.deepcopy(dict(spec['generator']))
        source = 'its generator config'
    elif 'config' in spec:
        if not osp.isfile(spec['config']):
            raise FileNotFoundError(
                f'{name}: config {spec["config"]} does not exist.')
        generator = Config.fromfile(spec['config']).model.generator.to_dict()
        source = spec['config']
    else:
        raise ValueError(f'{name}: give "config" or "generator".')
    # the checkpoint holds every weight, SPyNet's included
    generator.pop('init_cfg', None)
    if 'spynet_pretrained' in generator:
        generator['spynet_pretrained'] = None
    generator.update(spec.get('generator_overrides', {}))
    network = MODELS.build(generator)

    checkpoint = spec.get('checkpoint')
    if not checkpoint:
        raise ValueError(
            f'{name}: no checkpoint given. Train it (see the README) or '
            f'set model.{name}.checkpoint=PATH with --cfg-options.')
    expected = check_sha256(spec.get('sha256'), f'model.{name}.sha256')
    try:
        check_checkpoint_file(checkpoint)
    except (OSError, RuntimeError) as err:
        raise type(err)(f'{name}: {err}') from None
    digest = sha256_of(checkpoint)
    if expected is not None and digest != expected:
        raise RuntimeError(
            f'{name}: checkpoint {checkpoint} has sha256 {digest}, expected '
            f'{expected}: the file is corrupt or not the one pinned '
            f'(model.{name}.sha256 or --sha256).')
    print_log(
        f'{name}: checkpoint {checkpoint} sha256 {digest}'
        f'{" (matches the pin)" if expected else " (not pinned)"}',
        logger='current')
    state = _load_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    if any(k.startswith('generator.') for k in state):
        state = {
            k[len('generator.'):]: v
            for k, v in state.items() if k.startswith('generator.')
        }
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise RuntimeError(
            f'{name}: checkpoint {checkpoint} does not fit the network '
            f'built from {source}: {err}') from None
    if channels_last:
        network = network.to(memory_format=torch.channels_last)
    # recorded for the tools' logs and manifests
    network.checkpoint_sha256 = digest
    return network.eval().requires_grad_(False)


@MODELS.register_module()
class ASTF(BaseModel):
    """ASTF at test time: stage 1, two refiners, fusion and sharpening.

    The stage-1 output is clamped and quantised to 8 bits before the
    refiners, as they saw it in training (``tools/export_stage1.py`` writes
    it as PNG). ``forward(mode='predict')`` stores every intermediate result
    in the output data sample under its own key (``lq_img``,
    ``stage1_img``, ``enhancenet1_img``, ``enhancenet2_img``,
    ``fused_img``, ``pred_img`` for fuse+sharp, and ``mask_img``), so one
    ``tools/test.py`` run evaluates every row of the paper's tables.

    Args:
        stage1 (dict): Spec of the stage-1 network, see
            :func:`build_generator_from_spec`.
        enhancenet1 (dict): Spec of EnhanceNet1 (LPIPS-trained).
        enhancenet2 (dict): Spec of EnhanceNet2 (trade-off loss).
        fusion (dict): Config of the fusion module.
            Default: ``dict(type='ASTFFusion')``.
        max_seq_len (int, optional): Frames per chunk, bounding memory on
            long clips. Default: None (whole clip at once).
        overlap (int): Context frames on each side of a chunk. Default: 2.
        share_flows (bool): Compute the refiners' flows once when they are
            identical (see :meth:`refiners_share_flows`); the outputs are
            the same either way. Default: True.
        channels_last (bool): Run the networks on channels-last (NHWC)
            features, see :func:`build_generator_from_spec`. Default: True.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor``.
            Default: scales 0-255 frames to [0, 1].
    """

    def __init__(self,
                 stage1: dict,
                 enhancenet1: dict,
                 enhancenet2: dict,
                 fusion: dict = dict(type='ASTFFusion'),
                 max_seq_len: Optional[int] = None,
                 overlap: int = 2,
                 share_flows: bool = True,
                 channels_last: bool = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='DataPreprocessor',
                mean=[0., 0., 0.],
                std=[255., 255., 255.])
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.stage1 = build_generator_from_spec(stage1, 'stage1',
                                                channels_last)
        self.enhancenet1 = build_generator_from_spec(enhancenet1,
                                                     'enhancenet1',
                                                     channels_last)
        self.enhancenet2 = build_generator_from_spec(enhancenet2,
                                                     'enhancenet2',
                                                     channels_last)
        self.checkpoint_sha256 = {
            name: getattr(self, name).checkpoint_sha256
            for name in NETWORKS
        }
        self.fusion = MODELS.build(fusion)
        self.max_seq_len = max_seq_len
        self.overlap = overlap
        self.share_flows = share_flows

    @classmethod
    def from_config(cls,
                    config: str,
                    checkpoints: Optional[Sequence[str]] = None,
                    cfg_options: Optional[dict] = None,
                    sha256: Optional[Sequence[str]] = None) -> 'ASTF':
        """Build the model of an end-to-end config, in eval mode.

        Args:
            config (str): End-to-end ASTF config.
            checkpoints (Sequence[str], optional): Checkpoints of stage 1,
                EnhanceNet1 and EnhanceNet2, replacing the config's (and
                the config file's sha256 pins, which name its own files;
                pins set in ``cfg_options`` or ``sha256`` still apply).
                Default: None.
            cfg_options (dict, optional): ``--cfg-options`` overrides.
                Default: None.
            sha256 (Sequence[str], optional): sha256 pins of the three
                checkpoints, in the same order (``--sha256``).
                Default: None.

        Returns:
            ASTF: The model.
        """
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        model_cfg = cfg.model.to_dict()
        model_cfg.pop('type')
        if checkpoints:
            for name, path in zip(NETWORKS, checkpoints):
                model_cfg[name]['checkpoint'] = path
                # a user's checkpoint is not the one the config file's
                # hash names; a pin given on the command line still holds
                if f'model.{name}.sha256' not in (cfg_options or {}):
                    model_cfg[name].pop('sha256', None)
        if sha256:
            if len(sha256) != len(NETWORKS):
                raise ValueError(f'sha256 needs {len(NETWORKS)} digests '
                                 f'({", ".join(NETWORKS)}), got '
                                 f'{len(sha256)}.')
            for name, digest in zip(NETWORKS, sha256):
                model_cfg[name]['sha256'] = digest
        return cls(**model_cfg).eval()

    def init_weights(self) -> None:
        """Keep the loaded checkpoints (the runner calls this)."""

    def refiners_share_flows(self) -> bool:
        """Whether both refiners compute the same flows on the same input.

        True when both are :class:`EnhanceNet` with the same propagation
        scale and bit-identical SPyNet weights, as when stage 2 keeps the
        stage-1 SPyNet frozen (our stage-2 configs do): the flows are then
        computed once for both. Checked on every call (a few ms), so
        weights loaded after construction are taken into account.
        """
        net1, net2 = self.enhancenet1, self.enhancenet2
        if not (isinstance(net1, EnhanceNet) and isinstance(net2, EnhanceNet)
                and net1.propagation_scale == net2.propagation_scale):
            return False
        state1 = net1.spynet.state_dict()
        state2 = net2.spynet.state_dict()
        return state1.keys() == state2.keys() and all(
            torch.equal(state1[k], state2[k]) for k in state1)

    @torch.no_grad()
    def enhance_chunk(self, lqs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run the whole pipeline on one chunk.

        Args:
            lqs (Tensor): Compressed frames (n, t, 3, h, w) in [0, 1].

        Returns:
            dict[str, Tensor]: ``ROWS`` and ``'mask'``, each
            (n, t, c, h, w) in [0, 1] (c = 1 for the mask).
        """
        stage1 = self.stage1(lqs).clamp_(0, 1).mul_(255).round_().div_(255)
        flows = None
        if self.share_flows and self.refiners_share_flows():
            flows = self.enhancenet1.flows(stage1)
        enhancenet1 = self.enhancenet1(stage1, flows=flows).clamp_(0, 1)
        enhancenet2 = self.enhancenet2(stage1, flows=flows).clamp_(0, 1)
        fused = self.fusion(enhancenet1, enhancenet2)
        out = dict(
            lq=lqs,
            stage1=stage1,
            enhancenet1=enhancenet1,
            enhancenet2=enhancenet2,
            fused=fused['fused'],
            mask=fused['mask'])
        out['fused_sharp'] = fused.get('fused_sharp', fused['fused'])
        return out

    @torch.no_grad()
    def enhance(self, lqs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run the pipeline on a clip, in chunks of ``max_seq_len`` frames.

        Args:
            lqs (Tensor): Compressed frames (n, t, 3, h, w) in [0, 1].

        Returns:
            dict[str, Tensor]: As :meth:`enhance_chunk`, for all t frames.
        """
        pieces: Dict[str, List[torch.Tensor]] = {}
        for ctx_start, ctx_end, keep_start, keep_end in chunk_windows(
                lqs.size(1), self.max_seq_len, self.overlap):
            out = self.enhance_chunk(lqs[:, ctx_start:ctx_end])
            lo, hi = keep_start - ctx_start, keep_end - ctx_start
            for key, value in out.items():
                pieces.setdefault(key, []).append(value[:, lo:hi])
        return {k: torch.cat(v, dim=1) for k, v in pieces.items()}

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Sequence[DataSample]] = None,
                mode: str = 'tensor'):
        """``tensor``: the fuse+sharp frames; ``predict``: data samples."""
        if isinstance(inputs, dict):
            inputs = inputs['img']
        if mode == 'loss':
            raise RuntimeError(
                'ASTF is a test-time model: train its three networks with '
                'their own configs (see the README).')
        outputs = self.enhance(inputs)
        if mode == 'tensor':
            return outputs['fused_sharp']
        return self._to_data_samples(outputs, data_samples)

    def _to_data_samples(self, outputs: Dict[str, torch.Tensor],
                         data_samples: DataSample) -> List[DataSample]:
        destruct = self.data_preprocessor.destruct
        fields = {
            f'{key}_img': destruct(outputs[key], data_samples).cpu()
            for key in ROWS if key != 'fused_sharp'
        }
        fields['pred_img'] = destruct(outputs['fused_sharp'],
                                      data_samples).cpu()
        fields['mask_img'] = (outputs['mask'] * 255.).cpu()
        predictions = DataSample(**fields)
        samples = data_samples.split()
        for sample, prediction in zip(samples, predictions.split()):
            sample.output = prediction
        return samples
