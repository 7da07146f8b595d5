"""The console commands run the shipped tools/ scripts (astf_mm/cli.py)."""
import os.path as osp
import sys
import tomllib

from astf_mm import cli
from astf_mm.utils.shipped_files import SAMPLE_ASTF_CONFIG, SHIPPED_ROOT
from tests.utils import ROOT

SAMPLE = SAMPLE_ASTF_CONFIG


def test_every_console_script_runs_its_tool():
    with open(osp.join(ROOT, 'pyproject.toml'), 'rb') as f:
        scripts = tomllib.load(f)['project']['scripts']
    assert sorted(scripts) == sorted(cli.COMMANDS)
    for name, target in scripts.items():
        module, _, function = target.partition(':')
        assert module == 'astf_mm.cli'
        assert getattr(cli, function).__doc__ == (
            f'Run tools/{cli.COMMANDS[name]} with the command line\'s '
            'arguments.')
        assert osp.isfile(osp.join(ROOT, 'tools', cli.COMMANDS[name]))


def test_scoped_and_shipped_config_arguments_are_resolved(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = osp.join(SHIPPED_ROOT, 'configs', SAMPLE)
    assert cli._resolve_config_arg('astf_mm::' + SAMPLE) == path
    assert cli._resolve_config_arg('--config=astf_mm::' + SAMPLE) == (
        '--config=' + path)
    assert cli._resolve_config_arg('configs/' + SAMPLE) == path
    for kept in ('--work-dir', 'out', 'mine.py', 'model.x=1'):
        assert cli._resolve_config_arg(kept) == kept


def test_run_tool_runs_the_script_as_main(capsys):
    argv = list(sys.argv)
    assert cli.run_tool('test.py', ['--help']) == 0
    assert capsys.readouterr().out.startswith('usage: test.py [-h]')
    # argparse's exit status comes back, and sys.argv is restored
    assert cli.run_tool('test.py', []) == 2
    assert 'the following arguments are required: config' in (
        capsys.readouterr().err)
    assert sys.argv == argv


def test_run_tool_refuses_what_is_not_shipped(capsys):
    assert cli.run_tool('none.py', []) == 2
    assert capsys.readouterr().err.startswith(
        'error: ' + osp.join(SHIPPED_ROOT, 'tools', 'none.py') +
        ' does not exist')
    assert cli.run_tool('test.py', ['astf_mm::astf/none.py']) == 2
    assert capsys.readouterr().err.startswith(
        'error: astf_mm::astf/none.py: no such config in the package')


def test_module_main_lists_the_commands(capsys):
    assert cli.main(['--help']) == 0
    out = capsys.readouterr().out
    assert out.startswith('usage: python -m astf_mm.cli TOOL [ARGS]')
    assert '  astf-enhance            tools/enhance_video.py\n' in out
    assert cli.main([]) == 2
