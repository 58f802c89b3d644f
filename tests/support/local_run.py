"""The ``run`` callable signatures.sign / SignatureVerifier take, for tests and benchmarks (modules pass
signatures.runner_for(module), which goes through AnsibleModule.run_command)."""

import subprocess


def local_run(args, data=None):
    proc = subprocess.run(list(args), input=data, capture_output=True, timeout=30, check=False)
    return proc.returncode, proc.stdout, proc.stderr
