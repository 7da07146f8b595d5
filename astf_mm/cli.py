"""Console commands: each runs one of the shipped ``tools/`` scripts.

``astf-enhance ARGS`` is ``python tools/enhance_video.py ARGS`` run from
wherever the package is installed (the ``.mim/tools`` copy in a wheel, the
repository's ``tools/`` in a checkout), as ``mim run`` does: the scripts
stay the one implementation. ``python -m astf_mm.cli TOOL ARGS`` runs any
shipped tool by its path under ``tools/`` (``data/compress_videos.py``).

A config argument may name a shipped config as ``astf_mm::PATH`` (``PATH``
under ``configs/``), and a ``.py`` argument that does not exist under the
working directory is looked up among the shipped files
(:mod:`astf_mm.utils.shipped_files`).
"""
import os.path as osp
import runpy
import sys
from typing import Callable, List, Optional, Sequence

from astf_mm.utils.shipped_files import (CONFIG_SCOPE, resolve_config,
                                         shipped_path)

# console command -> its script under tools/ (pyproject.toml names the
# functions below)
COMMANDS = {
    'astf-enhance': 'enhance_video.py',
    'astf-train': 'train.py',
    'astf-test': 'test.py',
    'astf-make-sample-data': 'data/make_sample_data.py',
    'astf-fetch-weights': 'fetch_weights.py',
    'astf-draw-panel': 'draw_panel.py',
    'astf-export-stage1': 'export_stage1.py',
}


def _resolve_config_arg(arg: str) -> str:
    option, eq, value = arg.partition('=')
    if eq and option.startswith('--'):
        return option + eq + _resolve_config_arg(value)
    if arg.startswith(CONFIG_SCOPE) or arg.endswith('.py'):
        return resolve_config(arg)
    return arg


def run_tool(tool: str, argv: Optional[Sequence[str]] = None) -> int:
    """Run a shipped tool script as ``python tools/TOOL ARGV`` would.

    Args:
        tool (str): Its path under ``tools/``, e.g. ``'test.py'``.
        argv (Sequence[str], optional): Its arguments. Default: the
            command line's.

    Returns:
        int: 0 when the script returns; its exit status when it calls
        ``sys.exit``.
    """
    script = shipped_path(osp.join('tools', tool))
    if not osp.isfile(script):
        print(f'error: {script} does not exist: this installation of '
              'astf_mm has no such tool (reinstall it from the wheel, or '
              'see python -m astf_mm.cli --help)', file=sys.stderr)
        return 2
    try:
        args = [
            _resolve_config_arg(arg)
            for arg in (sys.argv[1:] if argv is None else argv)
        ]
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    saved_argv = sys.argv
    # as `python SCRIPT ARGS` sees it (the tools import only the package
    # and libraries, never a sibling script, so sys.path stays as it is)
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved_argv
    return 0


def _command(tool: str) -> Callable[[], int]:

    def command() -> int:
        return run_tool(tool)

    command.__doc__ = f'Run tools/{tool} with the command line\'s arguments.'
    return command


enhance = _command(COMMANDS['astf-enhance'])
train = _command(COMMANDS['astf-train'])
test = _command(COMMANDS['astf-test'])
make_sample_data = _command(COMMANDS['astf-make-sample-data'])
fetch_weights = _command(COMMANDS['astf-fetch-weights'])
draw_panel = _command(COMMANDS['astf-draw-panel'])
export_stage1 = _command(COMMANDS['astf-export-stage1'])


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m astf_mm.cli TOOL [ARGS]``: run any shipped tool.

    Args:
        argv (list[str], optional): ``TOOL`` and its arguments.
            Default: the command line's.

    Returns:
        int: The tool's exit status.
    """
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ('-h', '--help'):
        print('usage: python -m astf_mm.cli TOOL [ARGS]   (TOOL: a path '
              f'under {shipped_path("tools")}, e.g. test.py)\n'
              'console commands:\n' + ''.join(
                  f'  {name:24}tools/{tool}\n'
                  for name, tool in COMMANDS.items()))
        return 0 if argv else 2
    return run_tool(argv[0], argv[1:])


if __name__ == '__main__':
    sys.exit(main())
