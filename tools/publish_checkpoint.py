"""Strip a training checkpoint to its generator weights for release.

``python tools/publish_checkpoint.py IN.pth OUT.pth``

Keeps ``generator.*`` weights and a little metadata (no optimizer state,
no message hub), writes atomically and prints the sha256 that configs can
pin (``model.stage1.sha256=...``).
"""
import argparse
import os

import torch

import astf_mm  # noqa: F401  (applies shims)
from astf_mm.compat import safe_torch_load
from astf_mm.io import atomic_write
from astf_mm.utils.checksum import sha256_of


def publish(src: str, dst: str) -> str:
    """Write the generator weights of ``src`` to ``dst``; return sha256."""
    checkpoint = safe_torch_load(src, map_location='cpu')
    state = {
        k: v
        for k, v in checkpoint['state_dict'].items()
        if k.startswith('generator.')
    }
    if not state:
        raise ValueError(f'{src} holds no generator.* weights.')
    meta = checkpoint.get('meta', {})
    out = dict(
        state_dict=state,
        meta=dict(iter=meta.get('iter'), source=os.path.basename(src)))
    atomic_write(dst, lambda tmp: torch.save(out, tmp))
    return sha256_of(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='training checkpoint')
    parser.add_argument('dst', help='released checkpoint')
    args = parser.parse_args()
    print(publish(args.src, args.dst))


if __name__ == '__main__':
    main()
