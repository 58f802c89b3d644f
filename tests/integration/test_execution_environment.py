"""execution-environment.yml: ansible-builder generates the build context offline, and it says what we mean.

No container engine runs here, so the image itself is not built; instead the tool-install step of the
generated Containerfile is executed on the host with fake release files (the air-gapped path),
which proves the checksum gate passes matching files and refuses tampered ones.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import json

import pytest
import yaml

from tests.support.fixtures import REPO_ROOT

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
BUILDER = os.path.join(BIN, "ansible-builder")
HEX64 = re.compile(r"^[0-9a-f]{64}$")

needs_builder = pytest.mark.skipif(not os.path.exists(BUILDER),
                                   reason="ansible-builder is not installed in the venv (pip install ansible-builder)")


def collection_version():
    with open(os.path.join(REPO_ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)["version"]


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """Run the documented two commands in a scratch copy of the project layout; return (workdir, out)."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(os.path.join(REPO_ROOT, name), work / name)
    (work / "build" / "tools").mkdir(parents=True)
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                    str(work / "build"), REPO_ROOT], check=True, capture_output=True, timeout=300)
    proc = subprocess.run([BUILDER, "create", "-f", "execution-environment.yml", "--context", "out",
                           "--output-filename", "Containerfile"], cwd=work, capture_output=True, text=True,
                          check=False, timeout=300) if os.path.exists(BUILDER) else None
    if proc is not None:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return work, work / "out"


def ee_definition():
    with open(os.path.join(REPO_ROOT, "execution-environment.yml")) as handle:
        return yaml.safe_load(handle)


def test_definition_names_the_collection_tarball_of_the_current_version():
    ee = ee_definition()
    assert ee["version"] == 3
    tarball = "aiops-k8s-%s.tar.gz" % collection_version()
    names = [c["name"] for c in ee["dependencies"]["galaxy"]["collections"]]
    assert "kubernetes.core" in names
    assert "/build/aiops/%s" % tarball in names
    assert {"src": "build/%s" % tarball, "dest": "aiops"} in ee["additional_build_files"]


