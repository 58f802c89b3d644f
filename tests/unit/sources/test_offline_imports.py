"""A dump scan never loads the kubernetes client (about 0.4 s of start-up it does not need)."""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

SCRIPT = """
import sys
sys.path[:0] = [%(repo)r, %(collections)r]
from ansible_collections.aiops.k8s.plugins.modules import pod_diagnose
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose
spec = pod_diagnose.argument_spec()
result = diagnose(DumpSource(%(dump)r).gather(Target(all_namespaces=True)))
assert result["scanned"] > 0 and "kubeconfig" in spec
print(sorted(name for name in sys.modules if name.split(".")[0] in ("kubernetes", "urllib3")))
"""


def test_dump_scan_does_not_import_the_kubernetes_client():
    script = SCRIPT % dict(repo=REPO, collections=os.path.join(REPO, ".collections"),
                           dump=os.path.join(REPO, "examples", "cluster-dump"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
