"""Small generated videos and data samples for the metric tests."""
import cv2
import lpips
import numpy as np
import torch
from mmagic.structures import DataSample


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


def noisy(video: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return to_uint8(video.astype(np.float64) + rng.normal(0, sigma,
                                                          video.shape))


def random_video(t=3, h=32, w=40, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (t, h, w, 3), dtype=np.uint8)


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


def to_tensor(video: np.ndarray, order: str = 'BGR') -> torch.Tensor:
    """uint8 RGB (t, h, w, 3) -> float (t, 3, h, w), as mmagic hands it."""
    if order == 'BGR':
        video = video[..., ::-1]
    return torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1,
                                                                 2).float()


def video_sample(pred: np.ndarray,
                 gt: np.ndarray,
                 order: str = 'BGR',
                 **metainfo) -> dict:
    """A data sample as metrics receive it: ``gt_img``, ``input`` (the
    ground truth again) and ``output.pred_img``, in ``order``."""
    sample = DataSample(gt_img=to_tensor(gt, order), metainfo=metainfo)
    sample.output = DataSample(pred_img=to_tensor(pred, order))
    sample.set_tensor_data({'input': to_tensor(gt, order)})
    return sample.to_dict()
