from astf_mm.utils.machine import cpu_name


def test_cpu_name_is_the_proc_cpuinfo_model_name():
    with open('/proc/cpuinfo') as f:
        names = [
            line.split(':', 1)[1].strip() for line in f
            if line.startswith('model name')
        ]
    assert cpu_name() == names[0]
    assert cpu_name() not in ('', 'unknown CPU')
