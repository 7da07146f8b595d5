"""The peer configs (configs/peers/): mmagic's restorers on our data, same
size in and out, scored with the ASTF rows' metrics."""
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

import astf_mm  # noqa: F401  (registers modules, deformable-conv shim)
from tests.utils import ROOT

PEERS = osp.join(ROOT, 'configs', 'peers')
NTIRE_LDV = osp.join(PEERS,
                     'basicvsr-pp_c128n25_ntire-decompress-track2_ldv-qp37.py')
NTIRE_HELDOUT = osp.join(PEERS,
                         'basicvsr-pp_c16n2_ntire-decompress_heldout-qp37.py')
ENHANCENET = osp.join(PEERS, 'enhancenet-ps4_c32b6_corpus-qp37.py')
EDVR_SAMPLE = osp.join(PEERS,
                       'edvr-same-size_c16_1xb4-equal-time_sample-qp37.py')
BASICVSRPP_SAMPLE = osp.join(
    PEERS, 'basicvsr-pp_c16n2_1xb4-equal-time_sample-qp37.py')
EDVR_LDV = osp.join(PEERS, 'edvr-same-size_c64_8xb4-300k_ldv-qp37.py')
LDV_STAGE1 = osp.join(ROOT, 'configs', 'astf',
                      'stage1_enhancenet_c64b30_8xb4-300k_ldv-qp37.py')
SAMPLE_STAGE1 = osp.join(ROOT, 'configs', 'astf', 'sample',
                         'stage1_enhancenet_c16b2_1xb4-1000_sample-qp37.py')
ASTF_LDV = osp.join(ROOT, 'configs', 'astf', 'astf_fusion_c64b30_ldv-qp37.py')


def metric_types(cfg: Config) -> list:
    return [m['type'] for m in cfg.test_evaluator.metrics]


def test_basicvsrpp_peer_is_mmagics_ntire_setting_on_ldv():
    cfg = Config.fromfile(NTIRE_LDV)
    # inherited from mmagic's NTIRE 2021 decompression config
    assert cfg.model.type == 'BasicVSR'
    generator = cfg.model.generator
    assert (generator.mid_channels, generator.num_blocks,
            generator.is_low_res_input) == (128, 25, False)
    assert cfg.model.ensemble.type == 'SpatialTemporalEnsemble'
    # nothing is downloaded when it is built
    assert generator.spynet_pretrained is None
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'PairedFramesDataset'
    assert (dataset.data_root, dataset.ann_file,
            dataset.data_prefix) == ('data/ldv', 'meta_info_ldv_val.txt',
                                     dict(img='lq', gt='gt'))
    assert [s['type'] for s in dataset.pipeline] == [
        'GenerateSegmentIndices', 'LoadImageFromFileChecked',
        'LoadImageFromFileChecked', 'PackInputs'
    ]
    assert metric_types(cfg) == [
        m['type'] for m in Config.fromfile(ASTF_LDV).row_metrics
    ]


def test_sample_width_peers_point_at_their_data():
    heldout = Config.fromfile(NTIRE_HELDOUT)
    # wrapped as in the config that trains it, so its checkpoints load
    trained = Config.fromfile(BASICVSRPP_SAMPLE).model.generator.to_dict()
    trained.pop('zero_init_layers')
    trained['generator']['spynet_pretrained'] = None
    assert heldout.model.generator.to_dict() == trained
    assert (heldout.model.generator.generator.mid_channels,
            heldout.model.generator.generator.num_blocks) == (16, 2)
    assert heldout.model.ensemble is None
    assert heldout.test_dataloader.dataset.data_root == 'data/heldout'
    enhancenet = Config.fromfile(ENHANCENET)
    assert enhancenet.model.generator.type == 'EnhanceNet'
    assert osp.isfile(osp.join(ROOT, enhancenet.load_from))
    assert enhancenet.test_dataloader.dataset.ann_file == 'meta_info_val.txt'
    assert metric_types(enhancenet) == metric_types(heldout)


@pytest.mark.parametrize('config,size', [(NTIRE_LDV, 256),
                                         (NTIRE_HELDOUT, 256),
                                         (ENHANCENET, 64)])
def test_peer_generator_keeps_the_input_size(config, size):
    cfg = Config.fromfile(config)
    generator = cfg.model.generator.to_dict()
    network = generator.get('generator', generator)  # inside PadToMinSize
    # sample width; the spynet file of the EnhanceNet config is not needed
    network.update(mid_channels=8, num_blocks=1, spynet_pretrained=None)
    cfg.model.generator = generator
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model).eval()
    torch.manual_seed(0)
    lqs = torch.rand(1, 2, 3, size, size + 32)
    with torch.no_grad():
        out = model(lqs, mode='tensor')
    assert out.shape == lqs.shape
    assert torch.isfinite(out).all()


