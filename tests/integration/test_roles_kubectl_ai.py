"""aiops.k8s.kubectl_ai role, run with ansible-playbook against archives served on 127.0.0.1.

The archives are built here (a stand-in kubectl-ai that reports its version), so the checksum table
is overridden with their sha256; the release layout and asset names are the real ones.
"""

import json
import os
import re
import subprocess

import pytest

from tests.support.artifact_server import ArtifactServer, build_kubectl_ai, current_os_arch

pytestmark = pytest.mark.integration

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK_BIN = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
PLAY = """- name: Run aiops.k8s.kubectl_ai
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: aiops.k8s.kubectl_ai
"""


def _table(sums):
    return dict((asset[len("kubectl-ai_"):-len(".tar.gz")], digest) for asset, digest in sums.items())


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    root = tmp_path_factory.mktemp("releases")
    table = {"0.0.29": _table(build_kubectl_ai(str(root), "0.0.29")),
             "0.0.30": _table(build_kubectl_ai(str(root), "0.0.30"))}
    with ArtifactServer(str(root)) as server:
        yield server, table, root


@pytest.fixture
def run(tmp_path, releases):
    server, table, _root = releases
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    work_tmp = tmp_path / "tmp"
    work_tmp.mkdir()
    base = {
        "kubectl_ai_mirror_base_url": server.url,
        "kubectl_ai_checksums": table,
        "kubectl_ai_bin_dir": str(tmp_path / "bin"),
        "kubectl_ai_config_dir": str(tmp_path / "cfg"),
        "kubectl_ai_state_dir": str(tmp_path / "state"),
    }

    def _run(check=False, **overrides):
        values = dict(base, **overrides)
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps(values))
        # -i localhost, on the command line: no inventory directory walk.
        args = [PLAYBOOK_BIN, "-i", "localhost,", str(play), "-e", "@%s" % vars_file]
        if check:
            args.append("--check")
        env = dict(os.environ, TMPDIR=str(work_tmp), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
        out = proc.stdout + proc.stderr
        recap = re.search(r"changed=(\d+).*?failed=(\d+)", out)
        return proc.returncode, out, int(recap.group(1)) if recap else None

    _run.tmp = tmp_path
    _run.work_tmp = work_tmp
    _run.server = server
    return _run


def _version(binary):
    return subprocess.run([binary, "version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]


def _leftovers(work_tmp):
    return [name for name in os.listdir(str(work_tmp)) if "kubectl-ai" in name]


def test_install_rerun_upgrade_and_uninstall(run):
    bin_path = str(run.tmp / "bin" / "kubectl-ai")
    unrelated = run.tmp / "bin" / "kubectl"
    system, arch = current_os_arch()

    rc, out, changed = run(kubectl_ai_api_key="AIzaTestKey-0123456789")
    assert rc == 0, out
    assert changed > 0
    assert _version(bin_path) == "version: 0.0.29"
    assert "GET /v0.0.29/kubectl-ai_%s_%s.tar.gz" % (system, arch) in run.server.requests()
    env_file = run.tmp / "cfg" / "env"
    assert stat_mode(env_file) == 0o600
    assert env_file.read_text().strip().endswith("GEMINI_API_KEY=AIzaTestKey-0123456789")
    assert "AIzaTestKey-0123456789" not in out  # no_log
    assert "llmProvider: \"gemini\"" in (run.tmp / "cfg" / "config.yaml").read_text()
    assert _leftovers(run.work_tmp) == []

    rc, out, changed = run()
    assert rc == 0, out
    assert changed == 0, out  # idempotent; an empty key leaves the env file alone
    assert env_file.exists()

    rc, out, changed = run(kubectl_ai_version="0.0.30")
    assert rc == 0, out
    assert _version(bin_path) == "version: 0.0.30"
    rc, out, changed = run(kubectl_ai_version="0.0.29")  # downgrade back to the pin
    assert rc == 0, out
    assert _version(bin_path) == "version: 0.0.29"

    unrelated.write_text("#!/bin/sh\n")
    rc, out, changed = run(kubectl_ai_state="absent")
    assert rc == 0, out
    assert changed > 0
    assert not os.path.exists(bin_path)
    assert not env_file.exists() and not (run.tmp / "cfg" / "config.yaml").exists()
    assert not (run.tmp / "state" / "kubectl-ai.json").exists()
    assert unrelated.exists()  # only what the role recorded is removed

    rc, out, changed = run(kubectl_ai_state="absent")
    assert rc == 0 and changed == 0, out
    assert "nothing was removed" in out


def stat_mode(path):
    return os.stat(str(path)).st_mode & 0o777


def test_checksum_mismatch_fails_and_leaves_nothing(run, releases):
    _server, table, _root = releases
    bad = json.loads(json.dumps(table))
    for key in bad["0.0.29"]:
        bad["0.0.29"][key] = "0" * 64
    rc, out, _extra = run(kubectl_ai_checksums=bad)
    assert rc != 0
    assert "sha256 mismatch for kubectl-ai_" in out
    assert "was not installed" in out
    assert not (run.tmp / "bin" / "kubectl-ai").exists()
    assert not (run.tmp / "state" / "kubectl-ai.json").exists()
    assert _leftovers(run.work_tmp) == []


def test_unpinned_version_is_refused_before_download(run):
    before = len(run.server.requests())
    rc, out, _extra = run(kubectl_ai_version="9.9.9")
    assert rc != 0
    assert "No pinned sha256 for kubectl-ai 9.9.9" in out
    assert len(run.server.requests()) == before


def test_missing_local_archive_fails_cleanly(run):
    rc, out, _extra = run(kubectl_ai_archive_path=str(run.tmp / "nowhere" / "kubectl-ai_Linux_x86_64.tar.gz"))
    assert rc != 0
    assert "was not installed (Copy the local archive)" in out or "was not installed" in out
    assert "nowhere" in out
    assert not (run.tmp / "bin" / "kubectl-ai").exists()
    assert _leftovers(run.work_tmp) == []


def test_check_mode_then_local_archive(run, releases):
    _server, _table, root = releases
    system, arch = current_os_arch()
    rc, out, changed = run(check=True)
    assert rc == 0, out
    assert changed > 0
    assert "Would install kubectl-ai 0.0.29" in out
    assert not (run.tmp / "bin").exists() and not (run.tmp / "state").exists()

    before = len(run.server.requests())
    archive = os.path.join(str(root), "v0.0.29", "kubectl-ai_%s_%s.tar.gz" % (system, arch))
    rc, out, changed = run(kubectl_ai_archive_path=archive, kubectl_ai_mirror_base_url="http://127.0.0.1:9/unused")
    assert rc == 0, out
    assert _version(str(run.tmp / "bin" / "kubectl-ai")) == "version: 0.0.29"
    assert len(run.server.requests()) == before  # air-gapped: nothing downloaded


def _sha256(path):
    import hashlib
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_a_binary_that_only_prints_the_pinned_version_is_replaced(run):
    """The version string proves nothing: the installed binary's sha256 must be the verified one."""
    bin_dir = run.tmp / "bin"
    bin_path = bin_dir / "kubectl-ai"
    bin_dir.mkdir()
    impostor = "#!/bin/sh\necho 'version: 0.0.29'\necho 'commit: none'\n"
    bin_path.write_text(impostor)  # present before the role ever ran: no record of it
    bin_path.chmod(0o755)
    rc, out, changed = run()
    assert rc == 0, out
    assert changed > 0 and bin_path.read_text() != impostor
    verified = _sha256(str(bin_path))
    record = json.loads((run.tmp / "state" / "kubectl-ai.json").read_text())
    assert record["binary_sha256"] == verified

    rc, out, changed = run()
    assert rc == 0 and changed == 0, out  # the verified binary is left alone

    bin_path.write_text(impostor)  # swapped after the install, same version string
    bin_path.chmod(0o755)
    rc, out, changed = run()
    assert rc == 0 and changed > 0, out
    assert _sha256(str(bin_path)) == verified


def test_a_pinned_binary_checksum_is_enforced(run, releases):
    system, arch = current_os_arch()
    rc, out, _changed = run(kubectl_ai_binary_checksums={"0.0.29": {"%s_%s" % (system, arch): "0" * 64}})
    assert rc != 0
    assert "sha256 mismatch for the kubectl-ai binary" in out
    assert not (run.tmp / "bin" / "kubectl-ai").exists()
