"""Build the side-by-side HTML viewer from existing videos of one clip.

``python tools/make_viewer.py OUT.html --input LQ --enhanced OUT.mkv
[--stage1 S1.mkv] [--mask MASK.mp4] [--reference GT.mp4]
[--video LABEL=PATH ...] [--metrics PER_FRAME.json]``

Writes OUT.html and, beside it, ``OUT_viewer_files/`` with an H.264 copy
of every video (browsers do not play FFV1 ``.mkv``). Open OUT.html in a
browser; keep the page and its folder together. The page plays every
video in sync, wipes between any two (A left of the split, B right),
steps frame by frame, and draws per-frame metric curves.

``--metrics``: a JSON file ``{metric: {series: [value per frame]}}``, e.g.
``{"PSNR": {"input": [28.1, ...], "enhanced": [...]}, "LPIPS": {...}}``,
or an object holding that under the key ``"per_frame"``. A series named
like a video (``input``, ``stage 1``, ``enhanced``, ...) is drawn in its
colour.

An existing page or folder is refused unless ``--overwrite`` (which
replaces only the files written); outputs inside an input are refused.
"""
import argparse
import json
import sys
from typing import Dict, List, Optional

from astf_mm.io import OutputPathError, VideoReadError, exit_on_sigterm
from astf_mm.visualization import VIEWER_CRF, write_viewer

# (option, label) of the named streams, in display order
NAMED_STREAMS = (('input', 'input'), ('stage1', 'stage 1'),
                 ('enhanced', 'enhanced'), ('mask', 'mask'), ('reference',
                                                              'reference'))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Build a side-by-side HTML viewer (sync playback, '
        'wipe, frame stepping, per-frame curves) from videos of one clip.')
    parser.add_argument('output', help='the page to write (.html)')
    parser.add_argument('--input', required=True,
                        help='the compressed input video')
    parser.add_argument('--stage1', help='the stage-1 video')
    parser.add_argument('--enhanced', required=True,
                        help='the enhanced video')
    parser.add_argument('--mask', help='the ASTF mask video')
    parser.add_argument('--reference',
                        help='the uncompressed reference video')
    parser.add_argument('--video', action='append', default=[],
                        metavar='LABEL=PATH',
                        help='another video, shown after the named ones '
                        '(repeatable)')
    parser.add_argument('--metrics',
                        help='per-frame metrics JSON (see the module doc)')
    parser.add_argument('--title', help='page title (default: OUTPUT name)')
    parser.add_argument('--fps', type=float,
                        help='frame rate (default: the input\'s)')
    parser.add_argument('--crf', type=int, default=VIEWER_CRF,
                        help='x264 CRF of the page\'s copies '
                        '(default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing page/folder (only the '
                        'files written)')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    return parser.parse_args(argv)


def collect_videos(args: argparse.Namespace) -> Dict[str, str]:
    """Label -> path of the videos named on the command line."""
    videos = {}
    for option, label in NAMED_STREAMS:
        path = getattr(args, option)
        if path is not None:
            videos[label] = path
    for item in args.video:
        label, sep, path = item.partition('=')
        if not sep or not label.strip() or not path:
            raise ValueError(f'--video {item!r}: expected LABEL=PATH.')
        if label in videos:
            raise ValueError(f'--video {item!r}: the label {label!r} is '
                             'already used.')
        videos[label] = path
    return videos


def load_metrics(path: Optional[str]) -> Optional[dict]:
    """Read a per-frame metrics JSON (``{metric: {series: values}}``, or
    that under ``"per_frame"``)."""
    if path is None:
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'--metrics {path}: cannot be read as JSON: {err}')
    if isinstance(data, dict) and 'per_frame' in data:
        data = data['per_frame']
    return data


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        videos = collect_videos(args)
        metrics = load_metrics(args.metrics)
        title = args.title
        if title is None:
            title = args.output.replace('\\', '/').rsplit('/', 1)[-1]
        files = write_viewer(args.output,
                             videos,
                             metrics=metrics,
                             title=title,
                             fps=args.fps,
                             crf=args.crf,
                             overwrite=args.overwrite,
                             progress=not args.no_progress)
    except (OutputPathError, VideoReadError, FileNotFoundError,
            ValueError) as err:
        sys.exit(f'error: {err}')
    print(f'viewer: {files.html} ({files.num_frames} frames, '
          f'{len(files.videos)} videos in {files.files_dir})')


if __name__ == '__main__':
    exit_on_sigterm()  # like Ctrl-C: temporaries removed
    main()