def test_basicvsrpp_ntire_mode_refuses_frames_under_256_pixels():
    net = MODELS.build(
        dict(
            type='BasicVSRPlusPlusNet',
            mid_channels=8,
            num_blocks=1,
            is_low_res_input=False))
    # the size of a data/sample training video (validation: 144 to 192
    # pixels high)
    with pytest.raises(AssertionError, match='at least 64'):
        net(torch.rand(1, 2, 3, 136, 320))


def test_edvr_is_x4_only():
    """mmagic's EDVRNet has no same-size setting (its two x2 pixel-shuffle
    stages and x4 bilinear skip are fixed; ``with_tsa`` is its only
    switch), so it has no peer config: it cannot be scored against
    same-size ground truth."""
    for with_tsa in (True, False):
        net = MODELS.build(
            dict(
                type='EDVRNet',
                in_channels=3,
                out_channels=3,
                mid_channels=8,
                num_frames=5,
                deform_groups=1,
                num_blocks_extraction=1,
                num_blocks_reconstruction=1,
                with_tsa=with_tsa))
        with torch.no_grad():
            out = net(torch.rand(1, 5, 3, 16, 20))
        assert out.shape == (1, 3, 64, 80)


# EDVR has no SPyNet to hold still; BasicVSR++ holds its SPyNet for the
# first 10% of its iterations, as stage 1 does (100 of 1000)
@pytest.mark.parametrize('config,max_iters,fix_iter',
                         [(EDVR_SAMPLE, 988, 0), (BASICVSRPP_SAMPLE, 53, 5)])
def test_equal_time_peers_share_the_sample_stage1_recipe(
        config, max_iters, fix_iter):
    cfg, stage1 = Config.fromfile(config), Config.fromfile(SAMPLE_STAGE1)
    # only the network (and BasicVSR++'s crop) differs from stage 1
    for key in ('optim_wrapper', 'custom_hooks', 'randomness',
                'val_dataloader'):
        assert cfg[key] == stage1[key], key
    assert cfg.model.pixel_loss == stage1.model.pixel_loss
    assert cfg.train_dataloader.dataset.data_root == 'data/sample'
    assert (cfg.train_dataloader.batch_size,
            cfg.train_dataloader.dataset.num_input_frames) == (4, 5)
    # the iterations bench_peer_budget.py measured for stage 1's CPU time
    assert cfg.train_cfg.max_iters == max_iters
    assert cfg.param_scheduler.periods == [max_iters]
    assert cfg.model.train_cfg.fix_iter == fix_iter
    assert stage1.model.train_cfg.fix_iter / stage1.train_cfg.max_iters == 0.1
    assert metric_types(cfg) == metric_types(Config.fromfile(ENHANCENET))


@pytest.mark.parametrize('config,size', [(EDVR_SAMPLE, (36, 52)),
                                         (BASICVSRPP_SAMPLE, (40, 48))])
def test_equal_time_peers_start_at_the_identity(config, size):
    cfg = Config.fromfile(config)
    generator = cfg.model.generator.to_dict()
    if generator['type'] == 'PadToMinSize':
        # narrower, and without the SPyNet file: fast
        generator['generator'].update(
            mid_channels=8, num_blocks=1, spynet_pretrained=None)
    else:
        generator.update(mid_channels=8)
    cfg.model.generator = generator
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    torch.manual_seed(0)
    lqs = torch.rand(1, 3, 3, *size)
    with torch.no_grad():
        out = model.eval()(lqs, mode='tensor')
    torch.testing.assert_close(out, lqs)


def test_ldv_edvr_peer_is_edvr_m_with_the_stage1_ldv_recipe():
    cfg, stage1 = Config.fromfile(EDVR_LDV), Config.fromfile(LDV_STAGE1)
    # only the network differs from the LDV stage 1
    for key in ('optim_wrapper', 'param_scheduler', 'train_dataloader',
                'val_dataloader', 'train_cfg', 'custom_hooks'):
        assert cfg[key] == stage1[key], key
    assert cfg.model.pixel_loss == stage1.model.pixel_loss
    assert cfg.model.train_cfg.fix_iter == 0
    generator = cfg.model.generator.to_dict()
    assert generator == dict(
        type='EDVRSameSizeNet', mid_channels=64, num_frames=5,
        deform_groups=8, num_blocks_extraction=5,
        num_blocks_reconstruction=10, with_tsa=True)
    assert metric_types(cfg) == [
        m['type'] for m in Config.fromfile(ASTF_LDV).row_metrics
    ]
    # narrower, same structure: a clip comes back at its own size
    generator.update(mid_channels=8, deform_groups=2)
    cfg.model.generator = generator
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model).eval()
    lqs = torch.rand(1, 3, 3, 64, 72)
    with torch.no_grad():
        out = model(lqs, mode='tensor')
    assert out.shape == lqs.shape
    assert torch.isfinite(out).all()
