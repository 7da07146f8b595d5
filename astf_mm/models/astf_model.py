"""The end-to-end ASTF model evaluated by ``tools/test.py``."""
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.model import BaseModel

from .chroma import Chroma420Projection, keep_input_chroma
from .chunking import chunk_windows
from .enhance_net import EnhanceNet
from .self_ensemble import build_self_ensemble
from .weight_init import build_network, load_trained

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


def run_stage1(network: torch.nn.Module,
               lqs: torch.Tensor,
               ensemble: Optional[torch.nn.Module] = None,
               luma_only: bool = False,
               chroma: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
               ) -> torch.Tensor:
    """Stage 1's output as :class:`ASTF` hands it to the refiners, before
    the 8-bit rounding; also what the tools that run stage 1 alone
    (``export_stage1.py``, ``eval_network.py``) write and score.

    Args:
        network (nn.Module): The stage-1 network.
        lqs (Tensor): Compressed frames ``(n, t, 3, h, w)`` in [0, 1].
        ensemble (nn.Module, optional): A self-ensemble
            (:func:`~astf_mm.models.self_ensemble.build_self_ensemble`)
            running the network. Default: None (one pass).
        luma_only (bool): Keep the input's colour
            (:func:`~astf_mm.models.chroma.keep_input_chroma`).
            Default: False.
        chroma (callable, optional): The input's 4:2:0 projection
            (:meth:`Chroma420Projection.for_input`). Default: None.

    Returns:
        Tensor: The output, clamped to [0, 1].
    """
    raw = network(lqs) if ensemble is None else ensemble(lqs, network)
    if luma_only:
        raw = keep_input_chroma(raw, lqs)
    raw = raw.clamp_(0, 1)
    return raw if chroma is None else chroma(raw)


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

    Any mmagic generator with a same-size output can serve as a network
    here (for instance BasicVSR++ in its decompression mode as a refiner).
    Without a stage 1 (``stage1=None``) the refiners take the compressed
    frames directly, as restorers trained on them (BasicVSR++'s NTIRE 2021
    tracks) expect, and the ``stage1`` row is left out.
    Each is built from its config and loaded through its ``init_cfg``, a
    ``CheckedPretrained`` initializer (strict keys, sha256 checked when
    pinned and logged), when the model is built: ``tools/test.py`` never
    calls ``init_weights``.

    Args:
        stage1 (dict, optional): Config of the stage-1 generator, with
            ``init_cfg`` naming its checkpoint, e.g. ``dict(type=
            'EnhanceNet', ..., init_cfg=dict(type='CheckedPretrained',
            checkpoint=PATH, sha256=DIGEST))``; None feeds the refiners
            the compressed frames.
        enhancenet1 (dict): Same for EnhanceNet1 (LPIPS-trained).
        enhancenet2 (dict): Same for EnhanceNet2 (trade-off loss).
        fusion (dict): Config of the fusion module.
            Default: ``dict(type='ASTFFusion')``.
        max_seq_len (int, optional): Frames per chunk, bounding memory on
            long clips. Default: None (whole clip at once).
        overlap (int): Context frames on each side of a chunk. Default: 2.
        share_flows (bool): Compute the refiners' flows once when they are
            identical (see :meth:`refiners_share_flows`); the outputs are
            the same either way. Default: True.
        channels_last (bool): Run the networks on channels-last (NHWC)
            features (faster on CPU, see ``benchmarks/results``; the
            outputs equal the default layout's to float rounding).
            Default: True.
        chroma_420 (bool): Project every network's output, the fusion
            and the sharpened fusion onto 4:2:0 chroma
            (:func:`~astf_mm.models.chroma.project_chroma_420`), the
            structure the input and its original share, whenever the
            input is 4:2:0 itself (:func:`~astf_mm.models.chroma.
            is_chroma_420`, checked per chunk; a full-chroma input is left
            alone, with a warning). Default: False.
        stage1_ensemble (dict, optional): Run stage 1 as a geometric
            self-ensemble, ``dict(type='SpatialTemporalEnsemble',
            is_temporal_ensemble=False)`` (8 passes, averaged; see
            :func:`~astf_mm.models.self_ensemble.build_self_ensemble`).
            The refiners run once: an average would wash out the texture
            they are trained to add. Default: None.
        stage1_luma_only (bool): Keep the input's colour in stage 1's
            output and take only its luma
            (:func:`~astf_mm.models.chroma.keep_input_chroma`), before the
            4:2:0 projection and the rounding; the refiners read it so.
            Default: False.
        data_preprocessor (dict, optional): mmagic ``DataPreprocessor``.
            Default: scales 0-255 frames to [0, 1].
        init_cfg (dict, optional): Unused (the networks carry their own).
            Default: None.
    """

    def __init__(self,
                 stage1: Optional[dict],
                 enhancenet1: dict,
                 enhancenet2: dict,
                 fusion: dict = dict(type='ASTFFusion'),
                 max_seq_len: Optional[int] = None,
                 overlap: int = 2,
                 share_flows: bool = True,
                 channels_last: bool = True,
                 chroma_420: bool = False,
                 stage1_ensemble: Optional[dict] = None,
                 stage1_luma_only: bool = False,
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
        self._weights: Dict[str, dict] = {}
        for name, cfg in zip(NETWORKS, (stage1, enhancenet1, enhancenet2)):
            if cfg is None:
                setattr(self, name, None)
                continue
            network, self._weights[name] = build_network(cfg)
            setattr(self, name, network)
        self.fusion = MODELS.build(fusion)
        self.max_seq_len = max_seq_len
        self.overlap = overlap
        self.share_flows = share_flows
        self.channels_last = channels_last
        self._chroma = Chroma420Projection(enabled=chroma_420)
        if stage1_ensemble is not None and stage1 is None:
            raise ValueError(
                'stage1_ensemble needs a stage 1: with stage1=None set '
                'stage1_ensemble=None too.')
        self.stage1_ensemble = build_self_ensemble(stage1_ensemble)
        if stage1_luma_only and stage1 is None:
            raise ValueError(
                'stage1_luma_only needs a stage 1: with stage1=None set '
                'stage1_luma_only=False too.')
        self.stage1_luma_only = stage1_luma_only
        self.checkpoint_sha256: Dict[str, str] = {}
        self.init_weights()

    def init_weights(self) -> None:
        """Load the three networks' checkpoints and freeze them.

        Raises:
            ValueError: If a network has no ``init_cfg`` to load it from.
        """
        if self._is_init:
            return
        for name in self._weights:
            network = load_trained(
                getattr(self, name), self._weights[name], name,
                self.channels_last)
            self.checkpoint_sha256[name] = network.checkpoint_sha256
        self._is_init = True

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

    @property
    def chroma_420(self) -> bool:
        """Whether the outputs of a 4:2:0 input are projected."""
        return self._chroma.enabled

    @chroma_420.setter
    def chroma_420(self, enabled: bool) -> None:
        self._chroma.enabled = enabled

    def chroma_projection(
            self, lqs: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """What :meth:`enhance_chunk` applies to each output of ``lqs``.

        :func:`~astf_mm.models.chroma.project_chroma_420` with
        ``chroma_420`` and a 4:2:0 input, else the identity (warning once
        when a full-chroma input is what keeps the outputs as they are).
        Tools that re-sharpen the fusion apply it after themselves.
        """
        return self._chroma.for_input(lqs)

    @torch.no_grad()
    def enhance_chunk(self, lqs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Run the whole pipeline on one chunk.

        Args:
            lqs (Tensor): Compressed frames (n, t, 3, h, w) in [0, 1].

        Returns:
            dict[str, Tensor]: ``ROWS`` (less ``'stage1'`` without a stage
            1) and ``'mask'``, each (n, t, c, h, w) in [0, 1] (c = 1 for
            the mask).
        """
        chroma = self.chroma_projection(lqs)
        if self.stage1 is None:
            stage1 = lqs
        else:
            stage1 = run_stage1(self.stage1, lqs, self.stage1_ensemble,
                                self.stage1_luma_only,
                                chroma).mul_(255).round_().div_(255)
        # only EnhanceNet refiners take shared flows; other generators are
        # called with the frames alone
        shared = {}
        if self.share_flows and self.refiners_share_flows():
            shared['flows'] = self.enhancenet1.flows(stage1)
        enhancenet1 = chroma(
            self.enhancenet1(stage1, **shared).clamp_(0, 1))
        enhancenet2 = chroma(
            self.enhancenet2(stage1, **shared).clamp_(0, 1))
        out = dict(
            lq=lqs,
            enhancenet1=enhancenet1,
            enhancenet2=enhancenet2,
            **self.fuse(enhancenet1, enhancenet2, chroma))
        if self.stage1 is not None:
            out['stage1'] = stage1
        return out

    def fuse(self, enhancenet1: torch.Tensor, enhancenet2: torch.Tensor,
             chroma: Callable[[torch.Tensor], torch.Tensor]
             ) -> Dict[str, torch.Tensor]:
        """The fusion of the two refiners' outputs and its sharpening.

        Args:
            enhancenet1 (Tensor): EnhanceNet1's output (n, t, 3, h, w).
            enhancenet2 (Tensor): EnhanceNet2's output, likewise.
            chroma (callable): The input's :meth:`chroma_projection`.

        Returns:
            dict[str, Tensor]: ``'fused'``, ``'fused_sharp'`` and
            ``'mask'`` (n, t, 1, h, w).
        """
        # the mask and the sharpening work per pixel: the projected fusion
        # is sharpened, then projected again
        fused = self.fusion(enhancenet1, enhancenet2, sharpen=False)
        out = dict(fused=chroma(fused['fused']), mask=fused['mask'])
        out['fused_sharp'] = chroma(self.fusion.sharpen_frames(
            out['fused'])) if self.fusion.sharpen else out['fused']
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
            for key in ROWS if key != 'fused_sharp' and key in outputs
        }
        fields['pred_img'] = destruct(outputs['fused_sharp'],
                                      data_samples).cpu()
        fields['mask_img'] = (outputs['mask'] * 255.).cpu()
        predictions = DataSample(**fields)
        samples = data_samples.split()
        for sample, prediction in zip(samples, predictions.split()):
            sample.output = prediction
        return samples
