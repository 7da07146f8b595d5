"""Small generated clips and helpers shared by the io and encoding tests."""
import math
import os

import numpy as np

from astf_mm.io import VideoWriter


def textured_clip(num_frames: int = 8,
                  width: int = 64,
                  height: int = 64) -> list:
    """A smooth, textured, moving RGB clip (compresses like real content)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = []
    for t in range(num_frames):
        xs = x + 2 * t
        r = 128 + 60 * np.sin(xs / 7.0) + 30 * np.cos(y / 5.0)
        g = 128 + 50 * np.sin((xs + y) / 9.0)
        b = 100 + 40 * np.cos(xs / 4.0) * np.sin(y / 11.0) + 0.5 * y
        img = np.stack([r, g, b], axis=-1)
        img[(xs.astype(int) // 16 + y.astype(int) // 16) % 2 == 0] += 25
        frames.append(np.clip(img, 0, 255).astype(np.uint8))
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * math.log10(255.0**2 / mse)


def leftovers(folder) -> list:
    return [n for n in os.listdir(folder) if '.tmp-' in n]


def write_video(path, frames, **kwargs):
    with VideoWriter(path, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
