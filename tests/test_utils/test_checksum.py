"""sha256 of files: astf_mm.utils.checksum."""
import hashlib

from astf_mm.utils.checksum import sha256_of, update_sha256


def test_sha256_of_known_digest(tmp_path):
    path = tmp_path / 'abc.bin'
    path.write_bytes(b'abc')
    # FIPS 180-2, appendix B.1
    assert sha256_of(str(path)) == (
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')


def test_update_sha256_reads_past_one_block(tmp_path):
    # 1 MiB blocks: a file of 2.5 blocks, fed after some other bytes
    data = bytes(range(256)) * (5 << 11)
    assert len(data) == 5 << 19
    path = tmp_path / 'big.bin'
    path.write_bytes(data)
    digest = hashlib.sha256(b'name')
    update_sha256(digest, str(path))
    assert digest.hexdigest() == hashlib.sha256(b'name' + data).hexdigest()
    assert sha256_of(str(path)) == hashlib.sha256(data).hexdigest()
