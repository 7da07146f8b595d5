"""ASTF test-time model: shared flows and channels-last change nothing;
checkpoint digests are logged, pinned and validated."""
import argparse
import zipfile

import pytest
import torch

from astf_mm.apis import init_astf_model
from astf_mm.models import ASTF, EnhanceNet, chroma
from astf_mm.models.chroma import project_chroma_420
from astf_mm.utils import checkpoint as checkpoint_utils
from astf_mm.utils.checksum import sha256_of
from astf_mm.utils.cli import add_astf_model_args
from tests.utils import (colour_differences, flips_and_transposes_mean,
                         frame_420, luma)

TINY = dict(type='EnhanceNet', mid_channels=8, num_blocks=1)


def spec(path, **weights) -> dict:
    """A tiny generator config loading ``path``."""
    return dict(
        TINY,
        init_cfg=dict(type='CheckedPretrained', checkpoint=str(path),
                      **weights))


def save_net(path, seed: int, spynet_from: EnhanceNet = None) -> EnhanceNet:
    torch.manual_seed(seed)
    net = EnhanceNet(mid_channels=8, num_blocks=1, zero_init_residual=False)
    if spynet_from is not None:
        net.spynet.load_state_dict(spynet_from.spynet.state_dict())
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return net


def build(tmp_path,
          same_spynet: bool,
          share_flows: bool = True,
          channels_last: bool = True) -> ASTF:
    stage1 = save_net(tmp_path / 's1.pth', 0)
    net1 = save_net(tmp_path / 'e1.pth', 1, spynet_from=stage1)
    save_net(tmp_path / 'e2.pth', 2, spynet_from=net1 if same_spynet else None)
    specs = {
        name: spec(tmp_path / f'{f}.pth')
        for name, f in (('stage1', 's1'), ('enhancenet1', 'e1'),
                        ('enhancenet2', 'e2'))
    }
    return ASTF(
        **specs, share_flows=share_flows, channels_last=channels_last).eval()


def count_spynet_calls(model: ASTF, lqs: torch.Tensor) -> dict:
    calls = dict(enhancenet1=0, enhancenet2=0)

    def hook(name):

        def count(*_):
            calls[name] += 1

        return count

    handles = [
        getattr(model, name).spynet.register_forward_hook(hook(name))
        for name in calls
    ]
    model.enhance(lqs)
    for handle in handles:
        handle.remove()
    return calls


def test_shared_flows_are_computed_once_and_change_nothing(tmp_path):
    torch.manual_seed(3)
    lqs = torch.rand(1, 4, 3, 37, 45)
    shared = build(tmp_path, same_spynet=True)
    assert shared.refiners_share_flows()
    # the random SPyNet gives non-zero flows, so sharing them is tested
    flows_forward, _ = shared.enhancenet1.flows(lqs)
    assert flows_forward.abs().mean() > 1e-3
    out_shared = shared.enhance(lqs)
    assert count_spynet_calls(shared, lqs) == dict(
        enhancenet1=2, enhancenet2=0)

    separate = build(tmp_path, same_spynet=True, share_flows=False)
    out_separate = separate.enhance(lqs)
    assert count_spynet_calls(separate, lqs) == dict(
        enhancenet1=2, enhancenet2=2)
    for key in out_shared:
        assert torch.equal(out_shared[key], out_separate[key]), key


def test_different_spynets_are_not_shared(tmp_path):
    model = build(tmp_path, same_spynet=False)
    assert not model.refiners_share_flows()
    lqs = torch.rand(1, 3, 3, 32, 32)
    assert count_spynet_calls(model, lqs) == dict(
        enhancenet1=2, enhancenet2=2)
    # a different propagation scale never shares
    model = build(tmp_path, same_spynet=True)
    model.enhancenet2.propagation_scale = 4
    assert not model.refiners_share_flows()


def test_channels_last_changes_only_the_layout(tmp_path):
    torch.manual_seed(0)
    lqs = torch.rand(1, 5, 3, 40, 56)
    nhwc = build(tmp_path, same_spynet=True, channels_last=True)
    nchw = build(tmp_path, same_spynet=True, channels_last=False)
    conv = nhwc.stage1.conv_last.weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert not conv.is_contiguous()
    assert nchw.stage1.conv_last.weight.is_contiguous()
    with torch.no_grad():
        a, b = nhwc.enhance(lqs), nchw.enhance(lqs)
    # float rounding only: equal to 2e-5, except where it flips the 8-bit
    # quantisation of a stage-1 value (one level, then smoothed downstream)
    for key in ('stage1', 'enhancenet1', 'enhancenet2', 'fused',
                'fused_sharp', 'mask'):
        diff = (a[key] - b[key]).abs()
        assert diff.max() <= 2 / 255, key
        assert (diff > 2e-5).float().mean() < 1e-2, key
    # the 8-bit frames that are saved differ by at most one level, rarely
    a8 = (a['fused_sharp'] * 255).round()
    b8 = (b['fused_sharp'] * 255).round()
    assert (a8 - b8).abs().max() <= 1
    assert (a8 != b8).float().mean() < 1e-3


