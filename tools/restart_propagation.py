"""Give a trained EnhanceNet new flows, starting it where it stands.

``python tools/restart_propagation.py CONFIG CHECKPOINT SPYNET OUT.pth
[--probe LQ_FOLDER]``

Writes CHECKPOINT's network with SPYNET's weights as its flow network and
the weights that read the propagated features zeroed
(:meth:`EnhanceNet.restart_propagation`): the written network gives, on
any clip, what CHECKPOINT's gives with no propagated features. A network
whose SPyNet drifted during training to flows that point out of the frame
already works that way (every warped feature is zero), so for it the
written network is the same enhancer, now with flows that a further
training phase (its SPyNet frozen) can learn to use. ``--probe`` prints,
on one clip's compressed frames, for the network before and after the
restart (``old``, ``new``), the mean flow length and how much propagation
changes its output there (0: it works frame by frame; always 0 after the
restart).
Prints the sha256 of OUT, as ``publish_checkpoint.py`` does; an existing
OUT is refused unless ``--overwrite``.
"""
import argparse
import sys
from typing import Dict

import torch

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import frames_to_tensor, init_generator
from astf_mm.io import (OutputPathError, atomic_write_bytes, check_output_path,
                        read_frames)
from astf_mm.utils.checkpoint import checkpoint_bytes, load_checked_state_dict
from astf_mm.utils.checksum import sha256_of


def probe(network: torch.nn.Module, lqs: torch.Tensor) -> Dict[str, float]:
    """Mean flow length on a clip, and what propagation changes in the
    network's output there (0: it works frame by frame)."""
    with torch.no_grad():
        flows = network.flows(lqs)
        output = network(lqs, flows)
        # flows far outside the frame warp every propagated feature to
        # zero: the output without propagation
        alone = network(lqs, tuple(torch.full_like(f, 1e6) for f in flows))
    return {
        'mean flow length (px at propagation scale)':
        float(flows[1].norm(dim=2).mean()),
        'largest output change from propagation (8-bit levels)':
        float((output - alone).abs().max() * 255),
    }


def restart(config: str, checkpoint: str, spynet: str, dst: str,
            overwrite: bool = False, probe_folder: str = None) -> str:
    """Write the restarted network to ``dst``; return its sha256."""
    check_output_path(dst, [checkpoint, spynet], overwrite=overwrite)
    network = init_generator(config, checkpoint, channels_last=False)
    spynet_state, _ = load_checked_state_dict(
        spynet, prefix=None, name='spynet')
    lqs = frames_to_tensor(read_frames(probe_folder)) if probe_folder else None

    def show(when: str) -> None:
        if lqs is not None:
            for key, value in probe(network, lqs).items():
                print(f'{when} {key}: {value:.3f}')

    show('old')
    network.restart_propagation(spynet_state)
    show('new')
    state = {
        f'generator.{k}': v.contiguous()
        for k, v in network.state_dict().items()
    }
    out = dict(
        state_dict=state,
        meta=dict(
            source=checkpoint,
            spynet=spynet,
            restarted_from=network.checkpoint_sha256))
    atomic_write_bytes(dst, checkpoint_bytes(out), overwrite=overwrite)
    return sha256_of(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the network\'s training config')
    parser.add_argument('checkpoint', help='its trained weights')
    parser.add_argument('spynet', help='SPyNet weights (mmagic\'s keys)')
    parser.add_argument('dst', help='the checkpoint to write')
    parser.add_argument(
        '--probe', help='a folder of compressed frames to measure on')
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args()
    try:
        print(
            restart(args.config, args.checkpoint, args.spynet, args.dst,
                    args.overwrite, args.probe))
    except OutputPathError as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
