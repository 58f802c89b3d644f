"""The aiops.k8s.kubeconfig inventory plugin, run the way users run it: ansible-inventory / ansible-playbook.

Kubeconfig files are written with several contexts and real-looking credentials; every test checks
what the plugin exposes, and that no credential reaches the inventory output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.support.fixtures import REPO_ROOT, ansible_environment

pytestmark = pytest.mark.integration

BIN = os.path.dirname(sys.executable)
SECRETS = ("SECRETTOKEN123", "hunter2", "S0VZREFUQQ==", "Q0VSVERBVEE=", "pa55word", "EXECSECRET", "query-token")


def kubeconfig(clusters, contexts, users=None):
    return {"apiVersion": "v1", "kind": "Config", "clusters": clusters, "contexts": contexts, "users": users or []}


def cluster(name, server):
    return {"name": name, "cluster": {"server": server, "certificate-authority-data": "Q0FEQVRB"}}


def context(name, cluster_name, user="admin", namespace=None):
    body = {"cluster": cluster_name, "user": user}
    if namespace:
        body["namespace"] = namespace
    return {"name": name, "context": body}


USERS = [
    {"name": "admin", "user": {"token": "SECRETTOKEN123", "client-key-data": "S0VZREFUQQ==",
                               "client-certificate-data": "Q0VSVERBVEE="}},
    {"name": "basic", "user": {"username": "bob", "password": "pa55word"}},
    {"name": "exec", "user": {"exec": {"command": "aws", "env": [{"name": "AWS_SECRET", "value": "EXECSECRET"}]}}},
]


def write(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


def run_inventory(config_path, env_extra=None, expect_ok=True):
    env = ansible_environment("/nonexistent", {
        "ANSIBLE_INVENTORY_ENABLED": "aiops.k8s.kubeconfig",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
    })
    env.pop("KUBECONFIG", None)
    env.pop("K8S_AUTH_KUBECONFIG", None)
    env.update(env_extra or {})
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(config_path), "--list"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=120)
    if expect_ok:
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout), proc
    return None, proc


def unwrap(value):
    """ansible-inventory --list marks untrusted strings as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict) and set(value) == {"__ansible_unsafe"}:
        return value["__ansible_unsafe"]
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def hostvars(listing):
    return {host: {key: unwrap(val) for key, val in hv.items()} for host, hv in listing["_meta"]["hostvars"].items()}


def group_hosts(listing, group):
    return set(listing.get(group, {}).get("hosts", []))


@pytest.fixture
def fleet_files(tmp_path):
    prod = write(tmp_path / "prod.yaml", kubeconfig(
        [cluster("prod-eu", "https://admin:hunter2@10.0.0.1:6443/base?token=query-token"),
         cluster("prod-us", "https://10.0.1.1")],
        [context("prod-eu", "prod-eu", namespace="shop"), context("prod-eu-readonly", "prod-eu", user="basic"),
         context("prod-us", "prod-us", user="exec"), context("kind-dev", "prod-us")],
        USERS))
    staging = write(tmp_path / "staging.yaml", kubeconfig(
        [cluster("staging", "https://staging.example.invalid:8443")],
        [context("staging", "staging"), context("prod-eu", "staging")],
        USERS[:1]))
    return tmp_path, prod, staging


def test_contexts_become_hosts_with_connection_vars_and_groups(fleet_files):
    tmp_path, prod, staging = fleet_files
    config = tmp_path / "fleet.aiops_kubeconfig.yml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": ["prod.yaml", staging],
                                      "exclude_contexts": ["kind-*"]}))
    listing, proc = run_inventory(config)
    hv = hostvars(listing)
    # kind-dev excluded; the second prod-eu (staging.yaml) loses to the first, as with kubectl.
    assert set(hv) == {"prod-eu", "prod-eu-readonly", "prod-us", "staging"}
    assert "context prod-eu in %s is ignored" % staging in proc.stderr.replace("\n", " ")
    assert hv["prod-eu"] == {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "aiops_k8s_kubeconfig": prod,
        "aiops_k8s_context": "prod-eu",
        "aiops_k8s_cluster": "prod-eu",
        "aiops_k8s_server": "https://10.0.0.1:6443",
        "aiops_k8s_namespace": "shop",
    }
    # staging.yaml's user "admin" is first defined in prod.yaml, so the client must merge both files.
    assert hv["staging"]["aiops_k8s_kubeconfig"] == os.pathsep.join([prod, staging])
    assert hv["prod-us"]["aiops_k8s_server"] == "https://10.0.1.1:443"
    assert "aiops_k8s_namespace" not in hv["staging"]
    assert group_hosts(listing, "cluster_prod_eu") == {"prod-eu", "prod-eu-readonly"}
    assert group_hosts(listing, "server_10_0_0_1_6443") == {"prod-eu", "prod-eu-readonly"}
    assert group_hosts(listing, "server_staging_example_invalid_8443") == {"staging"}
    assert group_hosts(listing, "aiops_k8s_clusters") == set(hv)


def test_no_credential_reaches_the_inventory(fleet_files):
    tmp_path, prod, staging = fleet_files
    config = tmp_path / "all.aiops_kubeconfig.yaml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [prod, staging],
                                      "duplicate_contexts": "rename"}))
    listing, proc = run_inventory(config)
    assert len(listing["_meta"]["hostvars"]) == 6
    output = proc.stdout + proc.stderr
    for secret in SECRETS:
        assert secret not in output
    for forbidden in ("bob", "client-key", "token", "password", "exec"):
        assert forbidden not in json.dumps(listing["_meta"]["hostvars"])


