import importlib.util
import json
import os.path as osp
from pathlib import Path
from types import SimpleNamespace

import cv2
import lpips
import numpy as np
import pytest
import torch
from mmagic.registry import METRICS
from mmagic.structures import DataSample

from astf_mm.evaluation import temporal
from astf_mm.evaluation.temporal import (TLP, TOF, ArrayCache, WarpingError,
                                         occlusion_mask, tecogan_crop_box, tlp,
                                         tof, video_flows, warp_frame,
                                         warping_error)

ROOT = Path(__file__).resolve().parents[2]


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random RGB texture, uint8, full range."""
    x = np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)
    x = cv2.GaussianBlur(x, (0, 0), 2.0)
    x = (x - x.min()) / (x.max() - x.min())
    return (x * 255).round().astype(np.uint8)


def pan(image: np.ndarray, t: int, dx: int, w: int) -> np.ndarray:
    """``t`` windows of ``image``; the content moves right by ``dx`` px."""
    return np.stack(
        [image[:, dx * (t - 1 - i):dx * (t - 1 - i) + w] for i in range(t)])


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def random_lpips(seed: int = 0) -> lpips.LPIPS:
    # random backbone: no download; values are meaningless, relations hold
    torch.manual_seed(seed)
    return lpips.LPIPS(net='alex', pnet_rand=True, verbose=False).eval()


def realish_clip(h: int = 64, w: int = 96, t: int = 5):
    """Panning texture with two moving objects; output = JPEG q30 frames."""
    background = texture(h, w + 2 * t, seed=3)
    gt = []
    for i in range(t):
        frame = background[:, 2 * i:2 * i + w].copy()
        cv2.circle(frame, (20 + 3 * i, 30 - i), 9, (250, 40, 30), -1)
        cv2.rectangle(frame, (60 - 2 * i, 10 + i), (75 - 2 * i, 25 + i),
                      (20, 200, 240), -1)
        gt.append(frame)
    out = [
        cv2.imdecode(
            cv2.imencode('.jpg', f, [cv2.IMWRITE_JPEG_QUALITY, 30])[1],
            cv2.IMREAD_COLOR) for f in gt
    ]
    return np.stack(out), np.stack(gt)


def flicker_and_smooth():
    """Same content and PSNR: noise moving with the content vs. flipping."""
    t, w = 6, 64
    base = texture(64, w + t, seed=0).astype(np.float32)
    noise = np.random.default_rng(10).normal(0, 12, base.shape)
    gt = to_uint8(pan(base, t, 1, w))
    smooth = to_uint8(pan(base + noise, t, 1, w))
    sign = np.array([1, -1] * (t // 2), np.float32)[:, None, None, None]
    flicker = to_uint8(pan(base, t, 1, w) + sign * noise[:, :w])
    return gt, smooth, flicker


# ---------------------------------------------------------------------------
# plain functions


def test_static_video_output_equal_gt_is_zero():
    video = np.repeat(texture(64, 64)[None], 5, axis=0)
    cache = ArrayCache()
    assert tof(video, video, cache=cache) == 0.0
    assert tlp(video, video, random_lpips(), cache=cache) == 0.0
    assert warping_error(video, video, cache=cache) < 1e-7


def test_flicker_scores_worse_than_smooth_motion():
    gt, smooth, flicker = flicker_and_smooth()
    # same per-frame distortion: only the temporal behaviour differs
    assert abs(cv2.PSNR(smooth, gt) - cv2.PSNR(flicker, gt)) < 0.1
    net = random_lpips()
    tof_s, tof_f = tof(smooth, gt), tof(flicker, gt)
    tlp_s, tlp_f = tlp(smooth, gt, net), tlp(flicker, gt, net)
    warp_s, warp_f = warping_error(smooth, gt), warping_error(flicker, gt)
    assert tof_f > 0.1 and tof_f > 100 * tof_s
    assert tlp_f > 1.3 * tlp_s
    assert warp_f > 1e-3 and warp_f > 100 * warp_s
    # the warping error does not need the ground truth, only its motion
    assert warping_error(flicker, smooth) == pytest.approx(warp_f, rel=0.1)


def test_farneback_recovers_global_translation():
    video = pan(texture(64, 64 + 2 * 4), t=4, dx=2, w=64)
    forward = video_flows(video, cache=None)
    backward = video_flows(video, backward=True, cache=None)
    assert forward.shape == backward.shape == (3, 64, 64, 2)
    interior = (slice(None), slice(16, 48), slice(16, 48))
    assert np.abs(forward[interior] - [2, 0]).max() < 0.05
    assert np.abs(backward[interior] - [-2, 0]).max() < 0.05


def test_warp_with_true_flow_and_occlusion_mask():
    video = pan(texture(64, 72), t=2, dx=2, w=64)
    flow_bw = np.zeros((64, 64, 2), np.float32)  # frame 1 -> frame 0
    flow_bw[..., 0] = -2
    flow_fw = -flow_bw  # frame 0 -> frame 1
    warped = warp_frame(video[0].astype(np.float32), flow_bw)
    # exact where the source exists; the 2 entering columns are borders
    np.testing.assert_array_equal(warped[:, 2:], video[1][:, 2:])
    valid = occlusion_mask(flow_bw, flow_fw)
    assert not valid[:, :2].any() and valid[:, 2:].all()
    # inconsistent forward flow: |-2 + 0|^2 = 4 >= 0.01 * 4 + 0.5
    assert not occlusion_mask(flow_bw, np.zeros_like(flow_fw)).any()
    # within tolerance: |-2 + 2.5|^2 = 0.25 < 0.01 * (4 + 6.25) + 0.5
    assert occlusion_mask(flow_bw, flow_fw * 1.25)[:, 2:].all()


def test_motion_boundary_option():
    flow = np.zeros((16, 16, 2), np.float32)
    flow[:, 8:, 1] = 1.0  # right half moves down: a motion boundary
    # consistent flows (a static-boundary test of criterion (2) alone)
    without = occlusion_mask(flow, -flow, motion_boundary=False)
    with_mb = occlusion_mask(flow, -flow, motion_boundary=True)
    # only the right half's last row is lost: it maps below the frame
    assert without[:-1].all() and without[-1, :8].all()
    assert not without[-1, 8:].any()
    # forward differences flag the column left of the step
    assert not with_mb[:, 7].any()
    assert with_mb[:-1, :7].all() and with_mb[:-1, 8:].all()


def test_warping_error_hand_computed():
    ref = np.repeat(texture(64, 64, seed=1)[None], 4, axis=0)
    levels = [40, 100, 40, 100]  # constant output frames
    out = np.stack([np.full((64, 64, 3), v, np.uint8) for v in levels])
    # every pair: ((100 - 40) / 255)^2 on every valid pixel
    assert warping_error(out, ref) == pytest.approx((60 / 255)**2, rel=1e-5)


def test_tof_equals_direct_loop_with_cv2():
    out, gt = realish_clip()  # 96x64: crop_8x8 keeps rows 16:48, cols 16:80
    values, values_full = [], []
    for i in range(1, len(gt)):
        prev_g, cur_g = (
            cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in gt[i - 1:i + 1])
        prev_o, cur_o = (
            cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in out[i - 1:i + 1])
        flow_g = cv2.calcOpticalFlowFarneback(prev_g, cur_g, None, 0.5, 3, 15,
                                              3, 5, 1.2, 0)
        flow_o = cv2.calcOpticalFlowFarneback(prev_o, cur_o, None, 0.5, 3, 15,
                                              3, 5, 1.2, 0)
        dist = np.sqrt(((flow_o - flow_g)**2).sum(-1))
        values.append(dist[16:48, 16:80].mean())
        values_full.append(dist.mean())
    assert np.mean(values) > 0.05  # JPEG artefacts move the flow
    assert tof(out, gt) == pytest.approx(np.mean(values), rel=1e-6)
    assert tof(
        list(out), list(gt), crop=False) == pytest.approx(
            np.mean(values_full), rel=1e-6)
    assert tof(out, gt, scale=10) == pytest.approx(10 * tof(out, gt))


def test_tlp_input_range_and_scale():
    seen = []

    def mean_abs(x0, x1):
        seen.append((x0.min().item(), x0.max().item()))
        return (x0 - x1).abs().mean(dim=(1, 2, 3))

    gt = np.repeat(texture(64, 64)[None], 5, axis=0)  # static: d_gt = 0
    out = np.stack([
        np.full((64, 64, 3), 255 * (i % 2), np.uint8) for i in range(5)
    ])  # black/white: [-1, 1] -> d = 2
    assert tlp(out, gt, mean_abs, cache=None) == pytest.approx(200.0)
    assert tlp(
        out, gt, mean_abs, scale=1.0, crop=False,
        batch_size=3) == pytest.approx(2.0)
    assert min(lo for lo, _ in seen) == -1.0
    assert max(hi for _, hi in seen) == 1.0


def test_skip_frames():
    gt = pan(texture(64, 70), t=5, dx=1, w=64)
    out = gt.copy()
    noise = np.random.default_rng(0).normal(0, 20, (64, 64, 3))
    out[0] = to_uint8(out[0] + noise)  # only the first frame differs
    assert tof(out, gt) > 0.02 and warping_error(out, gt) > 1e-3
    # frames 1..3 are kept: identical to the ground truth
    assert tof(out, gt, skip_frames=1) == 0.0
    assert warping_error(out, gt, skip_frames=1) < 1e-4
    with pytest.raises(ValueError, match='fewer than 2'):
        tof(out, gt, skip_frames=2)


def test_tecogan_crop_box():
    assert tecogan_crop_box(64, 96) == (slice(16, 48), slice(16, 80))
    # NTIRE 2021 frames: 536 -> 512 rows from 12, 960 -> 928 cols from 16
    assert tecogan_crop_box(536, 960) == (slice(12, 524), slice(16, 944))
    with pytest.raises(ValueError, match='crop=False'):
        tecogan_crop_box(40, 64)


def test_input_validation():
    video = pan(texture(64, 70), t=3, dx=1, w=64)
    with pytest.raises(ValueError, match='uint8'):
        tof(video.astype(np.float32), video)
    with pytest.raises(ValueError, match='differ in shape'):
        tof(video, video[:2])
    with pytest.raises(ValueError, match='at least 2'):
        warping_error(video[:1], video[:1])
    with pytest.raises(ValueError, match='RGB'):
        tof(video[..., 0], video[..., 0])


def test_reference_flows_are_computed_once(monkeypatch):
    calls = []
    original = temporal.farneback

    def counting(a, b):
        calls.append(1)
        return original(a, b)

    monkeypatch.setattr(temporal, 'farneback', counting)
    gt, smooth, flicker = flicker_and_smooth()  # 6 frames: 5 pairs
    cache = ArrayCache()
    tof(smooth, gt, cache=cache)
    assert len(calls) == 10  # 5 ground-truth + 5 output flows
    tof(flicker, gt, cache=cache)
    assert len(calls) == 15  # ground-truth flows reused
    warping_error(flicker, gt, cache=cache)
    warping_error(smooth, gt, cache=cache)
    assert len(calls) == 20  # backward gt flows once; forward reused
    assert len(cache) == 2
    # a budget below one video's flows: computed, returned, not kept
    small = ArrayCache(max_bytes=1000)
    assert video_flows(gt, cache=small).shape == (5, 64, 64, 2)
    assert len(small) == 0 and small.nbytes == 0


def test_cache_evicts_least_recently_used():
    cache = ArrayCache(max_bytes=2 * 800)
    for key in 'abc':
        cache.get_or_compute(key, lambda: np.zeros(100))  # 800 bytes each
    assert len(cache) == 2 and cache.nbytes == 1600
    hit = cache.get_or_compute('c', lambda: pytest.fail('recomputed'))
    assert not hit.flags.writeable


# ---------------------------------------------------------------------------
# registered metrics


def to_tensor(video: np.ndarray, order: str = 'BGR') -> torch.Tensor:
    """uint8 RGB (t, h, w, 3) -> float (t, 3, h, w), as mmagic hands it."""
    if order == 'BGR':
        video = np.ascontiguousarray(video[..., ::-1])
    return torch.from_numpy(video).permute(0, 3, 1, 2).float()


def video_sample(pred: np.ndarray,
                 gt: np.ndarray,
                 order: str = 'BGR',
                 **metainfo) -> dict:
    sample = DataSample(gt_img=to_tensor(gt, order), metainfo=metainfo)
    sample.output = DataSample(pred_img=to_tensor(pred, order))
    sample.set_tensor_data({'input': to_tensor(gt, order)})
    return sample.to_dict()


def test_registered_names():
    for name, cls in (('TOF', TOF), ('TLP', TLP), ('WarpingError',
                                                   WarpingError)):
        assert METRICS.get(name) is cls
    metric = METRICS.build(dict(type='TOF', pred_key='fuse', prefix='fuse'))
    assert metric.pred_key == 'fuse' and metric.prefix == 'fuse'


def test_metrics_keep_per_video_values():
    gt_a, smooth_a, flicker_a = flicker_and_smooth()
    out_b, gt_b = realish_clip(64, 64, 4)
    net = random_lpips()
    samples = [
        video_sample(flicker_a, gt_a, key='a'),
        # no key: the video is named after its frames' folder
        video_sample(out_b, gt_b, gt_path=['/data/gt/b/0.png']),
    ]
    expected = {
        'tOF': (tof(flicker_a, gt_a), tof(out_b, gt_b)),
        'tLP': (tlp(flicker_a, gt_a, net), tlp(out_b, gt_b, net)),
        'WarpingError': (warping_error(flicker_a,
                                       gt_a), warping_error(out_b, gt_b)),
    }
    metrics = [
        TOF(prefix='row1'),
        TLP(lpips_net=net, prefix='row1'),
        WarpingError(prefix='row1')
    ]
    for metric in metrics:
        metric.process(None, samples)
        metric.prepare(
            SimpleNamespace(data_preprocessor=None),
            SimpleNamespace(dataset=samples))
        result = metric.evaluate()
        name = metric.metric
        a, b = expected[name]
        assert [v['video'] for v in metric.per_video] == ['a', 'b']
        assert metric.per_video[0][name] == pytest.approx(a, rel=1e-6)
        assert metric.per_video[1][name] == pytest.approx(b, rel=1e-6)
        assert result == {f'row1/{name}': pytest.approx((a + b) / 2)}


def test_metric_groups_samples_of_one_video_by_pairs():
    gt, smooth, flicker = flicker_and_smooth()  # 6 frames
    metric = TOF()
    # video 'a' in two samples (3 + 3 frames: 2 + 2 pairs), then 'b'
    metric.process(None, [video_sample(flicker[:3], gt[:3], key='a')])
    metric.process(None, [video_sample(flicker[3:], gt[3:], key='a')])
    metric.process(None, [video_sample(smooth, gt, key='b')])
    result = metric.compute_metrics(metric.results)
    pairs = np.concatenate([
        temporal._tof_pairs(flicker[:3], gt[:3], True, None),
        temporal._tof_pairs(flicker[3:], gt[3:], True, None)
    ])
    per_video = {v['video']: v['tOF'] for v in metric.per_video}
    assert per_video['a'] == pytest.approx(pairs.mean())
    assert per_video['b'] == pytest.approx(tof(smooth, gt))
    assert result['tOF'] == pytest.approx(np.mean(list(per_video.values())))


def test_warping_metric_flow_from_input_and_channel_order():
    gt, smooth, flicker = flicker_and_smooth()
    sample = video_sample(flicker, gt, key='a')
    sample['input'] = to_tensor(smooth)  # the flow source
    metric = WarpingError(flow_key='input', skip_frames=1)
    metric.process(None, [sample])
    result = metric.compute_metrics(metric.results)
    assert result['WarpingError'] == pytest.approx(
        warping_error(flicker, smooth, skip_frames=1), rel=1e-6)
    with pytest.raises(KeyError, match='missing'):
        WarpingError(flow_key='missing').process(None, [sample])
    # channel order matters for the gray conversion: BGR is undone
    video = temporal.tensor_to_video(to_tensor(flicker))
    np.testing.assert_array_equal(video, flicker)
    for order in ('BGR', 'RGB'):
        metric = TOF(channel_order=order)
        metric.process(None, [video_sample(flicker, gt, order, key='a')])
        assert metric.compute_metrics(metric.results)['tOF'] == pytest.approx(
            tof(flicker, gt), rel=1e-6)
    with pytest.raises(ValueError, match='BGR or RGB'):
        TOF(channel_order='YUV')
    with pytest.raises(ValueError, match='whole video'):
        temporal.tensor_to_video(to_tensor(flicker)[0])


def test_tlp_metric_builds_shared_default_network(monkeypatch):
    built = []
    net = random_lpips()

    def fake_default(backbone_path=None, device='cpu'):
        built.append((backbone_path, device))
        return net

    monkeypatch.setattr(temporal, 'default_lpips', fake_default)
    gt, _, flicker = flicker_and_smooth()
    metric = TLP(lpips_backbone='/weights/alexnet.pth', device='cpu')
    assert built == []  # nothing is built before the first video
    metric.process(None, [video_sample(flicker, gt, key='a')])
    assert built == [('/weights/alexnet.pth', 'cpu')]
    assert metric.compute_metrics(metric.results)['tLP'] == pytest.approx(
        tlp(flicker, gt, net), rel=1e-6)


def test_fully_occluded_pairs_give_nan(monkeypatch):
    monkeypatch.setattr(temporal, 'occlusion_mask',
                        lambda bw, fw, mb: np.zeros(bw.shape[:2], bool))
    gt, _, flicker = flicker_and_smooth()
    with pytest.warns(UserWarning, match='fully occluded'):
        assert np.isnan(warping_error(flicker, gt))
    metric = WarpingError()
    metric.process(None, [video_sample(flicker, gt, key='a')])
    assert np.isnan(metric.compute_metrics(metric.results)['WarpingError'])
    assert np.isnan(metric.per_video[0]['WarpingError'])


# ---------------------------------------------------------------------------
# command line


def load_cli():
    spec = importlib.util.spec_from_file_location(
        'eval_temporal', ROOT / 'tools' / 'eval_temporal.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_frames(folder: Path, video: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for i, frame in enumerate(video):
        cv2.imwrite(str(folder / f'{i:08d}.png'), frame[..., ::-1])


def test_cli_rows_and_per_video_json(tmp_path, monkeypatch, capsys):
    gt_a, smooth_a, flicker_a = flicker_and_smooth()
    out_b, gt_b = realish_clip(64, 64, 4)
    for name, gt, smooth, flicker in (('a', gt_a, smooth_a, flicker_a),
                                      ('b', gt_b, out_b, gt_b)):
        write_frames(tmp_path / 'gt' / name, gt)
        write_frames(tmp_path / 'smooth' / name, smooth)
        write_frames(tmp_path / 'flicker' / name, flicker)
        write_frames(tmp_path / 'lq' / name, smooth)
    net = random_lpips()
    monkeypatch.setattr(temporal, 'default_lpips', lambda *args: net)
    cli = load_cli()
    out_json = tmp_path / 'res' / 'temporal.json'
    assert cli.main([
        '--gt',
        str(tmp_path / 'gt'), '--pred',
        str(tmp_path / 'smooth'),
        str(tmp_path / 'flicker'), '--names', 'smooth', 'flicker', '--lq',
        str(tmp_path / 'lq'), '--flow-source', 'lq', '--out',
        str(out_json)
    ]) == 0
    results = json.loads(out_json.read_text())
    assert [r['name'] for r in results['rows']] == ['smooth', 'flicker']
    flicker_row = results['rows'][1]
    a, b = flicker_row['per_video']
    assert (a['video'], b['video']) == ('a', 'b')
    assert a['tOF'] == pytest.approx(tof(flicker_a, gt_a), rel=1e-6)
    assert a['tLP'] == pytest.approx(tlp(flicker_a, gt_a, net), rel=1e-6)
    assert a['WarpingError'] == pytest.approx(
        warping_error(flicker_a, smooth_a), rel=1e-6)
    assert b['tOF'] == 0.0  # flicker row of 'b' is its ground truth
    assert flicker_row['mean']['tOF'] == pytest.approx(a['tOF'] / 2)
    assert results['settings']['farneback']['winsize'] == 15
    assert not [p for p in out_json.parent.iterdir() if p != out_json]
    table = capsys.readouterr().out
    assert 'flicker' in table and 'WarpingError' in table


def test_cli_single_folder_and_mismatch(tmp_path, capsys):
    gt, smooth, _ = flicker_and_smooth()
    write_frames(tmp_path / 'gt', gt)
    write_frames(tmp_path / 'out', smooth)
    write_frames(tmp_path / 'short', smooth[:4])
    cli = load_cli()
    assert cli.main([
        '--gt',
        str(tmp_path / 'gt'), '--pred',
        str(tmp_path / 'out'), '--metrics', 'tof'
    ]) == 0
    assert f'{tof(smooth, gt):.6g}' in capsys.readouterr().out
    with pytest.raises(ValueError, match=osp.join('short') + '.*4 frames'):
        cli.main([
            '--gt',
            str(tmp_path / 'gt'), '--pred',
            str(tmp_path / 'short'), '--metrics', 'warp'
        ])
