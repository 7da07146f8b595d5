"""mmagic's ``BasicFramesDataset`` with its inputs checked at load time.

The stock dataset trusts the folders: a missing LQ folder, a video with
fewer LQ than GT frames, or LQ frames of another size surface much later
as an obscure error inside a transform (or not at all). This subclass
checks, once when the dataset is built, that every video has the same
number of frames in each data prefix and that the first frames have the
same size, and names the files when they do not.

A frame that exists but cannot be decoded (a corrupt PNG) is only found
when it is loaded; :class:`LoadImageFromFileChecked` is mmagic's
``LoadImageFromFile`` with an error that names that file.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

from mmagic.datasets import BasicFramesDataset
from mmagic.datasets.transforms import LoadImageFromFile
from mmagic.registry import DATASETS, TRANSFORMS
from PIL import Image, UnidentifiedImageError

from astf_mm.io import IMAGE_EXTENSIONS, list_frame_files


def _image_size(path: str) -> tuple:
    # PIL reads only the header here, not the pixels.
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, UnidentifiedImageError) as e:
        raise OSError(f'{path}: unreadable or corrupt image ({e}).') from None


@DATASETS.register_module()
class PairedFramesDataset(BasicFramesDataset):
    """Paired LQ/GT frame folders, validated when loaded.

    Takes exactly the arguments of mmagic's ``BasicFramesDataset`` (e.g.
    ``data_prefix=dict(img='lq', gt='gt')``, ``ann_file``, ``depth``) plus
    ``check_same_size``. When the dataset is built it checks:

    - the data root, annotation file and every data-prefix folder exist;
    - each video listed has a folder with at least one frame under every
      data prefix, and the same number of frames in each;
    - the frame count an annotation line gives (``<video> <n>``), if any,
      equals the folder's;
    - the first frames of each video have the same size in every prefix
      (header-only reads), when ``check_same_size``.

    Any failure raises ``FileNotFoundError`` (missing things) or
    ``ValueError`` (mismatches) naming the paths.

    Args:
        check_same_size (bool): Require equal frame sizes across prefixes
            (True for enhancement; False for super-resolution data).
            Default: True.
        **kwargs: Arguments of ``BasicFramesDataset``.
    """

    def __init__(self, check_same_size: bool = True, **kwargs) -> None:
        self.check_same_size = check_same_size
        # BasicFramesDataset fills a mutable default dict in place; give it
        # a fresh one so that datasets do not share templates.
        kwargs['filename_tmpl'] = dict(kwargs.get('filename_tmpl') or {})
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """Check the folders, then list the samples as mmagic does.

        Returns:
            list[dict]: The samples of ``BasicFramesDataset``.
        """
        self._check_roots()
        declared = self._declared_counts() if self.use_ann_file else {}
        videos = self._videos()
        if not videos:
            source = self.ann_file if self.use_ann_file else \
                self.data_prefix[self.search_key]
            raise ValueError(f'{source}: no videos found.')
        if not self.load_frames_list:
            # Before mmagic lists the folders, so that its own errors (a
            # bare "No such file or directory") never come first.
            for video in videos:
                self._check_video(video, declared.get(video))
        return super().load_data_list()

    def _videos(self) -> List[str]:
        """Top-level video folders named by the ann file or the folder."""
        if self.use_ann_file:
            names = []
            with open(self.ann_file) as f:
                for line in f:
                    if line.strip():
                        path = line.split(' ')[0].strip().replace('/', os.sep)
                        names.append(path.split(os.sep)[0])
            return sorted(set(names))
        folder = self.data_prefix[self.search_key]
        return sorted(n for n in os.listdir(folder)
                      if osp.isdir(osp.join(folder, n)))

    def _check_roots(self) -> None:
        if self.data_root and not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'Dataset root not found: {self.data_root} (data_root). '
                'Build it first, e.g. python tools/data/make_sample_data.py')
        if self.use_ann_file and not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'Annotation file not found: {self.ann_file} (ann_file).')
        for key, folder in self.data_prefix.items():
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'Folder for "{key}" frames not found: {folder} '
                    f'(data_prefix.{key}).')

    def _declared_counts(self) -> Dict[str, int]:
        """``<video> <n>`` annotation lines -> {video: n}."""
        counts = {}
        with open(self.ann_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit() and '/' not in \
                        parts[0]:
                    counts[parts[0]] = int(parts[1])
        return counts

    def _check_video(self, video: str, declared: Optional[int]) -> None:
        counts = {}
        firsts = {}
        for key, prefix in self.data_prefix.items():
            folder = osp.join(prefix, video)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'Video "{video}" has no "{key}" folder: {folder}')
            files = list_frame_files(folder)
            if not files:
                raise ValueError(f'Video folder {folder} has no frames '
                                 f'({", ".join(IMAGE_EXTENSIONS)}).')
            counts[key] = (folder, len(files))
            firsts[key] = files[0]
        if len({n for _, n in counts.values()}) > 1:
            detail = ', '.join(f'{folder}: {n} frames'
                               for folder, n in counts.values())
            raise ValueError(
                f'Video "{video}" has different frame counts: {detail}.')
        count = next(iter(counts.values()))[1]
        if declared is not None and declared != count:
            raise ValueError(
                f'{self.ann_file}: "{video} {declared}" but its folders hold '
                f'{count} frames ({next(iter(counts.values()))[0]}). '
                'Regenerate the annotation file or the frames.')
        if self.check_same_size:
            sizes = {key: _image_size(path) for key, path in firsts.items()}
            if len(set(sizes.values())) > 1:
                detail = ', '.join(f'{firsts[key]}: {w}x{h}'
                                   for key, (w, h) in sizes.items())
                raise ValueError(
                    f'Video "{video}": first frames differ in size: '
                    f'{detail}. (check_same_size=False allows it.)')


@TRANSFORMS.register_module()
class LoadImageFromFileChecked(LoadImageFromFile):
    """mmagic's ``LoadImageFromFile`` with an error naming a corrupt file.

    Same arguments and results. The stock transform fails on an
    undecodable image with OpenCV's ``!_src.empty() in function
    'cvtColor'``, which names no file; this one raises ``OSError`` with the
    path.
    """

    def _load_image(self, filename: str):
        try:
            img = super()._load_image(filename)
        except FileNotFoundError:
            raise
        except Exception as e:
            raise OSError(f'{filename}: unreadable or corrupt image '
                          f'({type(e).__name__}: {e}).') from None
        if img is None:
            raise OSError(f'{filename}: unreadable or corrupt image.')
        return img
