from .launch import apply_cli_options, setup_cpu_distributed

__all__ = ['apply_cli_options', 'setup_cpu_distributed']
