"""tools/restart_propagation.py: new flows for a trained network."""
import os.path as osp

import pytest
import torch

from astf_mm.apis import frames_to_tensor, init_generator
from astf_mm.io import OutputPathError, read_frames
from astf_mm.utils.checksum import sha256_of
from tests.utils import (ROOT, SAMPLE_STAGE1, load_tool, make_frames_dataset,
                         save_spynet_checkpoint, save_tiny_checkpoint)

restart_propagation = load_tool('restart_propagation.py')


def test_writes_the_network_with_new_flows_and_the_same_output(
        tmp_path, capsys):
    config = tmp_path / 'tiny_stage1.py'
    config.write_text(
        f"_base_ = '{osp.join(ROOT, SAMPLE_STAGE1)}'\n"
        'model = dict(generator=dict(mid_channels=8, num_blocks=1))\n')
    ckpt = save_tiny_checkpoint(tmp_path / 'net.pth', seed=3)
    spynet, spynet_path = save_spynet_checkpoint(tmp_path)
    data_root = make_frames_dataset(tmp_path / 'data', {'val': ['c']})
    dst = tmp_path / 'out' / 'restarted.pth'
    digest = restart_propagation.restart(
        str(config), ckpt, str(spynet_path), str(dst),
        probe_folder=str(data_root / 'lq' / 'c'))
    assert digest == sha256_of(str(dst))
    probed = dict(
        line.rsplit(': ', 1) for line in capsys.readouterr().out.splitlines())
    # the tiny network propagates: removing it changes the output; after
    # the restart, what it propagates is weighted by zero
    change = 'largest output change from propagation (8-bit levels)'
    assert float(probed[f'old {change}']) > 0
    assert float(probed[f'new {change}']) == 0
    assert float(
        probed['new mean flow length (px at propagation scale)']) >= 0
    old = init_generator(str(config), ckpt, channels_last=False)
    new = init_generator(str(config), str(dst), channels_last=False)
    for key, value in spynet.state_dict().items():
        assert torch.equal(new.spynet.state_dict()[key], value), key
    lqs = frames_to_tensor(read_frames(str(data_root / 'lq' / 'c')))
    with torch.no_grad():
        away = tuple(torch.full_like(f, 1e6) for f in old.flows(lqs))
        torch.testing.assert_close(
            new(lqs), old(lqs, away), rtol=0, atol=1e-6)
    # never replaced without --overwrite, never written onto its input
    with pytest.raises(OutputPathError, match='overwrite'):
        restart_propagation.restart(
            str(config), ckpt, str(spynet_path), str(dst))
    with pytest.raises(OutputPathError):
        restart_propagation.restart(
            str(config), ckpt, str(spynet_path), ckpt, overwrite=True)
