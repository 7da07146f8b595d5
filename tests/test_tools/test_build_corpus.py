"""Tests of tools/data/build_corpus.py and astf_mm.datasets.synthetic_motion
on a tiny fake photo set and generated clips (no network)."""
import dataclasses
import hashlib
import importlib.util
import json
import math
import os
import os.path as osp
import re
import shutil
import zipfile

import cv2
import numpy as np
import pytest

from astf_mm.datasets.synthetic_motion import (CameraMotion,
                                               camera_motion_frames,
                                               place_motion,
                                               random_camera_motion)
from astf_mm.io import VideoWriter, read_frames

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools', 'data',
    'build_corpus.py')
_spec = importlib.util.spec_from_file_location('build_corpus', TOOL)
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)

FRAMES = dict(train=4, val=4, heldout=5)
CLIPS = dict(train=2, val=1, heldout=1)


def textured(width: int, height: int, seed: int) -> np.ndarray:
    """A photograph stand-in: smooth colour waves plus pixel noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.stack([
        120 + 60 * np.sin(x / (7 + seed) + y / 11),
        128 + 50 * np.cos(y / (5 + seed)),
        110 + 40 * np.sin((x - y) / 9)
    ], -1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def write_png(path, rgb) -> str:
    cv2.imwrite(str(path), rgb[..., ::-1])
    return str(path)


def read_png(path) -> np.ndarray:
    return cv2.imread(str(path))[..., ::-1]


def sha(path) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def fake_sources(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    # the held-out photograph fits the held-out window and its margin
    photos = [('ptrain', 'train', 0, (300, 230)), ('pval', 'val', 1,
                                                   (300, 230)),
              ('pheld', 'heldout', 2, (420, 290))]
    sources = [
        bc.Source(name, write_png(src / f'{name}.png',
                                  textured(*size, seed)), 'photo', role,
                  licence=f'licence of {name}', origin=f'fake:{name}')
        for name, role, seed, size in photos
    ]
    for name, role, seed in (('vid', 'train', 3), ('held', 'heldout', 4)):
        path = str(src / f'{name}.mkv')
        with VideoWriter(path, codec='ffv1', pix_fmt='yuv444p') as w:
            for t in range(8):
                w.write(np.roll(textured(96, 64, seed), 2 * t, axis=1))
        sources.append(bc.Source(name, path, 'video', role, 'lic', 'fake'))
    pieces = (('vid.mkv', 'train', None, None, [(0, 4)]),
              ('vid.mkv', 'val', None, (64, 48), [(4, 4)]),
              ('held.mkv', 'heldout', None, None, [(0, 6)]))
    return sources, pieces, tmp_path


def build_kwargs(pieces, **extra):
    """What every fake build passes: small, fast clips."""
    return dict(
        packages=dict(fake=dict(file='fake', sha256='0' * 64)),
        preset='ultrafast', video_pieces=pieces, photo_clips=CLIPS,
        clip_frames=FRAMES, **extra)


def run_build(sources, pieces, tmp_path):
    return bc.build(sources, str(tmp_path / 'corpus'),
                    str(tmp_path / 'heldout'), **build_kwargs(pieces))


def test_build_layout_frames_hashes_and_resume(fake_sources):
    sources, pieces, tmp_path = fake_sources
    manifests = run_build(sources, pieces, tmp_path)
    corpus, held = tmp_path / 'corpus', tmp_path / 'heldout'
    assert (corpus / 'meta_info_train.txt').read_text() == (
        'ptrain_00 4\nptrain_01 4\nvid_000 4\n')
    assert (corpus / 'meta_info_val.txt').read_text() == (
        'pval_00 4\nvid_c64_004 4\n')
    assert (held / 'meta_info_train.txt').read_text() == ''
    assert (held / 'meta_info_val.txt').read_text() == (
        'held_000 6\npheld_00 5\n')
    for root, manifest in ((corpus, manifests[str(corpus)]),
                           (held, manifests[str(held)])):
        for name, entry in manifest['videos'].items():
            for sub in ('gt', 'lq'):
                files = sorted(os.listdir(root / sub / name))
                assert files == [
                    f'{i:08d}.png' for i in range(entry['num_frames'])
                ]
            assert entry['bitstream_sha256'] == sha(root / entry['bitstream'])
            assert entry['settings']['qp'] == 37
        # sources.json: the sources of this root, with true hashes.
        record = json.loads((root / 'sources.json').read_text())
        for src in sources:
            if (src.role == 'heldout') == (root == held):
                assert record['sources'][src.name]['sha256'] == sha(src.path)
                assert record['sources'][src.name]['licence'] == src.licence
            else:
                assert src.name not in record['sources']
    # Frame sizes: the photo window, the video, the cropped video piece.
    assert read_png(corpus / 'gt' / 'ptrain_00' / '00000000.png').shape == (
        192, 256, 3)
    assert read_png(corpus / 'lq' / 'vid_c64_004' /
                    '00000003.png').shape == (48, 64, 3)
    assert read_png(held / 'gt' / 'held_000' / '00000005.png').shape == (
        64, 96, 3)

    # GT is the yuv420p round trip of the clip's frames (not the RGB
    # frames themselves); LQ is the decoded bitstream.
    job = [
        j for j in bc.corpus_jobs(
            sources, pieces, CLIPS, FRAMES, roles=('train', ))['train']
        if j.name == 'ptrain_01'
    ][0]
    rgb = list(job.frames())
    roundtrip = str(tmp_path / 'roundtrip.mkv')
    with VideoWriter(roundtrip, codec='ffv1', pix_fmt='yuv420p') as w:
        for frame in rgb:
            w.write(frame)
    expected = list(read_frames(roundtrip))
    lq_video = list(read_frames(str(corpus / 'bitstreams' /
                                    'ptrain_01.mkv')))
    entry = manifests[str(corpus)]['videos']['ptrain_01']
    for i in range(4):
        gt = read_png(corpus / 'gt' / 'ptrain_01' / f'{i:08d}.png')
        lq = read_png(corpus / 'lq' / 'ptrain_01' / f'{i:08d}.png')
        np.testing.assert_array_equal(gt, expected[i])
        np.testing.assert_array_equal(lq, lq_video[i])
        assert not np.array_equal(gt, rgb[i])
        mse = np.mean((gt.astype(float) - lq.astype(float))**2)
        assert entry['psnr_lq_rgb_per_frame'][i] == round(
            10 * math.log10(255**2 / mse), 4)

    # Resume: everything is reused; a damaged clip alone is rebuilt.
    stamp = os.stat(corpus / 'gt' / 'pval_00' / '00000000.png').st_mtime_ns
    shutil.rmtree(corpus / 'lq' / 'ptrain_00')
    again = run_build(sources, pieces, tmp_path)
    skipped = {
        name: e['skipped']
        for name, e in again[str(corpus)]['videos'].items()
    }
    assert skipped == dict(
        ptrain_00=False,
        ptrain_01=True,
        vid_000=True,
        pval_00=True,
        vid_c64_004=True)
    assert all(e['skipped'] for e in again[str(held)]['videos'].values())
    assert os.stat(corpus / 'gt' / 'pval_00' /
                   '00000000.png').st_mtime_ns == stamp
    assert len(os.listdir(corpus / 'lq' / 'ptrain_00')) == 4
    assert not [n for n in os.listdir(corpus) if n.startswith('.')]


def test_sources_are_disjoint_and_photographic(fake_sources):
    sources, pieces, tmp_path = fake_sources
    # The same file (by content) as training and held-out source: refused.
    copy = str(tmp_path / 'src' / 'copy.png')
    shutil.copyfile(sources[0].path, copy)
    leak = bc.Source('copy', copy, 'photo', 'heldout')
    with pytest.raises(ValueError, match='one role only'):
        bc.corpus_jobs(sources + [leak], pieces, CLIPS, FRAMES)
    # A held-out video cut into training pieces: refused.
    with pytest.raises(ValueError, match='a train piece of a heldout'):
        bc.corpus_jobs(sources,
                       (('held.mkv', 'train', None, None, [(0, 4)]), ),
                       CLIPS, FRAMES)
    # Clips are drawn from their names: the same name, the same clip.
    one = bc.photo_clip(sources[0], 'ptrain_00', 4)
    assert one.description == bc.photo_clip(sources[0], 'ptrain_00',
                                            4).description
    assert one.description != bc.photo_clip(sources[0], 'ptrain_01',
                                            4).description
    # Vector art (flat areas) is not a photograph.
    flat = np.zeros((230, 300, 3), np.uint8)
    flat[:, 150:] = (30, 120, 200)
    art = bc.Source('art', write_png(tmp_path / 'src' / 'art.png', flat),
                    'photo', 'train')
    assert bc.looks_photographic(flat) == 0.0
    assert bc.looks_photographic(read_png(sources[0].path)) > 1.0
    with pytest.raises(ValueError, match='art.png: flat areas'):
        run_build(sources + [art], pieces, tmp_path)
    assert not (tmp_path / 'corpus').exists()


def test_apply_exposure_low_and_high_key():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, -1)
    np.testing.assert_array_equal(bc.apply_exposure(ramp, 1.0, 1.0), ramp)
    low = bc.apply_exposure(ramp, 0.7, 2.0)
    # rounds to <= 5: 0.7 * (x / 255) ** 2 * 255 < 5.5  <=>  x <= 44
    assert (low <= 5).sum() == 45 * 3
    assert low.max() == round(0.7 * 255)
    assert (np.diff(low[..., 0].ravel().astype(int)) >= 0).all()
    high = bc.apply_exposure(ramp, 1.5, 1.0)
    # 1.5 * x >= 255  <=>  x >= 170
    assert (high == 255).sum() == (256 - 170) * 3
    assert high[0, 1, 0] == 2  # round(1.5)


def test_exposure_variants_only_for_training_photographs(fake_sources):
    sources, pieces, _ = fake_sources
    plain = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES)
    jobs = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES,
                          exposure_variants=3)
    # three more clips of the training photograph, nothing else changes
    added = [j for j in jobs['train'] if re.fullmatch(r'.*_x\d\d', j.name)]
    assert [j.name for j in added] == ['ptrain_x00', 'ptrain_x01',
                                       'ptrain_x02']
    assert [j.description for j in jobs['train'] if j not in added] == [
        j.description for j in plain['train']]
    for role in ('val', 'heldout'):
        assert [j.description for j in jobs[role]] == [
            j.description for j in plain[role]]
    # each variant films its drawn exposure of the photograph
    draws = [json.loads(j.description)['exposure'] for j in added]
    assert draws == [bc.exposure_draw(j.name) for j in added]
    for draw in draws:
        key = bc.LOW_KEY if draw['gamma'] > 1.0 else bc.HIGH_KEY
        assert key['gain'][0] <= draw['gain'] <= key['gain'][1]
        assert key['gamma'][0] <= draw['gamma'] <= key['gamma'][1]
    # both keys are drawn, about half each
    keys = [bc.exposure_draw(f'p_x{k:02d}')['gamma'] > 1.0 for k in range(40)]
    assert 12 <= sum(keys) <= 28
    # the same motion as a plain clip of that name, darker or brighter
    variant = added[0]
    twin = bc.photo_clip(sources[0], variant.name, FRAMES['train'])
    described = json.loads(variant.description)
    assert json.loads(twin.description) == {
        k: v for k, v in described.items() if k != 'exposure'}
    expected = [bc.apply_exposure(f, **described['exposure'])
                for f in twin.frames()]
    # exposure before filming, compared after: equal up to resampling
    got = list(variant.frames())
    assert len(got) == len(expected) == FRAMES['train']
    for a, b in zip(got, expected):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0
    assert np.abs(got[0].astype(int) -
                  next(iter(twin.frames())).astype(int)).mean() > 5.0


def test_apply_saturation_scales_colour_around_luma():
    rng = np.random.default_rng(0)
    image = rng.integers(60, 196, (8, 8, 3)).astype(np.uint8)
    np.testing.assert_array_equal(bc.apply_saturation(image, 1.0), image)
    grey = np.full((4, 4, 3), 90, np.uint8)
    np.testing.assert_array_equal(bc.apply_saturation(grey, 2.0), grey)
    # (40, 160, 40): luma 0.299*40 + 0.587*160 + 0.114*40 = 110.44
    green = np.array([[[40, 160, 40]]], np.uint8)
    assert bc.apply_saturation(green, 1.5).tolist() == [[[5, 185, 5]]]
    # clipped at 0: 110.44 + 2 * (40 - 110.44) < 0
    assert bc.apply_saturation(green, 2.0).tolist() == [[[0, 210, 0]]]


def test_saturation_variants_only_for_training_photographs(fake_sources):
    sources, pieces, _ = fake_sources
    plain = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES)
    jobs = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES,
                          exposure_variants=1, saturation_variants=2)
    names = [j.name for j in jobs['train']]
    assert sorted(names) == sorted([j.name for j in plain['train']] + [
        'ptrain_x00', 'ptrain_s00', 'ptrain_s01'])
    added = [j for j in jobs['train'] if re.fullmatch(r'.*_s\d\d', j.name)]
    assert [j.name for j in added] == ['ptrain_s00', 'ptrain_s01']
    for role in ('val', 'heldout'):
        assert [j.description for j in jobs[role]] == [
            j.description for j in plain[role]]
    draws = [json.loads(j.description)['saturation'] for j in added]
    assert draws == [bc.saturation_draw(j.name) for j in added]
    assert all(bc.SATURATION[0] <= d <= bc.SATURATION[1] for d in draws)
    # the same motion as a plain clip of that name, more colourful
    twin = bc.photo_clip(sources[0], added[0].name, FRAMES['train'])
    got, plain_frames = list(added[0].frames()), list(twin.frames())
    expected = [bc.apply_saturation(f, draws[0]) for f in plain_frames]
    for a, b in zip(got, expected):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0

    def spread(frames):
        f = np.stack(frames).astype(float)
        return np.abs(f - f.mean(axis=-1, keepdims=True)).mean()

    assert spread(got) > 1.3 * spread(plain_frames)


def test_apply_hue_rotation_turns_chroma_about_grey():
    rng = np.random.default_rng(0)
    image = rng.integers(90, 166, (8, 8, 3)).astype(np.uint8)
    np.testing.assert_array_equal(bc.apply_hue_rotation(image, 0.0), image)
    grey = np.full((4, 4, 3), 90, np.uint8)
    np.testing.assert_array_equal(bc.apply_hue_rotation(grey, 137.0), grey)
    # (40, 160, 40): luma 110.44, its chroma negated at 180 degrees:
    # red = blue = 110.44 + 70.44, green from the kept luma
    green = np.array([[[40, 160, 40]]], np.uint8)
    assert bc.apply_hue_rotation(green, 180.0).tolist() == [[[181, 61, 181]]]
    # luma kept (up to rounding) and turning back undoes it, for colours
    # that stay inside the RGB cube
    turned = bc.apply_hue_rotation(image, 100.0)
    luma = np.array(bc.LUMA_WEIGHTS)
    assert np.abs(turned @ luma - image @ luma).max() <= 1.0
    back = bc.apply_hue_rotation(turned, -100.0).astype(int)
    assert np.abs(back - image).max() <= 2
    assert np.abs(turned.astype(int) - image).mean() > 10


def test_hue_variants_only_for_training_photographs(fake_sources):
    sources, pieces, _ = fake_sources
    plain = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES)
    jobs = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES, hue_variants=2)
    assert sorted(j.name for j in jobs['train']) == sorted(
        [j.name for j in plain['train']] + ['ptrain_h00', 'ptrain_h01'])
    for role in ('val', 'heldout'):
        assert [j.description for j in jobs[role]] == [
            j.description for j in plain[role]]
    added = [j for j in jobs['train'] if re.fullmatch(r'.*_h\d\d', j.name)]
    draws = [json.loads(j.description)['hue'] for j in added]
    assert draws == [bc.hue_draw(j.name) for j in added]
    assert draws[0] != draws[1]
    assert all(bc.HUE_ANGLE[0] <= d <= bc.HUE_ANGLE[1] for d in draws)
    # the same motion as a plain clip of that name, turned in hue
    twin = bc.photo_clip(sources[0], added[0].name, FRAMES['train'])
    got, plain_frames = list(added[0].frames()), list(twin.frames())
    expected = [bc.apply_hue_rotation(f, draws[0]) for f in plain_frames]
    for a, b in zip(got, expected):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0


def test_saturated_hue_variants_only_for_training_photographs(fake_sources):
    sources, pieces, _ = fake_sources
    plain = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES)
    jobs = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES, hue_variants=1,
                          saturated_hue_variants=2)
    assert sorted(j.name for j in jobs['train']) == sorted(
        [j.name for j in plain['train']] +
        ['ptrain_h00', 'ptrain_c00', 'ptrain_c01'])
    for role in ('val', 'heldout'):
        assert [j.description for j in jobs[role]] == [
            j.description for j in plain[role]]
    added = [j for j in jobs['train'] if re.fullmatch(r'.*_c\d\d', j.name)]
    described = [json.loads(j.description) for j in added]
    # both draws come from the clip's own name, each in its range
    assert [(d['saturation'], d['hue']) for d in described] == [
        (bc.saturation_draw(j.name), bc.hue_draw(j.name)) for j in added]
    assert described[0]['hue'] != described[1]['hue']
    for d in described:
        assert bc.SATURATION[0] <= d['saturation'] <= bc.SATURATION[1]
        assert bc.HUE_ANGLE[0] <= d['hue'] <= bc.HUE_ANGLE[1]
    # the same motion as a plain clip of that name, saturated then turned
    twin = bc.photo_clip(sources[0], added[0].name, FRAMES['train'])
    got, plain_frames = list(added[0].frames()), list(twin.frames())
    expected = [
        bc.apply_hue_rotation(
            bc.apply_saturation(f, described[0]['saturation']),
            described[0]['hue']) for f in plain_frames
    ]
    for a, b in zip(got, expected):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0
    # more colourful than the plain clip: saturated, not only turned
    spread = [
        np.abs(f.astype(float) - f.mean(axis=-1, keepdims=True)).mean()
        for f in (got[0], plain_frames[0])
    ]
    assert spread[0] > 1.3 * spread[1]


def test_closeup_clips_for_training_and_validation_photographs(tmp_path):
    big = bc.Source('pbig', write_png(tmp_path / 'big.png',
                                      textured(1200, 900, 5)), 'photo',
                    'val', 'lic', 'fake')
    held = bc.Source('pheld', write_png(tmp_path / 'held.png',
                                        textured(1200, 900, 6)), 'photo',
                     'heldout', 'lic', 'fake')
    plain = bc.corpus_jobs([big, held], (), CLIPS, FRAMES)
    jobs = bc.corpus_jobs([big, held], (), CLIPS, FRAMES, closeup_clips=3)
    added = [j for j in jobs['val'] if re.fullmatch(r'.*_z\d\d', j.name)]
    assert [j.name for j in added] == ['pbig_z00', 'pbig_z01', 'pbig_z02']
    assert [j.description for j in jobs['val'] if j not in added] == [
        j.description for j in plain['val']]
    # held-out photographs are never filmed differently
    assert [j.description for j in jobs['heldout']] == [
        j.description for j in plain['heldout']]
    assert jobs['train'] == plain['train'] == []
    # a close-up keeps 0.6-1.0 of the photograph's size; a plain clip
    # shrinks its short side to 1.2-3 window heights (at most 768 px here)
    for job in added:
        described = json.loads(job.description)
        assert described['closeup'] is True
        width, height = described['image_size']
        assert 0.6 * 1200 - 1 <= width <= 1200
        assert 0.6 * 900 - 1 <= height <= 900
    for job in plain['val']:
        assert json.loads(job.description)['image_size'][1] <= 3 * 272
    frames = list(added[0].frames())
    assert len(frames) == FRAMES['val']
    assert frames[0].shape[1::-1] == tuple(
        json.loads(added[0].description)['window'])
    # and training photographs get them too
    train = dataclasses.replace(big, role='train')
    jobs = bc.corpus_jobs([train], (), CLIPS, FRAMES, closeup_clips=1)
    assert [j.name for j in jobs['train']][-1] == 'pbig_z00'


def test_hue_turned_validation_set(fake_sources):
    sources, pieces, tmp_path = fake_sources
    roots = [str(tmp_path / name) for name in ('corpus', 'heldout', 'hue')]
    kwargs = build_kwargs(pieces)
    with pytest.raises(ValueError, match="only='hue-val'"):
        bc.build(sources, *roots[:2], only='hue-val', **kwargs)
    with pytest.raises(ValueError, match='a root of its own'):
        bc.build(sources, *roots[:2], hue_val_root=roots[0], **kwargs)
    bc.build(sources, *roots[:2], only='hue-val', hue_val_root=roots[2],
             **kwargs)
    hue = tmp_path / 'hue'
    # validation photographs only, every turn; nothing else written
    assert (hue / 'meta_info_val.txt').read_text() == ''.join(
        f'pval_t{turn:03d} 4\n' for turn in (0, 90, 180, 270))
    assert (hue / 'meta_info_train.txt').read_text() == ''
    assert not osp.exists(roots[0]) and not osp.exists(roots[1])
    record = json.loads((hue / 'sources.json').read_text())
    assert {v['role'] for v in record['sources'].values()} == {'val'}
    # turn 0 is the validation clip itself; the others are it turned
    plain = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES)['val'][0]
    assert plain.name == 'pval_00'
    turned = {j.name: j for j in bc.hue_turned_jobs(sources,
                                                    clip_frames=FRAMES)}
    plain_frames = list(plain.frames())
    for a, b in zip(turned['pval_t000'].frames(), plain_frames):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(turned['pval_t180'].frames(), plain_frames):
        expected = bc.apply_hue_rotation(b, 180.0).astype(int)
        assert np.abs(a.astype(int) - expected).mean() < 2.0
        assert np.abs(a.astype(int) - b).mean() > 10
    # the saturated set: the same clips saturated before each turn, in a
    # root of its own
    bc.build(sources, *roots[:2], only='sat-hue-val',
             sat_hue_val_root=str(tmp_path / 'sathue'), **kwargs)
    sat = tmp_path / 'sathue'
    assert not osp.exists(roots[0]) and not osp.exists(roots[1])
    assert (sat / 'meta_info_val.txt').read_text() == ''.join(
        f'pval_s18t{turn:03d} 4\n' for turn in (0, 90, 180, 270))
    assert (hue / 'meta_info_val.txt').read_text().count('\n') == 4
    jobs = {
        j.name: j
        for j in bc.hue_turned_jobs(
            sources, clip_frames=FRAMES, saturation=bc.SATURATED_HUE_VAL)
    }
    for turn in (0, 90):
        got = list(jobs[f'pval_s18t{turn:03d}'].frames())
        for a, b in zip(got, plain_frames):
            expected = bc.apply_saturation(b, bc.SATURATED_HUE_VAL)
            if turn:
                expected = bc.apply_hue_rotation(expected, float(turn))
            assert np.abs(a.astype(int) - expected.astype(int)).mean() < 2.0
    assert json.loads(jobs['pval_s18t090'].description)['saturation'] == 1.8
    with pytest.raises(ValueError, match='a root of its own'):
        bc.build(sources, *roots[:2], hue_val_root=roots[2],
                 sat_hue_val_root=roots[2], **kwargs)


def test_texture_validation_set(fake_sources):
    """Texture scans make their own root only: one clip each, panned in
    the texture window; no other root films or records them."""
    sources, pieces, tmp_path = fake_sources
    texture = bc.Source('ptex', write_png(tmp_path / 'src' / 'tex.png',
                                          textured(300, 230, 9)), 'texture',
                        'val', 'CC0', 'tex.deb:/tex.png', part='tex-val')
    sources = sources + [texture]
    kwargs = build_kwargs(pieces)
    kwargs['packages']['tex'] = dict(file='tex.deb', sha256='1' * 64)
    # the corpus and the hue-turned set are what they are without it
    options = dict(closeup_clips=1, hue_variants=1)
    jobs = bc.corpus_jobs(sources, pieces, CLIPS, FRAMES, **options)
    without = bc.corpus_jobs(sources[:-1], pieces, CLIPS, FRAMES, **options)
    for role in jobs:
        assert [j.name for j in jobs[role]] == [
            j.name for j in without[role]]
    assert [j.name for j in bc.hue_turned_jobs(sources)] == [
        j.name for j in bc.hue_turned_jobs(sources[:-1])]
    tex_root = tmp_path / 'tex'
    roots = (str(tmp_path / 'corpus'), str(tmp_path / 'heldout'))
    bc.build(sources, *roots, only='tex-val', tex_val_root=str(tex_root),
             **kwargs)
    assert not osp.exists(roots[0]) and not osp.exists(roots[1])
    bc.build(sources, *roots, tex_val_root=str(tex_root), **kwargs)
    assert (tex_root / 'meta_info_val.txt').read_text() == 'ptex_00 4\n'
    assert (tex_root / 'meta_info_train.txt').read_text() == ''
    frames = list(read_frames(str(tex_root / 'gt' / 'ptex_00')))
    assert frames[0].shape[1::-1] == bc.TEXTURE_WINDOW
    described = json.loads(bc.texture_jobs(sources, FRAMES)[0].description)
    assert described['window'] == list(bc.TEXTURE_WINDOW)
    # sources.json: the texture in its root, and only there
    # and its package, which no other root records
    record = json.loads((tex_root / 'sources.json').read_text())
    assert list(record['sources']) == ['ptex']
    assert record['sources']['ptex']['kind'] == 'texture'
    assert list(record['packages']) == ['tex']
    for root in ('corpus', 'heldout'):
        record = json.loads((tmp_path / root / 'sources.json').read_text())
        assert 'ptex' not in record['sources']
        assert list(record['packages']) == ['fake']
        assert 'ptex' not in (tmp_path / root /
                              'meta_info_val.txt').read_text()
    with pytest.raises(ValueError, match='a root of its own'):
        bc.build(sources, str(tex_root), str(tmp_path / 'heldout'),
                 tex_val_root=str(tex_root), **kwargs)


def test_texture_smaller_than_its_window_refused(tmp_path):
    """A scan too small to pan the texture window with its 24-pixel
    margin is refused by name, not upscaled."""
    small = bc.Source('psmall', write_png(tmp_path / 'small.png',
                                          textured(256, 256, 3)),
                      'texture', 'val', 'CC0', 'fake', part='tex-val')
    assert bc.TEXTURE_WINDOW == bc.WINDOWS[0]
    with pytest.raises(ValueError, match=r'small\.png: 256x256 is too '
                       r'small for the window \(256, 192\)'):
        bc.texture_jobs([small], FRAMES)


def test_main_passes_every_root_and_gathers_for_the_parts_built(
        monkeypatch, tmp_path, capsys):
    gathered, built = [], []

    def gather(cache_dir, parts):
        gathered.append(parts)
        return [], {}

    monkeypatch.setattr(
        bc, 'build', lambda *args, **kwargs: built.append((args, kwargs)))
    roots = ['--out-root', 'C', '--heldout-root', 'H', '--hue-val-root',
             'U', '--sat-hue-val-root', 'S', '--tex-val-root', 'T',
             '--cache-dir', str(tmp_path)]
    five = ('corpus', 'heldout', 'hue-val', 'sat-hue-val', 'tex-val')
    for only, extra, parts in (
        ('sat-hue-val', [], ('sat-hue-val', )),
        ('corpus', [], ('corpus', )),
        ('tex-val', [], ('tex-val', )),
        (None, [], five),
        # the training textures only when their root is given
        (None, ['--tex-train-root', 'X'], five + ('tex-train', )),
        ('tex-train', ['--tex-train-root', 'X'], ('tex-train', )),
        (None, ['--tex-train-built-root', 'B'], five + ('tex-train-built', )),
        ('tex-train-built', ['--tex-train-root', 'X',
                             '--tex-train-built-root', 'B'],
         ('tex-train-built', )),
        (None, ['--tex-train-objects-root', 'O'],
         five + ('tex-train-objects', )),
    ):
        argv = roots + extra + (['--only', only] if only else [])
        assert bc.main(argv + ['--saturated-hue-variants', '2'],
                       gather=gather) == 0
        assert gathered[-1] == parts
        args, kwargs = built[-1]
        assert args[1:] == ('C', 'H', {}, only)
        assert (kwargs['hue_val_root'], kwargs['sat_hue_val_root'],
                kwargs['tex_val_root']) == ('U', 'S', 'T')
        # a root for each training texture part given, and only those
        assert kwargs['train_texture_roots'] == {
            part: root
            for part, root in (('tex-train', 'X'), ('tex-train-built', 'B'),
                               ('tex-train-objects', 'O')) if root in extra
        }
        assert kwargs['saturated_hue_variants'] == 2
    for part in ('tex-train', 'tex-train-built', 'tex-train-objects'):
        with pytest.raises(SystemExit):
            bc.main(roots + ['--only', part], gather=gather)
        assert f'--only {part} needs --{part}-root' in (
            capsys.readouterr().err)
    assert len(gathered) == 9


def test_training_textures_from_a_pinned_archive(monkeypatch, tmp_path):
    """The training textures: pictures of the pinned archive's folders,
    without surface maps, drawn, too-small or flat pictures (each left out
    with its reason), each with its DEP-5 licence; each part filmed into
    its own root as training clips in drawn windows, recorded there
    only."""
    unpacked = tmp_path / 'unpacked'
    pak = unpacked / 'usr/share/games/g/base/pak.pk3'
    pak.parent.mkdir(parents=True)
    pictures = {
        'textures/tex_nature/rock.png': textured(400, 300, 1),
        'textures/tex_nature/rock_nm.png': textured(400, 300, 2),
        'textures/tex_nature/pebble.png': textured(256, 256, 3),
        'textures/tex_material/flat.png': np.full((300, 400, 3), 90,
                                                  np.uint8),
        'textures/tex_material/wood.jpg': textured(512, 512, 4),
        'textures/tex_pics/painting.png': textured(400, 300, 5),
        'textures/tex_town/planks.png': textured(400, 300, 6),
        'textures/tex_town/9panel.png': textured(400, 300, 7),
        'textures/tex_town/planksb.png': textured(400, 300, 8),
    }
    with zipfile.ZipFile(pak, 'w') as zf:
        for member, image in pictures.items():
            ok, data = cv2.imencode(osp.splitext(member)[1], image)
            zf.writestr(member, data.tobytes())
    doc = unpacked / 'usr/share/doc/fake-textures'
    doc.mkdir(parents=True)
    (doc / 'copyright').write_text(
        'Files: *\nLicense: GPL-2+\n\nFiles: base/textures/tex_material/*'
        '\nLicense: public-domain\n')
    deb = tmp_path / 'fake-textures_1.0_all.deb'
    deb.write_bytes(b'deb')
    monkeypatch.setattr(bc, 'fetch_deb', lambda package, cache: str(deb))
    monkeypatch.setattr(bc, 'unpack_deb', lambda d, cache: str(unpacked))
    package = dict(package='fake-textures',
                   archive='usr/share/games/g/base/pak.pk3', sha256=sha(pak))
    monkeypatch.setattr(
        bc, 'TRAIN_TEXTURES', {
            'tex-train':
            dict(bc.TRAIN_TEXTURES['tex-train'], **package),
            'tex-train-built':
            dict(bc.TRAIN_TEXTURES['tex-train-built'], **package,
                 folders=('textures/tex_town/', ),
                 drawn=('textures/tex_town/9', ),
                 recoloured=('textures/tex_town/planksb', )),
        })
    cache = str(tmp_path / 'cache')
    sources, record = bc.train_texture_sources(cache)
    assert [(s.name, s.kind, s.role, s.part) for s in sources] == [
        ('ufoai_material_wood', 'texture', 'train', 'tex-train'),
        ('ufoai_nature_rock', 'texture', 'train', 'tex-train')]
    assert sources[0].licence.startswith('public-domain')
    assert sources[1].licence.startswith('GPL-2+')
    assert sources[1].origin == (
        'fake-textures_1.0_all.deb:/usr/share/games/g/base/pak.pk3!/'
        'textures/tex_nature/rock.png')
    assert record['left_out'] == {
        'textures/tex_material/flat.png': 'flat areas without texture',
        'textures/tex_nature/pebble.png': '256x256: too small to pan'}
    # both parts: one package record holding what each left out
    both, records = bc.train_textures(cache, ('tex-train', 'tex-train-built'))
    assert [(s.name, s.part) for s in both[2:]] == [
        ('ufoai_town_planks', 'tex-train-built')]
    assert list(records) == ['fake-textures']
    built_left_out = {
        'textures/tex_town/9panel.png': 'drawn, not a photograph',
        'textures/tex_town/planksb.png': 'a recoloured copy of a picture kept'
    }
    assert records['fake-textures']['left_out'] == dict(
        record['left_out'], **built_left_out)
    assert bc.train_textures(cache, ('tex-train-built', ))[0] == both[2:]
    assert bc.train_textures(cache, ('corpus', )) == ([], {})
    # each part its own root, training clips only, in windows drawn as for
    # photos
    root, built_root = tmp_path / 'textrain', tmp_path / 'textrain_built'
    bc.build(both, str(tmp_path / 'c'), str(tmp_path / 'h'),
             packages=records, only='tex-train', train_texture_roots={
                 'tex-train': str(root), 'tex-train-built': str(built_root)},
             preset='ultrafast', clip_frames=FRAMES)
    assert (root / 'meta_info_train.txt').read_text() == (
        'ufoai_material_wood_00 4\nufoai_nature_rock_00 4\n')
    assert (root / 'meta_info_val.txt').read_text() == ''
    assert not (tmp_path / 'c').exists() and not built_root.exists()
    jobs = bc.texture_jobs(both, FRAMES, part='tex-train')
    assert [job.name for job in jobs] == [
        'ufoai_material_wood_00', 'ufoai_nature_rock_00']
    for job in jobs:
        assert tuple(json.loads(job.description)['window']) in bc.WINDOWS
    # each root lists its own sources and what its own folders left out
    saved = json.loads((root / 'sources.json').read_text())
    assert sorted(saved['sources']) == [s.name for s in sources]
    assert list(saved['packages']) == ['fake-textures']
    assert saved['packages']['fake-textures']['left_out'] == record[
        'left_out']
    bc.build(both, str(tmp_path / 'c'), str(tmp_path / 'h'),
             packages=records, only='tex-train-built',
             train_texture_roots={
                 'tex-train': str(root), 'tex-train-built': str(built_root)},
             preset='ultrafast', clip_frames=FRAMES)
    assert (built_root / 'meta_info_train.txt').read_text() == (
        'ufoai_town_planks_00 4\n')
    saved = json.loads((built_root / 'sources.json').read_text())
    assert list(saved['sources']) == ['ufoai_town_planks']
    assert saved['packages']['fake-textures']['left_out'] == built_left_out
    with pytest.raises(ValueError, match="'tex-train-town' is not a"):
        bc.build(both, str(tmp_path / 'c'), str(tmp_path / 'h'),
                 train_texture_roots={'tex-train-town': str(root)})
    # a texture outside its part's role, or without a part, is refused
    for wrong, match in ((dataclasses.replace(both[0], role='val'),
                          "has role 'val'; the part films"),
                         (dataclasses.replace(both[0], part=''),
                          "has part ''")):
        with pytest.raises(ValueError, match=match):
            bc.build([wrong], str(tmp_path / 'c'), str(tmp_path / 'h'),
                     only='tex-train',
                     train_texture_roots={'tex-train': str(root)})
    with pytest.raises(ValueError, match="'corpus' is not a texture part"):
        bc.texture_jobs(both, FRAMES, part='corpus')
    # the validation textures are not filmed for training, nor these for
    # the texture validation set
    assert bc.texture_jobs(sources, FRAMES) == []
    # a picture the copyright file gives no licence is refused by name
    (doc / 'copyright').write_text('Files: base/textures/tex_nature/*\n'
                                   'License: GPL-2+\n')
    with pytest.raises(RuntimeError, match=r'fake-textures_1\.0_all\.deb: '
                       'its copyright file gives no licence for '
                       r'textures/tex_material/flat\.png'):
        bc.train_texture_sources(str(tmp_path / 'cache'))


def test_texture_sources_pinned():
    """Every texture of the package is pinned by sha256, with its
    licence; the one too small to pan is left out."""
    assert len(bc.TEXTURES) == 16
    for name, (member, sha, licence) in bc.TEXTURES.items():
        assert name.startswith('mypaint_') and ' ' not in name
        assert re.fullmatch('[0-9a-f]{64}', sha)
        assert licence.startswith('CC0-1.0')
    assert not any('mamurk_e_1' in m for m, _, _ in bc.TEXTURES.values())
    assert 'mypaint_Cork' in bc.TEXTURES


def test_heldout_style_validation_photographs(tmp_path):
    """A held-out-style validation photograph gets one plain clip in the
    held-out window, whatever the clip counts and options."""
    lomiri = bc.Source('plomiri', write_png(tmp_path / 'l.png',
                                            textured(1200, 900, 7)),
                       'photo', 'val', 'lic', 'fake', heldout_style=True)
    held = bc.Source('pheld', write_png(tmp_path / 'h.png',
                                        textured(1200, 900, 8)), 'photo',
                     'heldout', 'lic', 'fake')
    jobs = bc.corpus_jobs([lomiri, held], (), dict(CLIPS, val=3), FRAMES,
                          exposure_variants=2, saturation_variants=2,
                          hue_variants=2, closeup_clips=2)
    assert [j.name for j in jobs['val']] == ['plomiri_00']
    described = json.loads(jobs['val'][0].description)
    assert described['window'] == list(bc.HELDOUT_WINDOW)
    assert 'closeup' not in described
    # the held-out clip of the same picture is filmed the same way (its
    # own name draws its own motion): same window, same scale range
    held_described = json.loads(jobs['heldout'][0].description)
    assert held_described['window'] == described['window']
    for d in (described, held_described):
        assert d['image_size'][1] <= 3 * bc.HELDOUT_WINDOW[1] + 1
    frames = list(jobs['val'][0].frames())
    assert len(frames) == FRAMES['val']
    assert frames[0].shape[1::-1] == bc.HELDOUT_WINDOW
    # only validation photographs may be filmed like the held-out ones
    with pytest.raises(ValueError, match=r'l\.png: only validation'):
        bc.corpus_jobs([dataclasses.replace(lomiri, role='train')], (),
                       CLIPS, FRAMES)


def test_negative_exposure_variants_refused_before_any_download(capsys):
    def gather(cache_dir, parts):
        raise AssertionError('sources gathered')

    with pytest.raises(SystemExit) as exit_info:
        bc.main(['--exposure-variants', '-1'], gather=gather)
    assert exit_info.value.code == 2
    assert '--exposure-variants must be >= 0, got -1' in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit):
        bc.main(['--saturation-variants', '-2'], gather=gather)
    assert '--saturation-variants must be >= 0, got -2' in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit):
        bc.main(['--hue-variants', '-3'], gather=gather)
    assert '--hue-variants must be >= 0, got -3' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bc.main(['--saturated-hue-variants', '-4'], gather=gather)
    assert '--saturated-hue-variants must be >= 0, got -4' in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit):
        bc.main(['--closeup-clips', '-1'], gather=gather)
    assert '--closeup-clips must be >= 0, got -1' in capsys.readouterr().err


def test_fewer_exposure_variants_into_a_built_root_is_refused(
        fake_sources):
    sources, pieces, tmp_path = fake_sources
    kwargs = build_kwargs(pieces, only='corpus')
    roots = (str(tmp_path / 'corpus'), str(tmp_path / 'heldout'))
    bc.build(sources, *roots, exposure_variants=1, **kwargs)
    ann = tmp_path / 'corpus' / 'meta_info_train.txt'
    listed = ann.read_text()
    assert 'ptrain_x00' in listed
    # K = 0 into the same root would keep training on ptrain_x00
    with pytest.raises(ValueError, match=r'holds 1 clips .*ptrain_x00'):
        bc.build(sources, *roots, exposure_variants=0, **kwargs)
    assert ann.read_text() == listed
    # the same options again: everything reused
    manifest = bc.build(sources, *roots, exposure_variants=1, **kwargs)
    assert all(v['skipped'] for v in manifest[roots[0]]['videos'].values())


def test_shipped_source_lists_are_disjoint():
    roles = {}
    for name, (package, member, digest, licence, role) in bc.PHOTOS.items():
        assert licence and len(digest) == 64
        assert digest not in roles, name
        roles[digest] = role
    # mate-backgrounds is held out whole; the sample validation photos too.
    assert {r for n, r in zip(bc.PHOTOS, roles.values())
            if n.startswith('mate_')} == {'heldout'}
    assert bc.PHOTOS['astronaut'][4] == bc.PHOTOS['coffee'][4] == 'heldout'
    # the held-out-style packages are validation only, and all of them
    # are used
    lomiri = {n: spec for n, spec in bc.PHOTOS.items()
              if spec[0] in bc.HELDOUT_STYLE_PACKAGES}
    assert len(lomiri) == 12
    assert {spec[4] for spec in lomiri.values()} == {'val'}
    assert {spec[0] for spec in lomiri.values()} == set(
        bc.HELDOUT_STYLE_PACKAGES)
    held_videos = {f for f, role, *_ in bc.VIDEO_PIECES if role == 'heldout'}
    other_videos = {f for f, role, *_ in bc.VIDEO_PIECES if role != 'heldout'}
    assert held_videos == {'carphone_pristine.mp4'}
    assert not held_videos & other_videos
    # Validation pieces of the training videos use frames no training
    # piece uses.
    for file in other_videos:
        spans = dict(train=set(), val=set())
        for file2, role, _, _, pcs in bc.VIDEO_PIECES:
            if file2 == file:
                for start, n in pcs:
                    spans[role].update(range(start, start + n))
        assert spans['val'] and not spans['train'] & spans['val']


def test_camera_motion_whole_pixel_pan_is_an_exact_crop():
    img = textured(120, 90, 5)
    motion = CameraMotion(velocity=(3, -2))
    frames = list(camera_motion_frames(img, (40, 30), (49.5, 54.5), motion,
                                       4))
    # Window centre (49.5, 54.5) with a 40x30 window: top-left (30, 40).
    for t, frame in enumerate(frames):
        x, y = 30 + 3 * t, 40 - 2 * t
        np.testing.assert_array_equal(frame, img[y:y + 30, x:x + 40])
    with pytest.raises(ValueError, match='leaves the 120x90 image'):
        list(camera_motion_frames(img, (40, 30), (10, 54.5), motion, 4))


def test_random_motion_fits_and_is_deterministic():
    rng = np.random.default_rng(0)
    for _ in range(20):
        motion = random_camera_motion(rng)
        center = place_motion((400, 300), motion, (256, 192), 12, rng)
        assert center is not None
        frames = list(
            camera_motion_frames(textured(400, 300, 1), (256, 192), center,
                                 motion, 12))
        assert len(frames) == 12 and frames[0].shape == (192, 256, 3)
    speed = [
        math.hypot(*random_camera_motion(np.random.default_rng(s)).velocity)
        for s in range(200)
    ]
    assert 0.25 <= min(speed) < 0.5 and 4 < max(speed) <= 6.0
    assert random_camera_motion(np.random.default_rng(7)) == (
        random_camera_motion(np.random.default_rng(7)))


def test_source_files_hashed_once_per_content(monkeypatch, tmp_path):
    """A build checks, pins and records each source file: one hash per
    content, and a file rewritten meanwhile is hashed anew."""
    hashed = []
    monkeypatch.setattr(bc, 'sha256_path',
                        lambda path: hashed.append(path) or f'h{len(hashed)}')
    bc._file_sha256.cache_clear()
    path = tmp_path / 'photo.png'
    path.write_bytes(b'one')
    mtime = path.stat().st_mtime_ns
    try:
        assert bc.file_sha256(str(path)) == bc.file_sha256(
            str(path)) == 'h1'
        assert len(hashed) == 1
        # same size, time set back (as dpkg-deb -x sets times): hashed anew
        path.write_bytes(b'two')
        os.utime(path, ns=(mtime, mtime))
        assert bc.file_sha256(str(path)) == 'h2'
        assert bc.file_sha256(str(path)) == 'h2' and len(hashed) == 2
    finally:
        bc._file_sha256.cache_clear()
