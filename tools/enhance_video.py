"""Enhance a compressed video with ASTF: one command, video in, video out.

``python tools/enhance_video.py INPUT --output OUT.mp4``

INPUT: a video file (mp4, mkv, a raw .hevc/.h265 bitstream, .yuv with
``--size WxH``) or a folder of frames. OUT: a video file (``.mp4``:
near-lossless H.264 4:2:0 that browsers play, CRF ``SHAREABLE_CRF``;
``.mkv``: lossless FFV1, exactly the frames that were scored) or, without
an extension, a folder of PNG frames. The video is processed in chunks of
``--max-seq-len`` frames with ``--overlap`` context frames, so memory does
not grow with its length;
every output is written under a temporary name and renamed when complete.

Outputs never destroy data: an existing output (file, non-empty frame
folder, metrics file) is refused unless ``--overwrite``, which replaces a
file or writes into a folder, replacing only the frames it writes; an
output equal to, inside, or (a folder) holding the input or the reference
is refused. SIGTERM is handled like Ctrl-C (temporaries removed, exit code
143), and the temporaries of a killed run are removed by the next run.

With ``--reference SOURCE`` (the uncompressed video INPUT was made from),
PSNR and SSIM of the input and of every stage against it are computed on
the fly and written beside OUTPUT as ``<stem>_metrics.md`` / ``.json``
(with the per-frame values); OUTPUT is then decoded again and what its
encoding cost is printed (``encoding cost: X dB (enhancement gained
Y dB)``, with a warning when X > Y) and kept in the metrics files.

With ``--viewer``, ``<stem>.html`` (videos in ``<stem>_viewer_files/``)
plays the input, stage 1 (with ``--save-intermediates``), the enhanced
output, the mask (with ``--save-mask``) and the reference in sync, with a
wipe between any two and per-frame PSNR/LPIPS curves when a reference is
given.

Many videos: several INPUTs, or a folder of videos (files, or folders of
frames as in a dataset's ``lq``), with ``--output FOLDER`` write
``FOLDER/<name>.<--output-format>``; under ``torchrun --nproc_per_node N``
the videos are split across the N processes (one GPU each), and
``FOLDER/enhance_manifest.json`` records every finished video, so a rerun
skips them and does the rest.
"""
import argparse
import json
import os
import os.path as osp
import sys
from contextlib import ExitStack
from hashlib import sha256
from typing import Dict, List, Optional

import numpy as np
from tqdm import tqdm

import astf_mm  # noqa: F401  (applies shims, registers modules)
from astf_mm.apis import init_astf_model, stream_enhance
from astf_mm.engine.dist_shard import VideoTask, init_dist, run_sharded
from astf_mm.evaluation import (frame_lpips, frame_psnr, frame_ssim,
                                table_markdown)
from astf_mm.io import (SHAREABLE_CRF, VIDEO_EXTENSIONS, OutputPathError,
                        atomic_write_text, check_output_path, default_crf,
                        exit_on_sigterm, iter_pairs, list_frame_files,
                        natural_key, open_writer, probe_video, read_frames,
                        video_codec)
from astf_mm.models import EnhanceNet
from astf_mm.models.astf_model import ROW_TITLES, ROWS
from astf_mm.utils.cli import add_astf_model_args, add_stream_args, parse_size
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG
from astf_mm.utils.third_party_warnings import quiet_third_party_warnings
from astf_mm.visualization import viewer_files_dir, write_viewer

