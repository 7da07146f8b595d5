"""Farneback flows, warping and the occlusion mask."""
import numpy as np

from astf_mm.evaluation.flow import occlusion_mask, video_flows, warp_frame
from tests.test_evaluation.clips import pan, texture


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
