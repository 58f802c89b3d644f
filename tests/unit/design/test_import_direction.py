# -*- coding: utf-8 -*-
"""The one-way flow, enforced: parse every import in plugins/ and fail on an edge against it.

common <- k8s <- evidence <- diagnosis; remediation never imports diagnosis; records imports nothing
from remediation but the operation-store ids; module payload code never imports controller-only
plugin_utils. The allowed table below is the contract drawn in docs/design/contracts.md.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLUGINS = ROOT / "plugins"
MU = "ansible_collections.aiops.k8s.plugins.module_utils"
PU = "ansible_collections.aiops.k8s.plugins.plugin_utils"

# stage -> the stages it may import (itself always allowed)
ALLOWED = {
    "common": set(),
    "k8s": {"common"},
    "evidence": {"common", "k8s"},
    "diagnosis": {"common", "evidence"},
    "remediation": {"common", "k8s", "evidence"},
    "records": {"common"},
    "runner": {"common", "evidence", "diagnosis", "remediation"},
}
# The single permitted exception: records may read operation ids and paths from the operation store.
EXCEPTIONS = {("records", MU + ".remediation.opstore")}
# Stages allowed to import a Kubernetes client or kubernetes.core (the adapters); the rest stay pure.
CLIENT_STAGES = {"k8s"}
MAX_LINES = 550


def _stage(path):
    rel = path.relative_to(PLUGINS / "module_utils")
    return rel.parts[0][:-3] if len(rel.parts) == 1 else rel.parts[0]


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in (MU, PU):
                for alias in node.names:
                    yield node.lineno, "%s.%s" % (node.module, alias.name)
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _module_utils_files():
    return sorted((PLUGINS / "module_utils").rglob("*.py"))


@pytest.mark.parametrize("path", _module_utils_files(), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_module_utils_imports_follow_the_flow(path):
    stage = _stage(path)
    if stage == "__init__":
        return
    assert stage in ALLOWED, "%s is outside the staged layout (%s)" % (path, ", ".join(ALLOWED))
    bad = []
    for line, name in _imports(path):
        if name.startswith(PU):
            bad.append("%d: %s (controller-only code in a module payload)" % (line, name))
        elif name.startswith(MU + "."):
            target = name[len(MU) + 1:].split(".")[0]
            if target != stage and target not in ALLOWED[stage] and (stage, name) not in EXCEPTIONS:
                bad.append("%d: %s (%s may not import %s)" % (line, name, stage, target))
        elif name.split(".")[0] in ("kubernetes", "urllib3") or name.startswith("ansible_collections.kubernetes"):
            if stage not in CLIENT_STAGES:
                bad.append("%d: %s (only k8s/ talks to a client)" % (line, name))
        elif name.split(".")[0] == "ansible" and not name.startswith("ansible.module_utils"):
            bad.append("%d: %s (module_utils never imports controller code)" % (line, name))
    assert not bad, "%s imports against the flow:\n  %s" % (path.relative_to(ROOT), "\n  ".join(bad))


def test_no_file_in_plugins_is_oversized():
    big = ["%s: %d lines" % (p.relative_to(ROOT), n) for p in sorted(PLUGINS.rglob("*.py"))
           for n in [len(p.read_text(encoding="utf-8").splitlines())] if n > MAX_LINES]
    assert not big, "split these by concern (limit %d lines):\n  %s" % (MAX_LINES, "\n  ".join(big))


def test_the_check_catches_a_back_edge(tmp_path, monkeypatch):
    """The checker itself must fail on a forbidden edge (a test that cannot fail is a defect)."""
    fake = PLUGINS / "module_utils" / "diagnosis" / "classify.py"
    source = fake.read_text(encoding="utf-8") + "\nfrom %s.remediation import proposals\n" % MU
    probe = tmp_path / "classify.py"
    probe.write_text(source, encoding="utf-8")
    edges = [name for _line, name in _imports(probe) if name.startswith(MU + ".remediation")]
    assert edges and not ALLOWED["diagnosis"] & {"remediation"}
