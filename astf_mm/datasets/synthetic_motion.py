"""Clips with camera-like motion made from still photographs.

Used by ``tools/data/make_sample_data.py`` (whole-pixel pans) and
``tools/data/build_corpus.py`` (pans at any speed and direction, zoom,
small rotation, hand-held shake, sub-pixel motion). Pure numpy/OpenCV: no
I/O besides reading the image.
"""
import dataclasses
import json
import math
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np


def read_rgb(image_path: str) -> np.ndarray:
    """Read an image as RGB uint8 (grey images become three equal channels).

    Args:
        image_path (str): The image.

    Returns:
        np.ndarray: ``(h, w, 3)`` uint8 RGB.
    """
    img = cv2.imread(image_path, cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError(f'{image_path}: unreadable image.')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def pan_frames(image_path: str, window: Tuple[int, int],
               start: Tuple[int, int], step: Tuple[int, int],
               num_frames: int) -> Iterator[np.ndarray]:
    """Pan a window over a still image by whole pixels (no resampling).

    Args:
        image_path (str): The image.
        window (tuple[int, int]): ``(width, height)`` of the frames.
        start (tuple[int, int]): ``(x, y)`` of the first window.
        step (tuple[int, int]): ``(dx, dy)`` per frame.
        num_frames (int): Number of frames.

    Yields:
        np.ndarray: ``(height, width, 3)`` uint8 RGB frames.
    """
    img = read_rgb(image_path)
    w, h = window
    for t in range(num_frames):
        x, y = start[0] + step[0] * t, start[1] + step[1] * t
        if x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0]:
            raise ValueError(f'{image_path}: pan window {window} at ({x}, '
                             f'{y}) leaves the {img.shape[1]}x'
                             f'{img.shape[0]} image.')
        yield np.ascontiguousarray(img[y:y + h, x:x + w])


@dataclasses.dataclass(frozen=True)
class CameraMotion:
    """A camera path over a still image, in pixels of the output frames.

    The window centre moves by ``velocity`` per frame (any real number:
    sub-pixel motion is resampled with Lanczos), plus a smooth hand-held
    shake (a sum of sinusoids per axis); the window's scale changes by the
    factor ``zoom`` per frame (> 1 zooms out) and it turns by ``rotation``
    degrees per frame.

    Attributes:
        velocity (tuple[float, float]): ``(dx, dy)`` per frame.
        zoom (float): Scale factor per frame. Default: 1.
        rotation (float): Degrees per frame. Default: 0.
        shake (tuple): Per axis, ``(amplitude, angular frequency, phase)``
            triples of the shake sinusoids. Default: none.
    """
    velocity: Tuple[float, float]
    zoom: float = 1.0
    rotation: float = 0.0
    shake: Tuple[Tuple[Tuple[float, float, float], ...], ...] = ((), ())

    def offsets(self, num_frames: int) -> np.ndarray:
        """Centre displacement of each frame from the first.

        Args:
            num_frames (int): Number of frames.

        Returns:
            np.ndarray: ``(num_frames, 2)`` float64 ``(dx, dy)``.
        """
        t = np.arange(num_frames, dtype=np.float64)
        out = np.stack([self.velocity[0] * t, self.velocity[1] * t], 1)
        for axis in range(2):
            for amp, freq, phase in self.shake[axis]:
                wave = amp * np.sin(freq * t + phase)
                out[:, axis] += wave - wave[0]
        return out

    def matrices(self, window: Tuple[int, int], center: Tuple[float, float],
                 num_frames: int) -> List[np.ndarray]:
        """Affine maps from output pixels to image pixels, one per frame.

        Args:
            window (tuple[int, int]): ``(width, height)`` of the frames.
            center (tuple[float, float]): Image position of the first
                frame's centre.
            num_frames (int): Number of frames.

        Returns:
            list[np.ndarray]: ``(2, 3)`` float64 matrices (output -> image).
        """
        w, h = window
        wc = np.array([(w - 1) / 2, (h - 1) / 2])
        mats = []
        for t, off in enumerate(self.offsets(num_frames)):
            s = self.zoom**t
            a = math.radians(self.rotation * t)
            lin = s * np.array([[math.cos(a), -math.sin(a)],
                                [math.sin(a), math.cos(a)]])
            c = np.asarray(center, np.float64) + off
            mats.append(np.concatenate([lin, (c - lin @ wc)[:, None]], 1))
        return mats

    def describe(self) -> str:
        """A JSON text that determines the motion (for a manifest).

        Returns:
            str: The motion's parameters.
        """
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


