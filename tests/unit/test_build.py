"""The published tarball: what `make build` ships, and that its module docs render without dependencies."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The ansible-galaxy of the Python running the tests (.venv, or a make test-matrix venv).
BIN = os.path.dirname(sys.executable)

# Top-level folders and files that must never reach Galaxy: developer tooling, caches, build output.
FORBIDDEN_PREFIXES = ("benchmarks/", "scripts/", "tests/output/", ".hypothesis/", ".cache/", ".venv/", ".collections/",
                      "out/", "build/", ".git/", ".ci/", ".benchmarks/", "docs/images/")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                           str(out), REPO], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = [p for p in out.iterdir() if p.name.endswith(".tar.gz")]
    return path


def test_tarball_ships_the_collection_and_nothing_else(tarball):
    with tarfile.open(str(tarball)) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    leaked = [n for n in names if n.startswith(FORBIDDEN_PREFIXES) or n.endswith((".tar.gz", ".pyc"))
              or "/__pycache__/" in n or n.startswith("__pycache__")]
    assert leaked == []
    for required in ("LICENSE", "README.md", "meta/runtime.yml", "plugins/modules/pod_diagnose.py",
                     "plugins/doc_fragments/k8s_auth.py", "playbooks/diagnose_pod.yml", "runbooks/OOMKilled.md",
                     "examples/cluster-dump/nodes.json"):
        assert required in names, required
    info = manifest["collection_info"]
    assert info["license"] == ["GPL-3.0-or-later"]
    urls = [info.get(key) or "" for key in ("repository", "documentation", "issues", "homepage")]
    assert not any("example.invalid" in url for url in urls)


def test_module_docs_render_without_kubernetes_core(tarball, tmp_path):
    """galaxy-importer renders docs from the collection alone: no kubernetes.core doc fragment may be needed."""
    collections = tmp_path / "collections"
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\n")
    # Only the installed tarball is visible: not the checkout's .collections (kubernetes.core, aiops link).
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_CONFIG=str(config),
               ANSIBLE_NOCOLOR="1", HOME=str(tmp_path))
    proc = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p",
                           str(collections), str(tarball)], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not (collections / "ansible_collections" / "kubernetes").exists()
    for module in ("pod_diagnose", "remediate", "remediation_plan", "remediation_validate", "rollback"):
        proc = subprocess.run([os.path.join(BIN, "ansible-doc"), "--json", "aiops.k8s." + module], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "aiops.k8s." + module in json.loads(proc.stdout), proc.stdout + proc.stderr
        doc = json.loads(proc.stdout)["aiops.k8s." + module]["doc"]
        assert {"kubeconfig", "context", "validate_certs", "impersonate_groups"} <= set(doc["options"]), module
