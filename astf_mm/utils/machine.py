"""The machine a measurement ran on, for the reports that state it."""
import platform


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (or ``platform``)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown CPU'
