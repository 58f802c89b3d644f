"""A missing kubeconfig is one line naming the path that was checked and the next step."""

from __future__ import annotations

from ansible_collections.aiops.k8s.plugins.module_utils.k8s.auth_spec import kubeconfig_problem


def test_missing_explicit_kubeconfig_names_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = kubeconfig_problem({"kubeconfig": "kube/cfg"}, environ={})
    assert message.startswith("Kubeconfig cfg does not exist in %s: pass kubeconfig=PATH" % (tmp_path / "kube"))
    assert "dump_dir=DIR" in message and "\n" not in message


def test_no_kubeconfig_anywhere(tmp_path):
    message = kubeconfig_problem({}, environ={"KUBECONFIG": str(tmp_path / "a") + ":" + str(tmp_path / "b")})
    assert message.startswith("No kubeconfig found (checked %s, %s)" % (tmp_path / "a", tmp_path / "b"))


def test_usable_configurations_pass(tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text("apiVersion: v1\n")
    assert kubeconfig_problem({"kubeconfig": str(cfg)}, environ={}) is None
    assert kubeconfig_problem({}, environ={"KUBECONFIG": "%s:%s" % (tmp_path / "nope", cfg)}) is None
    assert kubeconfig_problem({"host": "https://10.0.0.1"}, environ={"KUBECONFIG": str(tmp_path / "nope")}) is None
    assert kubeconfig_problem({}, environ={"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBECONFIG": "/nope"}) is None
    assert kubeconfig_problem({"kubeconfig": {"apiVersion": "v1"}}, environ={}) is None


KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: prod
contexts:
- {name: prod, context: {cluster: prod-cluster, user: ops}}
- {name: lab, context: {cluster: lab-cluster, user: ops}}
clusters:
- {name: prod-cluster, cluster: {server: "https://prod.example:6443"}}
- {name: lab-cluster, cluster: {server: "https://127.0.0.1:6443"}}
users:
- {name: ops, user: {exec: {command: /bin/false, apiVersion: client.authentication.k8s.io/v1}}}
"""


def test_error_messages_name_the_server_of_the_context_in_use(tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import _kubeconfig_server
    cfg = tmp_path / "config"
    cfg.write_text(KUBECONFIG)
    assert _kubeconfig_server({"kubeconfig": str(cfg)}) == "https://prod.example:6443"
    assert _kubeconfig_server({"kubeconfig": str(cfg), "context": "lab"}) == "https://127.0.0.1:6443"
    assert _kubeconfig_server({"kubeconfig": str(cfg), "context": "gone"}) is None
    assert _kubeconfig_server({"kubeconfig": {"current-context": "x", "contexts": "not a list"}}) is None
    cfg.write_text("clusters: [unclosed\n")
    assert _kubeconfig_server({"kubeconfig": str(cfg)}) is None
    assert _kubeconfig_server({"kubeconfig": str(tmp_path / "missing")}) is None