DEFAULT_CONFIG = 'configs/' + SAMPLE_ASTF_CONFIG
INTERMEDIATES = ('stage1', 'enhancenet1', 'enhancenet2', 'fused')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Enhance a compressed video with ASTF')
    parser.add_argument(
        'input',
        nargs='+',
        help='video file or folder of frames; several, or a folder of '
        'videos, to enhance each into --output FOLDER')
    parser.add_argument(
        '--output',
        required=True,
        help='output video (.mp4/.mkv) or folder of PNG frames')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='end-to-end ASTF config (default: the sample models)')
    add_astf_model_args(parser)
    parser.add_argument(
        '--size',
        type=parse_size,
        help='WxH of a raw .yuv input (e.g. 960x536)')
    parser.add_argument(
        '--pix-fmt', default='yuv420p', help='pixel format of a .yuv input')
    parser.add_argument(
        '--fps', type=float, help='output frame rate (default: the input\'s)')
    parser.add_argument('--max-frames', type=int, help='stop after N frames')
    parser.add_argument(
        '--codec', help='ffv1, libx264, libx265 or png (default: by suffix)')
    parser.add_argument(
        '--crf',
        type=int,
        help='lossy quality of the --output and --save-mask video files, '
        f'libx264/libx265 only (default for .mp4: {SHAREABLE_CRF}, '
        'near-lossless 4:2:0; .mkv is lossless FFV1 unless --codec '
        'libx264/libx265 is given)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing output files and write into existing frame '
        'folders (only the frames written are replaced; nothing is deleted)')
    parser.add_argument(
        '--save-intermediates',
        metavar='DIR',
        help='also write stage1/enhancenet1/enhancenet2/fused videos here')
    parser.add_argument(
        '--save-mask', metavar='PATH', help='also write the ASTF mask video')
    parser.add_argument(
        '--reference',
        metavar='SOURCE',
        help='the uncompressed video INPUT was made from (file or frame '
        'folder, same frames): report PSNR/SSIM of the input and of every '
        'stage against it in OUTPUT\'s <stem>_metrics.md/.json')
    parser.add_argument(
        '--viewer',
        action='store_true',
        help='also write <stem>.html: the streams side by side, in sync, '
        'with a wipe and per-frame curves (videos in <stem>_viewer_files/)')
    parser.add_argument(
        '--output-format',
        choices=MANY_FORMATS,
        help='with several videos: each one\'s output in --output FOLDER '
        '(png: a folder of PNG frames per video; default: mp4)')
    add_stream_args(parser)
    args = parser.parse_args(argv)
    _split_inputs(args, parser)
    try:
        _check_crf(args if args.inputs is None else _video_args(
            args, None, _many_output(args, 'video')))
    except ValueError as err:
        parser.error(str(err))
    if args.viewer and args.size:
        parser.error('--viewer reads the input again and needs a video file '
                     'or frame folder, not a raw .yuv (--size).')
    return args


def _is_video_file(path: Optional[str]) -> bool:
    return path is not None and bool(osp.splitext(path)[1])


def _check_crf(args: argparse.Namespace) -> None:
    """An explicit --crf is used or refused, never silently dropped."""
    if args.crf is None:
        return
    named = [(option, path)
             for option, path in (('--output', args.output),
                                  ('--save-mask', args.save_mask))
             if _is_video_file(path)]
    if not named:
        raise ValueError(
            f'--crf {args.crf}: --output {args.output} is a folder of PNG '
            'frames (lossless); --crf sets the quality of a lossy video '
            'file (.mp4, or .mkv with --codec libx264/libx265).')
    for option, path in named:
        codec = video_codec(path, args.codec)
        if codec not in ('libx264', 'libx265'):
            raise ValueError(
                f'--crf {args.crf} does not apply to {option} {path}: it is '
                f'written with {codec}, which is lossless (.mkv defaults to '
                'FFV1); add --codec libx264 or --codec libx265 for a lossy '
                'file, or drop --crf.')


def _output_crf(path: str, args: argparse.Namespace) -> Optional[int]:
    """--crf for a user-named video file, else :func:`default_crf`."""
    if args.crf is not None:
        return args.crf
    return default_crf(path, args.codec)


def viewer_path(args: argparse.Namespace) -> str:
    """``<output stem>.html`` (its videos in ``<stem>_viewer_files/``)."""
    return osp.splitext(args.output.rstrip('/'))[0] + '.html'


