"""Strip a training checkpoint to its generator weights for release.

``python tools/publish_checkpoint.py IN.pth OUT.pth``

Keeps ``generator.*`` weights and a little metadata (no optimizer state,
no message hub), writes atomically and prints the sha256 that configs can
pin (``model.stage1.sha256=...``).

``python tools/publish_checkpoint.py --end-to-end ASTF_CONFIG OUT.pth``

Writes the end-to-end ASTF model of a config (its three networks loaded as
the config says, pins checked) as one checkpoint, the positional checkpoint
that mmagic's own ``tools/test.py`` demands: its keys match the model, so
loading it prints no missing or unexpected keys. An existing OUT is
refused unless ``--overwrite``.
"""
import argparse
import os
import sys

import astf_mm  # noqa: F401  (applies shims)
from astf_mm.apis import init_astf_model
from astf_mm.compat import safe_torch_load
from astf_mm.io import OutputPathError, atomic_write_bytes, check_output_path
from astf_mm.utils.checkpoint import checkpoint_bytes
from astf_mm.utils.checksum import sha256_of


def publish(src: str, dst: str, overwrite: bool = False) -> str:
    """Write the generator weights of ``src`` to ``dst``; return sha256.

    An existing ``dst`` is replaced only with ``overwrite``: a published
    checkpoint is pinned by sha256 in configs.
    """
    check_output_path(dst, [src], overwrite=overwrite)
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
    atomic_write_bytes(dst, checkpoint_bytes(out), overwrite=overwrite)
    return sha256_of(dst)


def publish_end_to_end(config: str, dst: str, overwrite: bool = False) -> str:
    """Write the end-to-end model of an ASTF config to ``dst``; return its
    sha256."""
    check_output_path(dst, [config], overwrite=overwrite)
    model = init_astf_model(config)
    out = dict(
        state_dict=model.state_dict(),
        meta=dict(
            config=os.path.basename(config),
            networks=dict(model.checkpoint_sha256)))
    atomic_write_bytes(dst, checkpoint_bytes(out), overwrite=overwrite)
    return sha256_of(dst)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', help='training checkpoint (with --end-to-end: ASTF config)')
    parser.add_argument('dst', help='released checkpoint')
    parser.add_argument(
        '--end-to-end',
        action='store_true',
        help='SRC is an end-to-end ASTF config: write its whole model')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing DST')
    args = parser.parse_args()
    write = publish_end_to_end if args.end_to_end else publish
    try:
        print(write(args.src, args.dst, args.overwrite))
    except OutputPathError as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