def motion_extent(motion: CameraMotion, window: Tuple[int, int],
                  num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Bounding box of every frame's corners, relative to the first centre.

    Args:
        motion (CameraMotion): The motion.
        window (tuple[int, int]): ``(width, height)`` of the frames.
        num_frames (int): Number of frames.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(x, y)`` minimum and maximum.
    """
    w, h = window
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1],
                        [w - 1, h - 1, 1]], np.float64).T
    pts = np.concatenate(
        [m @ corners for m in motion.matrices(window, (0, 0), num_frames)],
        1)
    return pts.min(1), pts.max(1)


def place_motion(image_size: Tuple[int, int],
                 motion: CameraMotion,
                 window: Tuple[int, int],
                 num_frames: int,
                 rng: np.random.Generator,
                 margin: float = 4) -> Optional[Tuple[float, float]]:
    """A random first centre that keeps every frame inside the image.

    Args:
        image_size (tuple[int, int]): ``(width, height)`` of the image.
        motion (CameraMotion): The motion.
        window (tuple[int, int]): ``(width, height)`` of the frames.
        num_frames (int): Number of frames.
        rng (np.random.Generator): Random source.
        margin (float): Pixels kept free at the border (the Lanczos
            kernel's reach). Default: 4.

    Returns:
        tuple[float, float] | None: The centre, or None if the path does
        not fit.
    """
    lo, hi = motion_extent(motion, window, num_frames)
    size = np.asarray(image_size, np.float64)
    low = margin - lo
    high = size - 1 - margin - hi
    if np.any(high < low):
        return None
    # Whole-pixel start: a still or whole-pixel path is then an exact crop.
    center = np.floor(rng.uniform(low, high))
    center = np.maximum(center, np.ceil(low))
    if np.any(center > high):
        return None
    return float(center[0]), float(center[1])


def camera_motion_frames(image: np.ndarray, window: Tuple[int, int],
                         center: Tuple[float, float], motion: CameraMotion,
                         num_frames: int) -> Iterator[np.ndarray]:
    """Film a still image with a moving camera.

    Args:
        image (np.ndarray): ``(h, w, 3)`` uint8 image, already at the scale
            of the frames (downscale large photographs with area
            interpolation first: the path resamples at a scale near 1).
        window (tuple[int, int]): ``(width, height)`` of the frames.
        center (tuple[float, float]): Image position of the first frame's
            centre (see :func:`place_motion`).
        motion (CameraMotion): The motion.
        num_frames (int): Number of frames.

    Yields:
        np.ndarray: ``(height, width, 3)`` uint8 frames.
    """
    h, w = image.shape[:2]
    lo, hi = motion_extent(motion, window, num_frames)
    if (center[0] + lo[0] < 0 or center[1] + lo[1] < 0
            or center[0] + hi[0] > w - 1 or center[1] + hi[1] > h - 1):
        raise ValueError(f'The camera path leaves the {w}x{h} image.')
    for mat in motion.matrices(window, center, num_frames):
        yield cv2.warpAffine(
            image,
            mat,
            tuple(window),
            flags=cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT_101)


def random_camera_motion(rng: np.random.Generator,
                         max_speed: float = 6.0) -> CameraMotion:
    """Draw a camera motion like a hand-held or panning video camera.

    Speed log-uniform in [0.25, ``max_speed``] px/frame in any direction;
    half the clips zoom (up to 1% per frame, in or out), half turn (up to
    0.3 degrees per frame), two thirds shake (up to 1.5 px, 0.3-1.2 rad
    per frame).

    Args:
        rng (np.random.Generator): Random source.
        max_speed (float): Fastest pan in pixels per frame. Default: 6.

    Returns:
        CameraMotion: The motion (parameters rounded to 4 decimals).
    """
    speed = math.exp(rng.uniform(math.log(0.25), math.log(max_speed)))
    angle = rng.uniform(0, 2 * math.pi)
    zoom = 1.0 + (rng.uniform(-0.01, 0.01) if rng.random() < 0.5 else 0.0)
    rotation = rng.uniform(-0.3, 0.3) if rng.random() < 0.5 else 0.0
    shake = ((), ())
    if rng.random() < 2 / 3:
        amp = rng.uniform(0.2, 1.5)
        shake = tuple(
            tuple((round(amp * rng.uniform(0.3, 1.0), 4),
                   round(rng.uniform(0.3, 1.2), 4),
                   round(rng.uniform(0, 2 * math.pi), 4))
                  for _ in range(2)) for _axis in range(2))
    return CameraMotion(
        velocity=(round(speed * math.cos(angle),
                        4), round(speed * math.sin(angle), 4)),
        zoom=round(zoom, 5),
        rotation=round(rotation, 4),
        shake=shake)