@needs_builder
def test_create_writes_a_complete_offline_build_context(context):
    work, out = context
    containerfile = (out / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-core>=2.16,<2.20" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    # Python and system dependencies are the project's own files, unchanged.
    for name in ("requirements.txt", "bindep.txt"):
        assert (out / "_build" / name).read_text() == (work / name).read_text()
    requirements = yaml.safe_load((out / "_build" / "requirements.yml").read_text())
    assert {"name": "kubernetes.core", "version": ">=5.0.0,<7.0.0"} in requirements["collections"]
    tarball = out / "_build" / "aiops" / ("aiops-k8s-%s.tar.gz" % collection_version())
    with tarfile.open(tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        members = archive.getnames()
    assert manifest["collection_info"]["namespace"] == "aiops"
    assert manifest["collection_info"]["name"] == "k8s"
    assert "plugins/inventory/kubeconfig.py" in members
    assert not [m for m in members if m.startswith(".venv") or m.startswith(".collections")]


@needs_builder
def test_every_downloaded_tool_is_pinned_by_version_and_checksum(context):
    dummy, out = context
    containerfile = (out / "Containerfile").read_text()
    args = dict(re.findall(r"^ARG (AIOPS_EE_\w+)=(\S+)$", containerfile, re.M))
    for tool in ("KUBECTL", "HELM", "KUBECTL_AI"):
        assert re.match(r"^\d+\.\d+\.\d+$", args["AIOPS_EE_%s_VERSION" % tool])
        for arch in ("X86_64", "AARCH64"):
            assert HEX64.match(args["AIOPS_EE_%s_SHA256_%s" % (tool, arch)]), (tool, arch)
    assert 'sha256sum -c -' in containerfile
    assert "GoogleCloudPlatform/kubectl-ai/releases/download/v${AIOPS_EE_KUBECTL_AI_VERSION}/" in containerfile
    # The EE and the kubectl_ai role must install the same bytes.
    role_defaults = os.path.join(REPO_ROOT, "roles", "kubectl_ai", "defaults", "main.yml")
    if os.path.exists(role_defaults):
        with open(role_defaults) as handle:
            role = yaml.safe_load(handle)
        version = role["kubectl_ai_version"]
        assert args["AIOPS_EE_KUBECTL_AI_VERSION"] == version
        assert args["AIOPS_EE_KUBECTL_AI_SHA256_X86_64"] == role["kubectl_ai_checksums"][version]["Linux_x86_64"]
        assert args["AIOPS_EE_KUBECTL_AI_SHA256_AARCH64"] == role["kubectl_ai_checksums"][version]["Linux_arm64"]


def _install_step(containerfile, root):
    """The generated tool-install RUN step, with its paths moved under ``root``."""
    match = re.search(r"^RUN (set -eu;.*?kubectl version --client)$", containerfile, re.M | re.S)
    assert match, "tool install step not found in the Containerfile"
    script = match.group(1)
    for path, moved in (("/tmp/aiops-tools", root / "tools"), ("/tmp/aiops-dl", root / "dl"),
                        ("/usr/local/bin", root / "bin")):
        script = script.replace(path, str(moved))
    return script.replace("kubectl version --client", "%s/kubectl version --client" % (root / "bin"))


def _fake_release(root):
    tools = root / "tools"
    tools.mkdir(parents=True)
    (root / "bin").mkdir()
    (tools / "kubectl").write_text("#!/bin/sh\necho 'Client Version: fake'\n")
    os.chmod(tools / "kubectl", 0o755)
    staging = root / "staging"
    (staging / "linux-amd64").mkdir(parents=True)
    (staging / "linux-amd64" / "helm").write_text("#!/bin/sh\necho helm\n")
    (staging / "kubectl-ai").write_text("#!/bin/sh\necho kubectl-ai\n")
    with tarfile.open(tools / "helm-v3.21.4-linux-amd64.tar.gz", "w:gz") as archive:
        archive.add(staging / "linux-amd64" / "helm", "linux-amd64/helm")
    with tarfile.open(tools / "kubectl-ai_Linux_x86_64.tar.gz", "w:gz") as archive:
        archive.add(staging / "kubectl-ai", "kubectl-ai")
    return {name: hashlib.sha256((tools / name).read_bytes()).hexdigest() for name in os.listdir(tools)}


@needs_builder
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the fake release files are x86_64 ones")
@pytest.mark.parametrize("tamper", [False, True])
def test_install_step_checks_every_file_before_installing(context, tmp_path, tamper):
    dummy, out = context
    script = _install_step((out / "Containerfile").read_text(), tmp_path)
    sums = _fake_release(tmp_path)
    if tamper:
        with open(tmp_path / "tools" / "kubectl-ai_Linux_x86_64.tar.gz", "ab") as handle:
            handle.write(b"\0")
    env = dict(os.environ, PKGMGR="true", AIOPS_EE_KUBECTL_VERSION="1.36.4", AIOPS_EE_HELM="true",
               AIOPS_EE_HELM_VERSION="3.21.4", AIOPS_EE_KUBECTL_AI="true", AIOPS_EE_KUBECTL_AI_VERSION="0.0.29",
               AIOPS_EE_KUBECTL_SHA256_X86_64=sums["kubectl"],
               AIOPS_EE_HELM_SHA256_X86_64=sums["helm-v3.21.4-linux-amd64.tar.gz"],
               AIOPS_EE_KUBECTL_AI_SHA256_X86_64=sums["kubectl-ai_Linux_x86_64.tar.gz"])
    proc = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, check=False, timeout=60)
    installed = sorted(os.listdir(tmp_path / "bin"))
    if tamper:
        assert proc.returncode != 0
        assert "kubectl-ai_Linux_x86_64.tar.gz: FAILED" in proc.stdout + proc.stderr
        assert "kubectl-ai" not in installed
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert installed == ["helm", "kubectl", "kubectl-ai"]
        assert "Client Version: fake" in proc.stdout


def test_ansible_lint_schema_accepts_the_file_and_rejects_a_broken_one(tmp_path):
    lint = os.path.join(BIN, "ansible-lint")
    good = subprocess.run([lint, "--offline", "execution-environment.yml"], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=False, timeout=300)
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    broken = ee_definition()
    broken["dependencies"]["python_interpreter"]["unknown_key"] = True
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(broken))
    bad = subprocess.run([lint, "--offline", "execution-environment.yml"], cwd=tmp_path, capture_output=True,
                         text=True, check=False, timeout=300)
    assert bad.returncode != 0
    assert "schema" in bad.stdout + bad.stderr