def plan_outputs(args: argparse.Namespace) -> Dict[str, str]:
    """Output name -> path, every path checked before anything runs.

    Refused (:class:`OutputPathError`): an output equal to, inside, or (a
    folder) holding the input or the reference; two outputs that are one
    path or one inside the other; an existing output without
    ``--overwrite``; a folder where a file goes or a file where a folder
    goes.
    """
    inputs = (args.input, args.reference)
    outputs = {'fused_sharp': args.output}
    options = {'fused_sharp': '--output'}
    if args.save_intermediates:
        check_output_path(
            args.save_intermediates,
            inputs,
            kind='container',
            name='--save-intermediates')
        # lossless videos, or frame folders when the output is a folder
        ext = '.mkv' if _is_video_file(args.output) else ''
        for name in INTERMEDIATES:
            outputs[name] = osp.join(args.save_intermediates, name + ext)
            options[name] = '--save-intermediates'
    if args.save_mask:
        outputs['mask'] = args.save_mask
        options['mask'] = '--save-mask'
    files = dict(outputs)
    if args.reference:
        base = osp.splitext(args.output.rstrip('/'))[0] + '_metrics'
        for ext in ('.md', '.json'):
            files['metrics' + ext] = base + ext
            options['metrics' + ext] = 'metrics file'
    if args.viewer:
        files['viewer'] = viewer_path(args)
        files['viewer files'] = viewer_files_dir(files['viewer'])
        options['viewer'] = options['viewer files'] = '--viewer'
    for name, path in files.items():
        check_output_path(
            path,
            inputs,
            kind='file' if _is_video_file(path) or name == 'viewer' else
            'folder',
            overwrite=args.overwrite,
            name=options[name])
        if name in outputs and _is_video_file(path):
            try:
                video_codec(path, args.codec)
            except ValueError as err:
                raise OutputPathError(f'{options[name]} {err}') from None
    names = list(files)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pa, pb = osp.realpath(files[a]), osp.realpath(files[b])
            if pa == pb or pb.startswith(pa + os.sep) or pa.startswith(
                    pb + os.sep):
                raise OutputPathError(
                    f'{options[b]} {files[b]} and {options[a]} {files[a]} '
                    'are the same path or one lies inside the other; give '
                    'each output its own path.')
    return outputs


# rows drawn as per-frame curves in the viewer, and their labels there
CURVE_ROWS = {'lq': 'input', 'stage1': 'stage 1', 'fused_sharp': 'enhanced'}


class ReferenceScores:
    """Per-frame PSNR/SSIM of every pipeline row against a reference.

    Args:
        name (str): The reference's name, for the table.
        lpips_rows (tuple[str]): Rows whose per-frame LPIPS-alex is also
            computed (for the viewer's curves). Default: none.
    """

    def __init__(self, name: str, lpips_rows: tuple = ()) -> None:
        self.name = name
        self.lpips_rows = lpips_rows
        self.per_frame = {
            row: dict(PSNR=[], SSIM=[], **({
                'LPIPS': []
            } if row in lpips_rows else {}))
            for row in ROWS
        }

    @property
    def count(self) -> int:
        return len(self.per_frame[ROWS[0]]['PSNR'])

    def add(self, result: Dict[str, np.ndarray], ref: np.ndarray) -> None:
        for row in ROWS:
            values = self.per_frame[row]
            values['PSNR'].append(frame_psnr(result[row], ref))
            values['SSIM'].append(frame_ssim(result[row], ref))
            if row in self.lpips_rows:
                values['LPIPS'].append(frame_lpips(result[row], ref))

    def table(self) -> Dict[str, Dict[str, Dict[str, float]]]:
        """Row -> metric -> {video: mean over frames} (PSNR and SSIM)."""
        return {
            row: {
                metric: {
                    self.name: float(np.mean(values[metric]))
                    if values[metric] else 0.
                }
                for metric in ('PSNR', 'SSIM')
            }
            for row, values in self.per_frame.items()
        }

    def curves(self) -> Dict[str, Dict[str, List[float]]]:
        """Metric -> viewer label -> per-frame values (the viewer's)."""
        metrics = ('PSNR', 'LPIPS') if self.lpips_rows else ('PSNR', )
        return {
            metric: {
                label: self.per_frame[row][metric]
                for row, label in CURVE_ROWS.items()
                if metric in self.per_frame[row]
            }
            for metric in metrics
        }

    def mean_psnr(self, row: str) -> float:
        return float(np.mean(self.per_frame[row]['PSNR']))

    def write(self, base: str, encoding: Optional[dict] = None) -> str:
        """Write ``base.md`` / ``base.json``; returns the markdown.

        ``encoding`` (:func:`measure_encoding`) is added to both.
        """
        table = self.table()
        markdown = (f'Frames: {self.count}, reference: {self.name}\n\n' +
                    table_markdown(table, ROW_TITLES))
        report = dict(frames=self.count, table=table)
        if encoding is not None:
            markdown += f'\n{encoding_line(encoding)}\n'
            report['encoding'] = encoding
        report['per_frame'] = self.per_frame
        atomic_write_text(base + '.md', markdown)
        atomic_write_text(base + '.json', json.dumps(report, indent=2))
        return markdown


