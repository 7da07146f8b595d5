"""Command-line helpers: astf_mm.utils.cli."""
import argparse

import pytest

from astf_mm.utils.cli import (add_astf_model_args, add_cfg_options_arg,
                               parse_size)
from astf_mm.utils.launch import add_launch_args


def test_parse_size():
    assert parse_size('480x270') == (480, 270)
    assert parse_size('64X48') == (64, 48)
    assert parse_size(None) is None
    for bad in ('480', '480x270x3', 'ax270', ''):
        with pytest.raises(argparse.ArgumentTypeError,
                           match='must look like 480x270'):
            parse_size(bad)
    with pytest.raises(argparse.ArgumentTypeError, match='positive: "0x4"'):
        parse_size('0x4')


def test_parse_size_as_argparse_type(capsys):
    parser = argparse.ArgumentParser(prog='tool')
    parser.add_argument('--size', type=parse_size)
    assert parser.parse_args(['--size', '32x16']).size == (32, 16)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(['--size', '32'])
    assert exit_info.value.code == 2
    assert 'argument --size: size must look like 480x270 (WxH), got "32"' in (
        capsys.readouterr().err)


@pytest.mark.parametrize('add', [
    add_cfg_options_arg,
    lambda parser: add_launch_args(parser, 'work dir'),
])
def test_cfg_options(add):
    # one definition: add_launch_args adds it through add_cfg_options_arg
    parser = argparse.ArgumentParser()
    add(parser)
    args = parser.parse_args(
        ['--cfg-options', 'train_cfg.max_iters=100', 'a.b=[1,2]', 'c=x'])
    assert args.cfg_options == {
        'train_cfg.max_iters': 100,
        'a.b': [1, 2],
        'c': 'x'
    }
    assert parser.parse_args([]).cfg_options is None


def test_sha256_option_uses_the_one_check(capsys):
    parser = argparse.ArgumentParser()
    add_astf_model_args(parser)
    digest = 'AB' * 32
    args = parser.parse_args(['--sha256', digest, 'c' * 64, '0' * 64])
    assert args.sha256 == ['ab' * 32, 'c' * 64, '0' * 64]
    for bad in ('ab' * 31, 'g' * 64, 'a' * 65):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(['--sha256', bad, 'c' * 64, 'c' * 64])
        assert exit_.value.code == 2
        assert (f'argument --sha256: a sha256 is 64 hex digits, got "{bad}" '
                f'({len(bad)} characters)') in capsys.readouterr().err
