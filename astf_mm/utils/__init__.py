from .launch import (add_launch_args, apply_cli_options, parse_launch_args,
                     setup_cpu_distributed)

__all__ = [
    'add_launch_args', 'apply_cli_options', 'parse_launch_args',
    'setup_cpu_distributed'
]