def measure_encoding(path: str, args: argparse.Namespace,
                     scores: ReferenceScores) -> Dict[str, object]:
    """Decode the written output again and score it against the reference.

    Returns:
        dict: ``file``, ``psnr`` (the decoded file's), ``scored_psnr`` (the
        frames before encoding), ``cost_db`` (their difference) and
        ``gain_db`` (the scored frames' PSNR minus the input's).
    """
    ref_size = args.size if args.reference.lower().endswith('.yuv') else None
    refs = read_frames(args.reference, size=ref_size, pix_fmt=args.pix_fmt,
                       max_frames=args.max_frames)
    pairs = iter_pairs(read_frames(path), refs, (path, args.reference))
    psnrs = [
        frame_psnr(frame, ref) for frame, ref in tqdm(
            pairs, total=scores.count, unit='frame',
            desc=f'checking {osp.basename(path.rstrip("/"))}')
    ]
    if len(psnrs) != scores.count:
        raise ValueError(f'{path}: decoded {len(psnrs)} frames, '
                         f'{scores.count} were written.')
    scored = scores.mean_psnr('fused_sharp')
    final = float(np.mean(psnrs))
    return dict(
        file=path,
        psnr=final,
        scored_psnr=scored,
        cost_db=scored - final,
        gain_db=scored - scores.mean_psnr('lq'))


def encoding_line(encoding: Dict[str, object]) -> str:
    return (f'encoding cost: {encoding["cost_db"]:.3f} dB (enhancement '
            f'gained {encoding["gain_db"]:+.3f} dB)')


class FrameProgress:
    """A frame bar (total, rate, ETA) that also moves inside a chunk.

    :func:`stream_enhance` hands out a chunk's frames only when the whole
    chunk is computed (a minute on a CPU); in between, the bar advances
    with the networks' recurrent steps: every :class:`EnhanceNet` calls
    ``backward_resblocks`` and ``forward_resblocks`` once per frame, which
    forward hooks count.

    Args:
        model (nn.Module): The model whose EnhanceNets are counted.
        total (int, optional): Frames to come (None: unknown; the bar then
            moves per frame written).
        chunk (int): Frames per chunk (``--max-seq-len``).
        desc (str): The bar's label.
    """

    def __init__(self, model, total: Optional[int], chunk: int,
                 desc: str) -> None:
        nets = [m for m in model.modules() if isinstance(m, EnhanceNet)]
        self.total, self.chunk = total, chunk
        self.done = self.steps = 0
        self.steps_per_chunk = 1
        self.bar = tqdm(
            total=total,
            unit='frame',
            desc=desc,
            # the position is fractional inside a chunk
            bar_format=('{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/'
                        '{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]')
            if total else None)
        self.handles = []
        if total:
            for net in nets:
                self.handles.append(
                    net.register_forward_pre_hook(self._chunk_start))
                for block in (net.backward_resblocks, net.forward_resblocks):
                    self.handles.append(block.register_forward_hook(
                        self._step))
        self.steps_per_frame = 2 * max(len(nets), 1)

    def _chunk_start(self, module, inputs) -> None:
        # inputs[0]: (n, t, c, h, w), the chunk with its context frames
        self.steps_per_chunk = self.steps_per_frame * inputs[0].size(1)

    def _step(self, module, inputs, output) -> None:
        self.steps += 1
        coming = min(self.chunk, self.total - self.done)
        ahead = coming * min(1., self.steps / self.steps_per_chunk)
        self.bar.update(max(0., self.done + ahead - self.bar.n))

    def frame_done(self, count: int) -> None:
        """``count`` frames are written."""
        self.done, self.steps = count, 0
        self.bar.update(max(0, count - self.bar.n))

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.bar.close()


def _check_reference(frame: np.ndarray, ref: np.ndarray, args) -> None:
    if frame.shape != ref.shape:
        raise ValueError(
            f'Reference {args.reference} has frames of {ref.shape[1]}x'
            f'{ref.shape[0]}, input {args.input} of {frame.shape[1]}x'
            f'{frame.shape[0]}: --reference must be the source of the input.')


