"""Path-state log signatures (diagnosis/logsig.py): the log names a path and its state, often with no error
keyword; the diagnosis explains it and the headline (remediation/steps.py) says the change to the volume or the
start-up step. Lines from the development-half threads of corpus/dev_2026_12_logsig.yaml and their variants."""

from __future__ import annotations

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis.logsig import find_signature
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import steps


@pytest.mark.parametrize("text, kind, path", [
    ('initdb: error: directory "/var/lib/postgresql/data" exists but is not empty\nIt contains a lost+found '
     'directory, perhaps due to it being a mount point.\nCreate a subdirectory under the mount point.\n',
     "dir_not_empty", "/var/lib/postgresql/data"),
    ("rm: cannot remove '/data/cache': Directory not empty\n", "dir_not_empty", "/data/cache"),
    ("2020-12-11T00:53:55Z 1 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11\n"
     "[Note] InnoDB: Check that you do not already have another mysqld process using the same InnoDB data.\n",
     "lock_held", "./ibdata1"),
    ("/bin/ln: failed to create symbolic link '/var/run/argocd/argocd-cmp-server': File exists\n",
     "file_exists", "/var/run/argocd/argocd-cmp-server"),
    ("mkdir: cannot create directory '/tmp/certs': File exists\n", "file_exists", "/tmp/certs"),
    ("mkdir: cannot create directory \u2018data/zookeeper\u2019: Permission denied\n", "path_permission",
     "data/zookeeper"),
    ("Error: EACCES: permission denied, mkdir '/data/whosonfirst'\n", "path_permission", "/data/whosonfirst"),
])
def test_path_signatures(text, kind, path):
    signature = find_signature(text)
    assert signature["kind"] == kind
    assert signature["facts"].get("path") == path
    assert path in signature["explanation"]


@pytest.mark.parametrize("text", [
    "exec /app/run: permission denied\n",                      # an entrypoint that is not executable: exit 126
    "standard_init_linux.go:228: exec user process caused: permission denied\n",
    "INFO lock acquired, leader election won\n",
    "listing /data: 3 files exist\n",
])
def test_lookalikes_are_not_path_signatures(text):
    signature = find_signature(text)
    assert not signature or signature["kind"] not in ("dir_not_empty", "lock_held", "file_exists", "path_permission")


@pytest.mark.parametrize("kind, line, start", [
    ("dir_not_empty", 'initdb: directory "/var/lib/postgresql/data" exists but is not empty',
     "Initialise container db into an empty subdirectory of its volume"),
    ("lock_held", "[InnoDB] Unable to lock ./ibdata1 error: 11", "Stop the other process holding the lock on ./ibdata1"),
    ("file_exists", "ln: failed to create symbolic link '/tmp/dse.sock': File exists",
     "Make the start-up step of container db idempotent (ln -sf, mkdir -p) or clear /tmp/dse.sock"),
    ("path_permission", "mkdir: cannot create directory '/bitnami/mariadb/data': Permission denied",
     "Let container db write /bitnami/mariadb/data: set the pod's securityContext.fsGroup"),
])
def test_headline_says_the_change(kind, line, start):
    result = {"facts": {"signature": kind, "exit_code": 1}, "culprit": {},
              "evidence": [{"source": "log db (previous)", "detail": line}]}
    assert steps.crash_title("CrashLoopBackOff", result, "db", "StatefulSet db").startswith(start)
