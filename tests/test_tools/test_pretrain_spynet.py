"""tools/pretrain_spynet.py: synthetic-motion pairs, EPE, resumable run."""
import pytest
import torch
from mmagic.models.editors.basicvsr.basicvsr_net import SPyNet
from mmagic.models.utils import flow_warp

from astf_mm.models import EnhanceNet
from tests.utils import load_tool, make_frames_dataset

pretrain_spynet = load_tool('pretrain_spynet.py')


def test_pairs_are_related_by_their_flow():
    torch.manual_seed(0)
    video = torch.rand(3, 3, 60, 70)
    generator = torch.Generator().manual_seed(1)
    ref, supp, flow = pretrain_spynet.sample_batch(
        [video], 4, crop=24, margin=8, max_shift=5., smooth=1.,
        generator=generator)
    assert ref.shape == supp.shape == (4, 3, 24, 24)
    assert flow.shape == (4, 2, 24, 24)
    assert flow.abs().max() <= 8
    # an integer translation, checked by indexing (not by flow_warp)
    shift = torch.zeros(1, 2, 40, 40)
    shift[:, 0], shift[:, 1] = 3., -2.  # x, y
    img = torch.rand(1, 3, 40, 40)
    warped = flow_warp(img, shift.permute(0, 2, 3, 1))
    torch.testing.assert_close(warped[..., 5:30, 5:30],
                               img[..., 3:28, 8:33])


def test_end_point_error_and_pan_epe():
    flow = torch.zeros(2, 2, 8, 8)
    flow[:, 0] = 3.
    flow[:, 1] = 4.
    assert pretrain_spynet.end_point_error(flow, flow) < 1e-3
    assert abs(pretrain_spynet.end_point_error(
        torch.zeros_like(flow), flow) - 5.) < 1e-3
    # a SPyNet that predicts zero flow is off by the whole pan step
    video = torch.rand(3, 3, 64, 64)

    def zero_net(ref, supp):
        return torch.zeros(ref.size(0), 2, *ref.shape[-2:])

    assert abs(pretrain_spynet.pan_epe(zero_net, video, (3., 4.)) - 5.) < 1e-3
    with pytest.raises(ValueError, match='VIDEO:DX,DY'):
        pretrain_spynet.parse_eval(['astronaut_pan'])


def test_short_run_writes_a_loadable_checkpoint_and_resumes(tmp_path,
                                                            capsys):
    root = make_frames_dataset(
        tmp_path / 'data', {'train': ['a', 'b'], 'val': ['c']},
        num_frames=3, size=(64, 72))
    out = tmp_path / 'spynet.pth'
    args = [
        str(root), '--out', str(out), '--work-dir',
        str(tmp_path / 'work'), '--crop', '32', '--max-shift', '3',
        '--smooth', '0.5', '--batch-size', '2', '--eval', 'c:-1,0'
    ]
    assert pretrain_spynet.main(args + ['--iters', '2']) == 0
    first = torch.load(out, weights_only=True)
    assert all(k.startswith('basic_module') for k in first)
    # an existing --out is refused before any training, and kept
    before = out.read_bytes()
    with pytest.raises(SystemExit, match='exists; refusing to replace it'):
        pretrain_spynet.main(args + ['--iters', '3'])
    assert out.read_bytes() == before
    assert 'resuming from' not in capsys.readouterr().out
    assert pretrain_spynet.main(args + ['--iters', '3', '--overwrite']) == 0
    log = capsys.readouterr().out
    assert 'resuming from' in log and 'at iteration 2' in log
    assert 'EPE on c (pan (-1.0, 0.0))' in log
    # the checkpoint is what mmagic's SPyNet and EnhanceNet load
    weights = torch.load(out, weights_only=True)
    net = EnhanceNet(mid_channels=8, num_blocks=1, spynet_pretrained=str(out))
    for key, value in weights.items():
        assert torch.equal(net.spynet.state_dict()[key], value)
    assert torch.equal(
        SPyNet(pretrained=str(out)).state_dict()['basic_module.0.basic_module'
                                                 '.0.conv.weight'],
        weights['basic_module.0.basic_module.0.conv.weight'])
    assert any(not torch.equal(first[k], weights[k]) for k in weights)


def test_missing_folder_is_named(tmp_path):
    root = make_frames_dataset(tmp_path / 'data', {'train': ['a']})
    (root / 'meta_info_train.txt').write_text('a 4\nnope 4\n')
    with pytest.raises(FileNotFoundError, match='nope'):
        pretrain_spynet.main(
            [str(root), '--out', str(tmp_path / 'x.pth'), '--eval'])