def enhance_video(args: argparse.Namespace) -> Dict[str, str]:
    """Run the pipeline; returns output name -> path."""
    for path in (args.input, args.reference):
        if path is not None and not osp.exists(path):
            raise FileNotFoundError(f'{path} does not exist.')
    size = args.size
    outputs = plan_outputs(args)
    # counted (a pass over the packets, no decoding): the bar's total
    info = probe_video(
        args.input, size=size, pix_fmt=args.pix_fmt, count_frames=True)
    fps = args.fps or info.fps or 25.
    total = info.num_frames
    if args.max_frames:
        total = min(total, args.max_frames) if total else args.max_frames

    model = init_astf_model(args.config, args.checkpoints,
                            args.cfg_options, args.sha256).to(args.device)
    fusion = model.fusion
    amount = fusion.sharpen_amount if fusion.sharpen else 0.
    print(f'{args.config}: unsharp-mask amount {amount:g}' +
          (' (no sharpening: fuse+sharp = fuse)' if amount == 0 else ''))
    if args.save_intermediates:
        os.makedirs(args.save_intermediates, exist_ok=True)

    frames = read_frames(
        args.input, size=size, pix_fmt=args.pix_fmt,
        max_frames=args.max_frames)
    results = stream_enhance(frames, model.enhance_chunk, args.max_seq_len,
                             args.overlap, args.device)
    scores = None
    if args.reference:
        ref_size = size if args.reference.lower().endswith('.yuv') else None
        refs = read_frames(
            args.reference,
            size=ref_size,
            pix_fmt=args.pix_fmt,
            max_frames=args.max_frames)
        results = iter_pairs(results, refs, (args.input, args.reference))
        scores = ReferenceScores(
            osp.basename(args.reference),
            lpips_rows=tuple(CURVE_ROWS) if args.viewer else ())
    with ExitStack() as stack:
        writers = {
            name: stack.enter_context(
                open_writer(
                    path,
                    fps=fps,
                    codec=args.codec,
                    crf=(_output_crf(path, args)
                         if name in ('fused_sharp', 'mask') else None),
                    overwrite=args.overwrite))
            for name, path in outputs.items()
        }
        progress = FrameProgress(model, total, args.max_seq_len or total
                                 or 1, 'ASTF')
        stack.callback(progress.close)
        for count, item in enumerate(results, 1):
            result = item
            if scores is not None:
                result, ref = item
                _check_reference(result['lq'], ref, args)
                scores.add(result, ref)
            for name, writer in writers.items():
                frame = result[name]
                if frame.shape[-1] == 1:
                    frame = frame.repeat(3, axis=-1)
                writer.write(frame)
            progress.frame_done(count)
    if scores is not None:
        # what the user gets is the written file, not the scored frames
        encoding = measure_encoding(outputs['fused_sharp'], args, scores)
        base = osp.splitext(args.output.rstrip('/'))[0] + '_metrics'
        print(scores.write(base, encoding))
        if encoding['cost_db'] > max(encoding['gain_db'], 0.):
            print(f'warning: {args.output} lost {encoding["cost_db"]:.3f} dB '
                  'to its encoding, more than the enhancement gained '
                  f'({encoding["gain_db"]:+.3f} dB): the file is worse than '
                  'the frames that were scored by more than they improved '
                  'on the input. Write a lossless .mkv (FFV1), or a lower '
                  '--crf.', file=sys.stderr)
        outputs['metrics'] = base + '.md'
    if args.viewer:
        streams = {'input': args.input}
        labels = dict(stage1='stage 1', fused_sharp='enhanced', mask='mask')
        for name, label in labels.items():
            if name in outputs:
                streams[label] = outputs[name]
        if args.reference:
            streams['reference'] = args.reference
        page = write_viewer(
            viewer_path(args),
            streams,
            metrics=scores.curves() if scores is not None else None,
            title=f'ASTF: {osp.basename(args.input)}',
            fps=fps,
            overwrite=args.overwrite)
        outputs['viewer'] = page.html
    return outputs


# ---------------------------------------------------------------------------
# many videos, split across torchrun's processes

MANY_FORMATS = ('mp4', 'mkv', 'png')
MANY_MANIFEST = 'enhance_manifest.json'
ONE_VIDEO_OPTIONS = ('reference', 'save_intermediates', 'save_mask', 'viewer')


