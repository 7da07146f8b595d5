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
on one clip's compressed frames, the mean flow length of both flow
networks and how much propagation changes CHECKPOINT's output there
(0: it works frame by frame).
Prints the sha256 of OUT, as ``publish_checkpoint.py`` does; an existing
OUT is refused unless ``--overwrite``.
"""
import argparse
import sys
from typing import Dict

import numpy as np
import torch

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import init_generator
from astf_mm.io import (OutputPathError, atomic_write_bytes, check_output_path,
                        read_frames)
from astf_mm.utils.checkpoint import checkpoint_bytes, load_checked_state_dict
from astf_mm.utils.checksum import sha256_of


def probe(network: torch.nn.Module, spynet_state: dict,
          lq_folder: str) -> Dict[str, float]:
    """Flow lengths of both flow networks on one clip, and what
    propagation adds to the network's output there (before the restart).
    """
    frames = np.stack(list(read_frames(lq_folder)))
    lqs = torch.from_numpy(frames).permute(0, 3, 1, 2)[None].float() / 255
    with torch.no_grad():
        flows = network.flows(lqs)[1]
        output = network(lqs)
        # flows far outside the frame warp every propagated feature to
        # zero: the output without propagation
        away = tuple(
            torch.full_like(f, 1e6) for f in network.flows(lqs))
        alone = network(lqs, away)
        saved = {k: v.clone() for k, v in network.spynet.state_dict().items()}
        network.spynet.load_state_dict(spynet_state, strict=False)
        new_flows = network.flows(lqs)[1]
        network.spynet.load_state_dict(saved)
    return {
        'mean flow length (px at propagation scale), old':
        float(flows.norm(dim=2).mean()),
        'mean flow length, new': float(new_flows.norm(dim=2).mean()),
        'largest output change from propagation (8-bit levels), old':
        float((output - alone).abs().max() * 255),
    }


def restart(config: str, checkpoint: str, spynet: str, dst: str,
            overwrite: bool = False, probe_folder: str = None) -> str:
    """Write the restarted network to ``dst``; return its sha256."""
    check_output_path(dst, [checkpoint, spynet], overwrite=overwrite)
    network = init_generator(config, checkpoint, channels_last=False)
    spynet_state, _ = load_checked_state_dict(
        spynet, prefix=None, name='spynet')
    if probe_folder:
        for key, value in probe(network, spynet_state, probe_folder).items():
            print(f'{key}: {value:.3f}')
    network.restart_propagation(spynet_state)
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
