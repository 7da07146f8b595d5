"""LPIPSLoss, CharbonnierLPIPSLoss and FramePSNRLoss."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.registry import DefaultScope
from mmengine.runner.checkpoint import get_state_dict
from mmengine.runner.checkpoint import load_state_dict as mmengine_load
from PIL import Image

import astf_mm  # noqa: F401  (registers the losses)
from astf_mm.models import perceptual_nets as weights
from astf_mm.models.losses import (CharbonnierLPIPSLoss, FramePSNRLoss,
                                   LPIPSLoss)


def clip(seed, shape=(2, 3, 3, 32, 32)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed))


_RANDOM_NET = {}


def random_lpips_loss(**kwargs):
    """An alex LPIPSLoss with a random trunk, the same one every call."""
    loss = LPIPSLoss(net='alex', pretrained_backbone=False, **kwargs)
    loss.lpips = _RANDOM_NET.setdefault('alex', loss.lpips)
    return loss


def test_registered():
    assert MODELS.get('LPIPSLoss') is LPIPSLoss
    assert MODELS.get('CharbonnierLPIPSLoss') is CharbonnierLPIPSLoss
    assert MODELS.get('FramePSNRLoss') is FramePSNRLoss


def test_identical_inputs_give_zero():
    loss = random_lpips_loss()
    x = clip(0)
    assert loss(x, x.clone()).item() == pytest.approx(0.0, abs=1e-7)


def test_reductions_and_shapes():
    pred, target = clip(0), clip(1)
    per_frame = random_lpips_loss(reduction='none')(pred, target)
    assert per_frame.shape == (2, 3)
    assert random_lpips_loss()(pred, target).item() == pytest.approx(
        per_frame.mean().item(), rel=1e-5)
    summed = random_lpips_loss(reduction='sum', loss_weight=2.0)
    assert summed(pred, target).item() == pytest.approx(
        2 * per_frame.sum().item(), rel=1e-5)
    # (n, c, h, w) images: one value per image
    images = random_lpips_loss(reduction='none')(pred[:, 0], target[:, 0])
    assert torch.allclose(images, per_frame[:, 0], atol=1e-6)
    with pytest.raises(ValueError, match='reduction'):
        random_lpips_loss(reduction='max')
    with pytest.raises(ValueError, match='differ in shape'):
        random_lpips_loss()(pred, target[:, :2])


def test_gradient_reaches_prediction_not_backbone():
    loss = random_lpips_loss()
    pred = clip(0).requires_grad_()
    loss(pred, clip(1)).backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.lpips.parameters())
    assert all(not p.requires_grad for p in loss.lpips.parameters())


def test_train_keeps_network_in_eval():
    loss = random_lpips_loss()
    loss.train()
    assert loss.training
    assert not any(m.training for m in loss.lpips.modules())
    trade_off = CharbonnierLPIPSLoss(net='alex', pretrained_backbone=False)
    trade_off.train()
    assert not any(m.training for m in trade_off.lpips_loss.lpips.modules())


def build_basicvsr(pixel_loss):
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(
            dict(
                type='BasicVSR',
                generator=dict(
                    type='EnhanceNet', mid_channels=4, num_blocks=1),
                pixel_loss=pixel_loss,
                data_preprocessor=dict(
                    type='DataPreprocessor',
                    mean=[0., 0., 0.],
                    std=[255., 255., 255.])))


def lpips_net(model):
    loss = model.pixel_loss
    return loss.lpips if isinstance(loss, LPIPSLoss) else loss.lpips_loss.lpips


@pytest.mark.parametrize('loss_type', ['LPIPSLoss', 'CharbonnierLPIPSLoss'])
def test_checkpoints_leave_the_network_out(loss_type, tmp_path):
    cfg = dict(type=loss_type, net='alex', pretrained_backbone=False)
    saved = build_basicvsr(cfg)
    for state in (saved.state_dict(), get_state_dict(saved)):
        assert state and not [k for k in state if k.startswith('pixel_loss')]
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': saved.state_dict()}, path)
    state = torch.load(path, weights_only=True)['state_dict']

    model = build_basicvsr(cfg)  # another random LPIPS backbone
    own_lpips = {
        k: v.clone()
        for k, v in lpips_net(model).state_dict().items()
    }
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    mmengine_load(model, state, strict=True)
    # the generator came from the checkpoint ...
    key = next(k for k in state if k.startswith('generator.'))
    assert torch.equal(model.state_dict()[key], state[key])
    # ... the LPIPS network stayed the one it was built with, even when a
    # checkpoint (an old one) carries other LPIPS tensors
    prefix = ('pixel_loss.lpips.'
              if loss_type == 'LPIPSLoss' else 'pixel_loss.lpips_loss.lpips.')
    old_style = dict(state)
    for name, tensor in lpips_net(saved).state_dict().items():
        old_style[prefix + name] = tensor
    model.load_state_dict(old_style, strict=True)
    for name, tensor in lpips_net(model).state_dict().items():
        assert torch.equal(tensor, own_lpips[name]), name
    assert not torch.equal(
        lpips_net(model).net.slice1[0].weight,
        lpips_net(saved).net.slice1[0].weight)


def test_trade_off_parts_hand_computed():
    target = clip(0)
    pred = target + 0.1  # |x| = 0.1 everywhere
    loss = CharbonnierLPIPSLoss(net='alex', pretrained_backbone=False)
    lpips_mean = LPIPSLoss(net='alex', pretrained_backbone=False)
    lpips_mean.lpips = loss.lpips_loss.lpips
    value = loss(pred, target)
    # sqrt(0.1^2 + 1e-12), summed over 2 * 3 * 3 * 32 * 32 elements
    charbonnier = 0.1 * 2 * 3 * 3 * 32 * 32
    lpips = lpips_mean(pred, target).item()
    terms = loss.last_terms
    assert terms['charbonnier'] == pytest.approx(charbonnier, rel=1e-5)
    assert terms['lpips'] == pytest.approx(lpips, rel=1e-5)
    assert terms['loss_charbonnier'] == pytest.approx(
        0.15 * charbonnier, rel=1e-5)
    assert terms['loss_lpips'] == pytest.approx(1e4 * lpips, rel=1e-5)
    assert value.item() == pytest.approx(
        0.15 * charbonnier + 1e4 * lpips, rel=1e-5)
    mean = CharbonnierLPIPSLoss(
        alpha=1.0,
        beta=0.0,
        charbonnier_reduction='mean',
        net='alex',
        pretrained_backbone=False)
    assert mean(pred, target).item() == pytest.approx(0.1, rel=1e-5)
    with pytest.raises(ValueError, match='charbonnier_reduction'):
        CharbonnierLPIPSLoss(
            charbonnier_reduction='none', pretrained_backbone=False)


def test_trade_off_gradient():
    loss = CharbonnierLPIPSLoss(net='alex', pretrained_backbone=False)
    pred = clip(0).requires_grad_()
    loss(pred, clip(1)).backward()
    assert pred.grad.abs().sum() > 0


def test_block_mean_charbonnier_sees_brightness_not_texture():
    target = clip(0, shape=(1, 2, 3, 32, 32))
    loss = CharbonnierLPIPSLoss(
        alpha=0.0,
        beta=0.0,
        block_mean_weight=1.0,
        block_size=4,
        net='alex',
        pretrained_backbone=False)
    # a +-0.2 checkerboard has a zero mean in every 4x4 block: no cost,
    # though every pixel is 0.2 off (the pixel Charbonnier's 0.2)
    rows, cols = torch.meshgrid(
        torch.arange(32), torch.arange(32), indexing='ij')
    checker = 0.2 * (1 - 2 * ((rows + cols) % 2)).float()
    assert loss(target + checker, target).item() == pytest.approx(
        0.0, abs=1e-5)
    assert loss.last_terms['block_mean'] < 1e-5
    # a uniform shift of 0.05 costs 0.05, as on pixels
    assert loss(target + 0.05, target).item() == pytest.approx(
        0.05, rel=1e-4)
    # one pixel off by 1.6 moves its block's mean by 0.1: 0.1 over the
    # 1 x 2 x 3 x 8 x 8 block means
    spot = target.clone()
    spot[0, 1, 2, 6, 9] += 1.6
    # (the untouched blocks add sqrt(eps) = 1e-6 each)
    assert loss(spot, target).item() == pytest.approx(
        0.1 / 384 + 1e-6, rel=1e-3)


def test_block_means_keep_partial_edge_blocks():
    loss = CharbonnierLPIPSLoss(
        block_size=2, net='alex', pretrained_backbone=False)
    frames = torch.arange(9.).reshape(1, 1, 1, 3, 3).expand(2, 3, 3, 3, 3)
    means = loss.block_means(frames)
    assert means.shape == (2, 3, 3, 2, 2)
    # blocks {0,1,3,4}, {2,5}, {6,7}, {8}
    expected = torch.tensor([[2.0, 3.5], [6.5, 8.0]])
    assert torch.equal(means[1, 2, 0], expected)
    one = CharbonnierLPIPSLoss(
        block_size=1, net='alex', pretrained_backbone=False)
    assert one.block_means(frames) is frames
    for bad in (0, 2.5, -1):
        with pytest.raises(ValueError, match='block_size'):
            CharbonnierLPIPSLoss(block_size=bad, pretrained_backbone=False)
    with pytest.raises(ValueError, match='block_mean_weight'):
        CharbonnierLPIPSLoss(block_mean_weight=-1, pretrained_backbone=False)


def test_trade_off_loss_adds_its_three_weighted_terms():
    target = clip(0, shape=(1, 2, 3, 64, 64))
    pred = target + 0.05
    loss = CharbonnierLPIPSLoss(
        alpha=0.15,
        beta=10.0,
        block_mean_weight=3.0,
        block_size=8,
        net='alex',
        pretrained_backbone=False)
    total = loss(pred, target).item()
    terms = loss.last_terms
    # a uniform shift of 0.05: every pixel and every block mean 0.05 off,
    # summed over 1 x 2 x 3 x 64 x 64 pixels, averaged over the blocks
    assert terms['charbonnier'] == pytest.approx(0.05 * 24576, rel=1e-4)
    assert terms['block_mean'] == pytest.approx(0.05, rel=1e-4)
    assert terms['lpips'] > 0
    assert terms['loss_charbonnier'] == pytest.approx(
        0.15 * terms['charbonnier'], rel=1e-6)
    assert terms['loss_lpips'] == pytest.approx(
        10.0 * terms['lpips'], rel=1e-6)
    assert terms['loss_block_mean'] == pytest.approx(
        3.0 * terms['block_mean'], rel=1e-6)
    assert total == pytest.approx(
        terms['loss_charbonnier'] + terms['loss_lpips'] +
        terms['loss_block_mean'],
        rel=1e-5)
    # the default is the paper's two terms: no block-mean term
    paper = CharbonnierLPIPSLoss(
        alpha=0.15, beta=10.0, net='alex', pretrained_backbone=False)
    paper.lpips_loss = loss.lpips_loss  # the same random trunk
    assert paper(pred, target).item() == pytest.approx(
        total - terms['loss_block_mean'], rel=1e-5)
    assert paper.last_terms['block_mean'] == 0.0


def test_frame_psnr_loss_is_minus_the_mean_frame_psnr():
    target = clip(0, shape=(2, 3, 3, 8, 8))
    # Frame (i, j) is off by a constant 0.01 * (1 + i + j): known PSNRs.
    offsets = 0.01 * (1 + torch.arange(2)[:, None] + torch.arange(3))
    pred = target + offsets[..., None, None, None]
    psnrs = -10 * np.log10(offsets.double().numpy()**2 + 1e-8)
    loss = FramePSNRLoss(loss_weight=0.5)
    assert loss(pred, target).item() == pytest.approx(
        -0.5 * psnrs.mean(), rel=1e-5)
    # Images (n, c, h, w) are frames too.
    assert FramePSNRLoss()(pred[0], target[0]).item() == pytest.approx(
        -psnrs[0].mean(), rel=1e-5)
    with pytest.raises(ValueError, match='differ in shape'):
        loss(pred, target[:, :2])
    with pytest.raises(ValueError, match=r'\(n, t, c, h, w\)'):
        loss(pred[0, 0], target[0, 0])


def test_frame_psnr_loss_weights_frames_by_their_psnr():
    # Under MSE the clean frame's gradient is 100x smaller than the noisy
    # one's; under the PSNR loss both pull alike (the gradient of log(MSE)
    # per unit error is 2 * error / (N * MSE): 1/error for a flat error).
    target = torch.zeros(1, 2, 3, 8, 8)
    error = torch.tensor([0.1, 0.001])[None, :, None, None, None]
    pred = (target + error).requires_grad_()
    FramePSNRLoss()(pred, target).backward()
    per_frame = pred.grad.abs().sum(dim=(2, 3, 4))[0]
    # |grad| summed over a frame of N elements is
    # 10 / ln 10 * (1 / 2 frames) * N * 2 * error / (N * (error^2 + 1e-8)).
    e = error.flatten().double().numpy()
    expected = 10 / np.log(10) * e / (e**2 + 1e-8)
    assert per_frame.numpy() == pytest.approx(expected, rel=1e-4)


# ---------------------------------------------------------------------------
# real weights


def read_reference(folder, name):
    path = osp.join(folder, weights.REFERENCE_DIR, 'ref', f'{name}.bmp')
    return np.asarray(Image.open(path).convert('RGB'))


def test_lpips_loss_takes_zero_one_inputs(real_weights):
    """On [0, 1] frames the loss equals the published LPIPS-alex of the
    TID2013 pair I06 (0.0508), so the [0, 1] -> [-1, 1] mapping is
    right."""
    folder = osp.join(real_weights, weights.REFERENCE_DIR)

    def load(kind):
        image = np.asarray(
            Image.open(osp.join(folder, kind, 'I06.bmp')).convert('RGB'))
        return torch.from_numpy(image.copy()).permute(2, 0, 1)[None] / 255.

    loss = LPIPSLoss(net='alex')
    with torch.no_grad():
        value = loss(load('dist'), load('ref')).item()
    assert value == pytest.approx(0.0508, abs=5e-4)


def test_trade_off_ratio_on_a_paper_like_batch(real_weights):
    """alpha * sum-Charbonnier : beta * mean-LPIPS-VGG on 4 clips x 15
    frames of 64 x 64 (the configs' per-GPU batch).

    The batch: crops of four TID2013 photographs panning 4 px/frame,
    JPEG-compressed at quality 30 (28.6 dB) as the prediction, as an
    untrained (identity) network would output its compressed input.
    Measured 1.36 here; on real x265 QP37 clips (bikes, Big Buck Bunny,
    31.5-35.4 dB) batches of this shape gave 0.5-2.3 (median 0.8) and
    JPEG qualities 10-40 gave 1.1-1.5, so the band [0.7, 2.5] holds for
    content of this kind. The paper's "almost three times" needs about
    three times the pixels per batch. Wrong reductions are far off: a
    mean-reduced Charbonnier gives ~1e-4, an LPIPS summed over frames
    ~0.02.
    """
    images = [
        read_reference(real_weights, n) for n in ('I03', 'I04', 'I06', 'I08')
    ]
    gt, lq = [], []
    for image in images:
        ok, data = cv2.imencode('.jpg', image[..., ::-1],
                                [cv2.IMWRITE_JPEG_QUALITY, 30])
        compressed = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
        frames = [(slice(100 + 2 * t,
                         164 + 2 * t), slice(150 + 4 * t, 214 + 4 * t))
                  for t in range(15)]
        gt.append(np.stack([image[f] for f in frames]))
        lq.append(np.stack([compressed[f] for f in frames]))

    def to_clips(clips):
        array = np.stack(clips).astype(np.float32) / 255.
        return torch.from_numpy(array).permute(0, 1, 4, 2, 3)

    pred, target = to_clips(lq), to_clips(gt)
    assert pred.shape == (4, 15, 3, 64, 64)
    loss = CharbonnierLPIPSLoss()  # the paper's defaults, LPIPS-VGG
    with torch.no_grad():
        loss(pred, target)
    terms = loss.last_terms
    ratio = terms['loss_charbonnier'] / terms['loss_lpips']
    assert 0.7 < ratio < 2.5
    # what charbonnier_reduction='mean' would give
    mean_ratio = ratio / pred.numel()
    assert mean_ratio < 1e-3