def list_videos(inputs: List[str]) -> Dict[str, str]:
    """Name -> path of every video the inputs name.

    An input is a video file, a folder of frames, or a folder of videos
    (video files and folders of frames, taken in natural order). The name
    is the file's stem or the folder's name; two videos of one name are
    refused (their outputs would collide).
    """
    videos = {}
    for path in inputs:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path} does not exist.')
        found = [path]
        if osp.isdir(path) and not list_frame_files(path):
            found = [
                osp.join(path, n) for n in sorted(os.listdir(path),
                                                  key=natural_key)
                if osp.splitext(n)[1].lower() in VIDEO_EXTENSIONS or (
                    osp.isdir(osp.join(path, n))
                    and list_frame_files(osp.join(path, n)))
            ]
            if not found:
                raise ValueError(
                    f'{path}: holds no frames, no video files '
                    f'({", ".join(VIDEO_EXTENSIONS)}) and no folders of '
                    'frames.')
        for video in found:
            name = osp.splitext(osp.basename(osp.normpath(video)))[0]
            if name in videos:
                raise ValueError(
                    f'{videos[name]} and {video} are both named "{name}": '
                    'their outputs would collide; rename one.')
            videos[name] = video
    return videos


def _split_inputs(args: argparse.Namespace,
                  parser: argparse.ArgumentParser) -> None:
    """One video: ``args.input`` is its path, ``args.inputs`` None. Several
    (or a folder of videos): ``args.inputs`` maps names to paths."""
    args.inputs = None
    if len(args.input) == 1:
        path = args.input[0]
        if not (osp.isdir(path) and not list_frame_files(path)
                and os.listdir(path)):
            args.input = path
            if int(os.environ.get('WORLD_SIZE', 1)) > 1:
                parser.error('torchrun splits several videos across its '
                             'processes: give several inputs or a folder '
                             'of videos, or run one video without torchrun.')
            if args.output_format:
                parser.error('--output-format applies to several videos; '
                             'the --output name sets the format of one.')
            return
    args.output_format = args.output_format or MANY_FORMATS[0]
    try:
        args.inputs = list_videos(args.input)
    except (FileNotFoundError, ValueError) as err:
        parser.error(str(err))
    args.input = None
    used = [o for o in ONE_VIDEO_OPTIONS if getattr(args, o)]
    if used:
        parser.error(f'--{used[0].replace("_", "-")} applies to one video; '
                     'run the videos one by one to use it.')
    if _is_video_file(args.output):
        parser.error(f'--output {args.output}: with several videos, a '
                     'folder (each video becomes <name>.'
                     f'{args.output_format} in it).')


def _many_output(args: argparse.Namespace, name: str) -> str:
    ext = '' if args.output_format == 'png' else '.' + args.output_format
    return osp.join(args.output, name + ext)


def _video_args(args: argparse.Namespace, source: Optional[str],
                output: str, **changes) -> argparse.Namespace:
    """The options of one video of a many-video run."""
    return argparse.Namespace(
        **dict(vars(args), input=source, output=output, **changes))


def enhance_many(args: argparse.Namespace) -> List[str]:
    """Enhance ``args.inputs`` into ``args.output``, this process's share
    under torchrun; returns the videos written (by every process)."""
    dist = init_dist(args.device)
    check_output_path(
        args.output, args.inputs.values(), kind='container', name='--output')
    tasks = [
        VideoTask(name, path, _many_output(args, name))
        for name, path in args.inputs.items()
    ]
    # what the outputs depend on: a video done with other settings is redone
    settings = {
        k: v
        for k, v in vars(args).items()
        if k not in ('input', 'inputs', 'output', 'overwrite', 'device')
    }
    key = sha256(json.dumps(settings, sort_keys=True,
                            default=str).encode()).hexdigest()

    def count_frames(task: VideoTask) -> int:
        info = probe_video(
            task.source, size=args.size, pix_fmt=args.pix_fmt,
            count_frames=True)
        return min(info.num_frames, args.max_frames or info.num_frames)

    def process(task: VideoTask) -> None:
        enhance_video(
            _video_args(args, task.source, task.output, device=dist.device))

    return run_sharded(tasks, process, count_frames,
                       osp.join(args.output, MANY_MANIFEST), key, dist)


def _main_many(args: argparse.Namespace) -> None:
    try:
        written = enhance_many(args)
    except ValueError as err:  # OutputPathError, a refused --device
        sys.exit(f'error: {err}')
    if int(os.environ.get('RANK', 0)) == 0:
        print(f'Enhanced {len(written)} videos into {args.output}'
              f' ({", ".join(written) or "all were done"}).')


def main() -> None:
    args = parse_args()
    if args.inputs is not None:
        return _main_many(args)
    try:
        outputs = enhance_video(args)
    except OutputPathError as err:
        sys.exit(f'error: {err}')
    for name, path in outputs.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    exit_on_sigterm()  # like Ctrl-C: temporaries removed
    with quiet_third_party_warnings():
        main()