def pinned_setup(tmp_path):
    """Three tiny checkpoints, their digests and a config that pins them."""
    nets = {'stage1': 's1', 'enhancenet1': 'e1', 'enhancenet2': 'e2'}
    paths = {}
    for seed, (name, f) in enumerate(nets.items()):
        paths[name] = str(tmp_path / f'{f}.pth')
        save_net(paths[name], seed)
    digests = {name: sha256_of(p) for name, p in paths.items()}
    specs = {name: spec(paths[name]) for name in nets}
    config = tmp_path / 'astf_tiny.py'
    config.write_text('model = dict(type=\'ASTF\', ' + ', '.join(
        f'{name}={spec(paths[name], sha256=digests[name])!r}'
        for name in nets) + ')\n')
    return paths, digests, specs, str(config)


def flip_byte_in_tensor_data(path: str) -> None:
    """Flip one bit of the largest stored tensor (a weight, not metadata)."""
    with zipfile.ZipFile(path) as zf:
        info = max((i for i in zf.infolist() if '/data/' in i.filename),
                   key=lambda i: i.file_size)
        offset = info.header_offset + 30 + len(info.filename.encode()) + len(
            info.extra)
    data = bytearray(open(path, 'rb').read())
    data[offset + info.file_size // 2] ^= 0x01
    open(path, 'wb').write(bytes(data))


def test_checkpoint_digests_are_logged_and_recorded(tmp_path, monkeypatch):
    paths, digests, specs, _ = pinned_setup(tmp_path)
    logged = []
    monkeypatch.setattr(checkpoint_utils, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    model = ASTF(**specs)
    assert model.checkpoint_sha256 == digests
    assert logged == [
        f'{name}: checkpoint {paths[name]} sha256 {digests[name]} '
        '(not pinned)' for name in ('stage1', 'enhancenet1', 'enhancenet2')
    ]


def test_byte_flip_in_tensor_data_is_refused_by_the_pin(tmp_path):
    paths, digests, specs, config = pinned_setup(tmp_path)
    flip_byte_in_tensor_data(paths['enhancenet1'])
    flipped = sha256_of(paths['enhancenet1'])
    assert flipped != digests['enhancenet1']
    # without a pin it loads (torch does not notice the flip) ...
    ASTF(**specs)
    # ... with a --sha256 pin it is refused, naming the file and both digests
    pins = [digests[n] for n in ('stage1', 'enhancenet1', 'enhancenet2')]
    with pytest.raises(RuntimeError) as err:
        init_astf_model(config, checkpoints=list(paths.values()), sha256=pins)
    assert str(err.value).startswith(
        f'enhancenet1: checkpoint {paths["enhancenet1"]} has sha256 '
        f'{flipped}, expected {digests["enhancenet1"]}')
    # --checkpoints alone drops the config file's pins (they name its files)
    init_astf_model(config, checkpoints=list(paths.values()))
    # but a pin given with --cfg-options is kept
    with pytest.raises(RuntimeError, match=flipped):
        init_astf_model(
            config,
            checkpoints=list(paths.values()),
            cfg_options={
                'model.enhancenet1.init_cfg.sha256': digests['enhancenet1']
            })
    # and the config's own pins hold without --checkpoints
    with pytest.raises(RuntimeError, match=flipped):
        init_astf_model(config)


def test_sha256_option_of_the_tools():
    parser = argparse.ArgumentParser()
    add_astf_model_args(parser)
    digest = 'AB' * 32
    args = parser.parse_args(['--sha256', digest, '0' * 64, 'f' * 64])
    assert args.sha256 == ['ab' * 32, '0' * 64, 'f' * 64]
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(['--sha256', 'abc', '0' * 64, 'f' * 64])
    assert exit_.value.code == 2


@pytest.mark.parametrize('value, received', [(0, 'int 0'),
                                             (12345, 'int 12345'),
                                             ('abc', "str 'abc'"),
                                             ('', "str ''")])
def test_invalid_sha256_pins_are_refused(tmp_path, value, received):
    paths, digests, specs, config = pinned_setup(tmp_path)
    with pytest.raises(ValueError) as err:
        ASTF(**dict(specs, stage1=spec(paths['stage1'], sha256=value)))
    assert str(err.value).startswith(
        'stage1: init_cfg.sha256 must be a sha256: a string of 64 hex '
        'digits; '
        f'got {received}.')
    if isinstance(value, int):
        assert 'quotes do not help' in str(err.value)
    # --cfg-options model.stage1.sha256=000...0 arrives as the integer 0
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args(
        ['--cfg-options', 'model.stage1.init_cfg.sha256=' + '0' * 64
         ]).cfg_options
    assert options == {'model.stage1.init_cfg.sha256': 0}
    with pytest.raises(ValueError, match='got int 0'):
        init_astf_model(config, cfg_options=options)


def test_chroma_420_gives_every_row_2x2_chroma(tmp_path):
    torch.manual_seed(4)
    # mid-range frames: no output is clamped (clamping after the
    # projection may break the blocks at black or white); the input is a
    # 4:2:0 frame, as a decoded video is
    lqs = project_chroma_420(0.4 + 0.2 * torch.rand(1, 3, 3, 16, 20))
    model = build(tmp_path, same_spynet=True)
    plain = model.enhance(lqs)
    model.chroma_420 = True
    projected = model.enhance(lqs)
    for key in ('stage1', 'enhancenet1', 'enhancenet2', 'fused',
                'fused_sharp'):
        frames = projected[key]
        y = 0.299 * frames[:, :, 0] + 0.587 * frames[:, :, 1] + (
            0.114 * frames[:, :, 2])
        blue = (frames[:, :, 2] - y).reshape(1, 3, 8, 2, 10, 2)
        # one value per 2x2 block (stage 1 is rounded to 8 bits after)
        tolerance = 2 / 255 if key == 'stage1' else 1e-5
        assert (blue - blue[:, :, :, :1, :, :1]).abs().max() <= tolerance, key
        plain_blue = plain[key][:, :, 2] - y
        assert (plain_blue.reshape(1, 3, 8, 2, 10, 2) - plain_blue.reshape(
            1, 3, 8, 2, 10, 2)[:, :, :, :1, :, :1]).abs().max() > 1e-3, key
    assert torch.equal(projected['lq'], plain['lq'])


def test_chroma_420_leaves_full_chroma_input_alone(tmp_path, monkeypatch):
    torch.manual_seed(5)
    lqs = 0.4 + 0.2 * torch.rand(1, 3, 3, 16, 20)  # chroma at every pixel
    model = build(tmp_path, same_spynet=True)
    plain = model.enhance(lqs)
    model.chroma_420 = True
    logged = []
    monkeypatch.setattr(chroma, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    kept = model.enhance(lqs)
    model.enhance(lqs)
    for key in plain:
        assert torch.equal(kept[key], plain[key]), key
    # warned once, not per chunk
    assert len(logged) == 1 and 'full-resolution chroma' in logged[0]


def test_stage1_ensemble_averages_eight_stage1_passes(tmp_path):
    torch.manual_seed(5)
    lqs = torch.rand(1, 3, 3, 16, 20)
    model = build(tmp_path, same_spynet=True)
    plain = model.enhance(lqs)
    calls = dict(stage1=0, enhancenet1=0, enhancenet2=0)
    for name in calls:
        getattr(model, name).register_forward_hook(
            lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    ensembled = ASTF(
        **{n: spec(tmp_path / f'{f}.pth')
           for n, f in (('stage1', 's1'), ('enhancenet1', 'e1'),
                        ('enhancenet2', 'e2'))},
        stage1_ensemble=dict(type='SpatialTemporalEnsemble')).eval()
    for name in calls:  # the same networks, counted
        setattr(ensembled, name, getattr(model, name))
    out = ensembled.enhance(lqs)
    assert calls == dict(stage1=8, enhancenet1=1, enhancenet2=1)
    # the stage-1 row: the mean over the 8 flips/transposes, each undone,
    # then clamped and rounded to 8 bits as without the ensemble
    with torch.no_grad():
        mean = flips_and_transposes_mean(model.stage1, lqs)
    expected = mean.clamp(0, 1).mul(255).round() / 255
    assert (out['stage1'] - expected).abs().max() <= 1 / 255 + 1e-6
    assert (out['stage1'] - plain['stage1']).abs().max() > 1 / 255
    assert torch.equal(out['lq'], plain['lq'])
    with pytest.raises(ValueError, match='needs a stage 1'):
        ASTF(stage1=None,
             enhancenet1=spec(tmp_path / 'e1.pth'),
             enhancenet2=spec(tmp_path / 'e2.pth'),
             stage1_ensemble=dict(type='SpatialTemporalEnsemble'))


def test_stage1_luma_only_keeps_the_input_colour(tmp_path):
    lqs = frame_420((1, 3, 3, 16, 20), seed=4)
    model = build(tmp_path, same_spynet=True)
    plain = model.enhance(lqs)
    model.stage1_luma_only = True
    out = model.enhance(lqs)
    # stage 1's luma change on all three channels, rounded to 8 bits
    with torch.no_grad():
        raw = model.stage1(lqs)
    change = luma(raw) - luma(lqs)
    expected = (lqs + change.unsqueeze(-3)).clamp(0, 1).mul(255).round() / 255
    assert (out['stage1'] - expected).abs().max() <= 1 / 255 + 1e-6
    assert (colour_differences(out['stage1']) -
            colour_differences(lqs)).abs().max() <= 1 / 255
    assert (colour_differences(plain['stage1']) -
            colour_differences(lqs)).abs().max() > 2 / 255
    # the refiners read it
    assert not torch.equal(out['enhancenet2'], plain['enhancenet2'])
    with pytest.raises(ValueError, match='stage1_luma_only'):
        ASTF(stage1=None,
             enhancenet1=spec(tmp_path / 'e1.pth'),
             enhancenet2=spec(tmp_path / 'e2.pth'),
             stage1_luma_only=True)