def test_include_patterns_rename_duplicates_and_group_by(fleet_files):
    tmp_path, prod, staging = fleet_files
    config = tmp_path / "prod.aiops_kubeconfig.yml"
    config.write_text(yaml.safe_dump({
        "plugin": "aiops.k8s.kubeconfig", "kubeconfig": [prod, staging], "include_contexts": ["prod-*"],
        "exclude_contexts": ["*-readonly"], "duplicate_contexts": "rename", "group_by": ["cluster"],
        "parent_group": "fleet", "keyed_groups": [{"key": "aiops_k8s_context.split('-')[1]", "prefix": "region"}],
        "compose": {"aiops_fleet_label_selectors": "['tier=web']"}}))
    listing, dummy = run_inventory(config)
    hv = hostvars(listing)
    assert set(hv) == {"prod-eu", "prod-us", "prod-eu@staging"}
    # The renamed context resolves its cluster inside its own file.
    assert hv["prod-eu@staging"]["aiops_k8s_context"] == "prod-eu"
    assert hv["prod-eu@staging"]["aiops_k8s_server"] == "https://staging.example.invalid:8443"
    assert hv["prod-eu@staging"]["aiops_k8s_kubeconfig"] == staging
    assert hv["prod-us"]["aiops_fleet_label_selectors"] == ["tier=web"]
    assert group_hosts(listing, "region_eu") == {"prod-eu", "prod-eu@staging"}
    assert group_hosts(listing, "fleet") == set(hv)
    assert not [group for group in listing if group.startswith("server_")]


def test_cluster_in_another_file_hands_every_file_to_the_client(tmp_path):
    clusters = write(tmp_path / "clusters.yaml", kubeconfig([cluster("shared", "https://10.9.9.9:6443")], []))
    contexts = write(tmp_path / "contexts.yaml", kubeconfig([], [context("team-a", "shared"),
                                                                 context("dangling", "missing")], USERS))
    config = tmp_path / "x.aiops_kubeconfig.yml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig"}))
    listing, proc = run_inventory(config, {"KUBECONFIG": os.pathsep.join([clusters, contexts])})
    hv = hostvars(listing)
    assert set(hv) == {"team-a"}
    assert hv["team-a"]["aiops_k8s_kubeconfig"] == os.pathsep.join([clusters, contexts])
    assert hv["team-a"]["aiops_k8s_server"] == "https://10.9.9.9:6443"
    assert "dangling" in proc.stderr and "'missing' is not defined" in proc.stderr.replace("\n", " ")


@pytest.mark.parametrize("content, expected", [
    (None, "does not exist: fix the path"),
    ("clusters: [unclosed", "is not valid YAML at line"),
    ("- just\n- a list\n", "is not a mapping"),
])
def test_unusable_kubeconfig_is_one_clear_error(tmp_path, content, expected):
    target = tmp_path / "broken.yaml"
    if content is not None:
        target.write_text(content)
    config = tmp_path / "b.aiops_kubeconfig.yml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [str(target)]}))
    dummy, proc = run_inventory(config, expect_ok=False)
    assert proc.returncode != 0
    assert "kubeconfig %s %s" % (target, expected) in proc.stderr.replace("\n", " ")
    assert "Traceback" not in proc.stderr


def test_other_file_names_are_not_claimed(tmp_path):
    config = tmp_path / "inventory.yml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [str(tmp_path / "none")]}))
    dummy, proc = run_inventory(config, expect_ok=False)
    assert proc.returncode != 0
    # verify_file refused it: the plugin never got as far as looking for the kubeconfig.
    assert "does not exist" not in proc.stderr
    renamed = tmp_path / "inventory.aiops_kubeconfig.yml"
    config.rename(renamed)
    dummy, proc = run_inventory(renamed, expect_ok=False)
    assert "does not exist" in proc.stderr


def test_play_reaches_each_cluster_through_its_hostvars(kube_api, tmp_path):
    """Two contexts on the emulator: a play with hosts: all talks to it once per host, with no other config."""
    emulated = kube_api.emulator.kubeconfig()
    emulated["contexts"].append({"name": "emulator-b", "context": dict(emulated["contexts"][0]["context"])})
    path = write(tmp_path / "emu.yaml", emulated)
    kube_api.load([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}])
    config = tmp_path / "emu.aiops_kubeconfig.yml"
    config.write_text(yaml.safe_dump({"plugin": "aiops.k8s.kubeconfig", "kubeconfig": [path]}))
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Read namespaces of every cluster", "hosts": "aiops_k8s_clusters", "gather_facts": False,
        "tasks": [{"name": "List namespaces", "kubernetes.core.k8s_info": {
            "kind": "Namespace", "kubeconfig": "{{ aiops_k8s_kubeconfig }}", "context": "{{ aiops_k8s_context }}"},
            "register": "ns"},
            {"name": "Check", "ansible.builtin.assert": {"that": ["'shop' in ns.resources | map(attribute='metadata.name')"]}}],
    }]))
    env = ansible_environment("/nonexistent", {"ANSIBLE_INVENTORY_ENABLED": "aiops.k8s.kubeconfig"})
    env.pop("KUBECONFIG", None)
    env.pop("K8S_AUTH_KUBECONFIG", None)
    kube_api.clear_requests()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(config), str(playbook)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "emulator " in proc.stdout and "emulator-b" in proc.stdout
    assert "ok=2" in proc.stdout and "failed=0" in proc.stdout
    lists = [r for r in kube_api.requests if r["method"] == "GET" and r["path"] == "/api/v1/namespaces"]
    assert len(lists) == 2
