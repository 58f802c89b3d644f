"""Issue 11's attacks, tried against the executor over real HTTP: each must change nothing.

Every test counts the non-dry-run write requests the emulator served (POST/PUT/PATCH/DELETE without
dryRun=All) and asserts zero after the attack. The attacker controls the plan, the diagnosis, the
approval dict and the policy given as extra vars; the executor must decide from the live object, the
code floors and the trusted policy only.
"""

import copy
import datetime
import threading
import time

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import Cluster, target_path
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import rollback_operation
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan, compute_plan_id
from tests.integration.test_remediation_actions import (
    DEP,
    LAB_POLICY,
    WEB,
    Controller,
    HttpTransport,
    approval_for,
    diagnosis,
    make_plan,
    node,
    pod,
    run,
    seed_deployment,
    spec_of,
    writes,
)
from tests.support.local_run import local_run

pytestmark = pytest.mark.integration


def forge(plan, **fields):
    """What an attacker does with a plan file: edit fields, recompute the public id."""
    forged = copy.deepcopy(plan)
    for key, value in fields.items():
        if key == "params":
            forged["params"].update(value)
        else:
            forged[key] = value
    forged["plan_id"] = compute_plan_id(forged)
    return forged


def trivial_approval(plan):
    """The approval remediate_pod.yml builds by itself for a plan that claims the trivial tier."""
    return {"plan_id": plan["plan_id"], "decision": "approve", "approver": "policy", "mode": "trivial",
            "justification": "trivial tier", "decided_at": utcnow().isoformat()}


def plan_for(api, diag, target, policy=None, now=None):
    current = Cluster(HttpTransport(api)).get(target_path(target))
    return build_plan(diag, current, now or utcnow(), policy=policy)


def system_pod(name="coredns-5d78c9869d-x7k2p", phase="Failed", reason="Evicted"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system", "uid": "uid-" + name,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "coredns-5d78c9869d",
                                              "uid": "rs-coredns", "controller": True}]},
            "spec": {"nodeName": "node-1", "containers": [{"name": "coredns", "image": "coredns:1.11"}]},
            "status": {"phase": phase, "reason": reason}}


def delete_diagnosis(namespace, name, params=None, owner=("ReplicaSet", "x")):
    target = {"api_version": "v1", "kind": "Pod", "namespace": namespace, "name": name}
    diag = diagnosis("delete_pod", target, params, tier="trivial", owner=owner)
    diag.update(namespace=namespace, name=name)
    return diag, target


# ------------------------------------------------------------------ 1. the executor decides, never the input

@pytest.mark.parametrize("action, params", [
    ("set_image", {"image": "evil.example.com/miner:1"}),
    ("set_memory_limit", {"memory_limit": "64Gi"}),
])
def test_plan_edited_to_trivial_with_recomputed_id_is_refused(kube_api, tmp_path, action, params):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, action, WEB, {"image": "shop/web:2.1"} if action == "set_image" else
                     {"memory_limit": "384Mi"})
    forged = forge(plan, risk_tier="trivial", params=params)
    before = spec_of(kube_api)
    kube_api.clear_requests()
    for approval in (None, trivial_approval(forged)):
        changed, op, _d, _c = run(kube_api, forged, approval, tmp_path)
        assert (changed, op["status"]) == (False, "refused"), op
        assert op["risk_tier"] == "medium"                       # derived live, not the plan's "trivial"
    assert writes(kube_api) == [] and spec_of(kube_api) == before


def test_cordon_node_forged_trivial_is_refused(kube_api, tmp_path):
    node(kube_api)
    target = {"api_version": "v1", "kind": "Node", "namespace": None, "name": "node-1"}
    plan = make_plan(kube_api, "cordon_node", target, tier="critical", owner=None)
    forged = forge(plan, risk_tier="trivial")
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, forged, trivial_approval(forged), tmp_path)
    assert op["status"] == "refused" and op["risk_tier"] == "critical"
    assert writes(kube_api) == []


def test_forged_diagnosis_trivial_delete_of_running_pod_is_refused(kube_api, tmp_path):
    seed_deployment(kube_api)                     # web-new-0 is Running and owned by a ReplicaSet
    diag, target = delete_diagnosis("shop", "web-new-0")
    plan = plan_for(kube_api, diag, target)
    assert plan["risk_tier"] == "low"             # the plan already re-derives from the live pod
    kube_api.clear_requests()
    for candidate in (plan, forge(plan, risk_tier="trivial")):
        changed, op, _d, _c = run(kube_api, candidate, trivial_approval(candidate), tmp_path)
        assert op["status"] == "refused", op
    assert writes(kube_api) == []


def test_forged_force_delete_of_statefulset_member_is_refused(kube_api, tmp_path):
    postgres = pod("postgres-0", owner=("StatefulSet", "postgres", "uid-sts"))
    kube_api.load([postgres])
    diag, target = delete_diagnosis("shop", "postgres-0", {"force": True, "grace_period_seconds": 0},
                                    owner=("StatefulSet", "postgres"))
    plan = plan_for(kube_api, diag, target)
    assert plan["risk_tier"] == "critical"
    kube_api.clear_requests()
    for candidate in (plan, forge(plan, risk_tier="trivial")):
        changed, op, _d, _c = run(kube_api, candidate, trivial_approval(candidate), tmp_path)
        assert op["status"] == "refused", op
    assert writes(kube_api) == []


# ------------------------------------------------------------------ 2. policy that only raises

def test_empty_policy_from_extra_vars_cannot_drop_the_system_namespace_floor(kube_api, tmp_path):
    kube_api.load([system_pod()])
    diag, target = delete_diagnosis("kube-system", "coredns-5d78c9869d-x7k2p")
    plan = plan_for(kube_api, diag, target, policy={"rules": []})
    assert plan["risk_tier"] == "critical"
    kube_api.clear_requests()
    for candidate in (plan, forge(plan, risk_tier="trivial")):
        changed, op, _d, _c = run(kube_api, candidate, trivial_approval(candidate), tmp_path)
        assert op["status"] == "refused", op
    assert writes(kube_api) == []
    assert kube_api.get(target_path(target)).get("kind") == "Pod"


def test_year_long_sla_from_extra_vars_does_not_accept_an_old_approval(kube_api, tmp_path):
    seed_deployment(kube_api)
    long_ago = utcnow() - datetime.timedelta(days=180)
    plan = plan_for(kube_api, diagnosis("set_memory_limit", WEB, {"memory_limit": "384Mi"}), WEB,
                    policy={"tier_sla_seconds": {"medium": 365 * 86400}}, now=long_ago)
    assert plan["sla_seconds"] == 1800            # an SLA from extra vars may only be shorter
    approval = approval_for(plan, decided_at=(long_ago + datetime.timedelta(minutes=5)).isoformat())
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval, tmp_path)
    assert op["status"] == "refused" and "expired" in op["error"]
    assert writes(kube_api) == []


def test_edited_expiry_does_not_revive_an_expired_approval(kube_api, tmp_path):
    seed_deployment(kube_api)
    old = utcnow() - datetime.timedelta(minutes=45)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"}, now=old)
    revived = forge(plan, expires_at="2099-01-01T00:00:00Z", sla_seconds=10 ** 9)
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, revived, approval_for(revived, decided_at=(
        old + datetime.timedelta(minutes=1)).isoformat()), tmp_path)
    assert op["status"] == "refused" and "expired at" in op["error"]
    assert writes(kube_api) == []


# ------------------------------------------------------------------ 3. names validated everywhere

def test_dot_segment_name_never_reaches_the_api(kube_api, tmp_path):
    kube_api.load([system_pod("coredns-1", phase="Running", reason=None)])
    seed_deployment(kube_api)
    evicted = kube_api.get("/api/v1/namespaces/shop/pods/web-new-0")
    evicted["status"] = {"phase": "Failed", "reason": "Evicted"}
    kube_api.set_status(evicted)
    diag, target = delete_diagnosis("shop", "web-new-0")
    plan = plan_for(kube_api, diag, target)
    forged = forge(plan, target=dict(target, name="../../kube-system/pods/coredns-1"))
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, forged, trivial_approval(forged), tmp_path)
    assert op["status"] == "refused" and "target name" in op["error"]
    assert kube_api.requests == []                # refused before any request, not normalised by urllib3
    assert kube_api.get("/api/v1/namespaces/kube-system/pods/coredns-1").get("kind") == "Pod"


# ------------------------------------------------------------------ 4. blank-looking approvals, single use

@pytest.mark.parametrize("field, value", [("approver", "\u200b\u200b"), ("approver", " \u2060 "),
                                          ("justification", "\ufeff\u200d"), ("justification", "\t")])
def test_blank_looking_approval_fields_are_refused(kube_api, tmp_path, field, value):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan, **{field: value}), tmp_path)
    assert op["status"] == "refused" and "%s is blank" % field in op["error"]
    assert writes(kube_api) == []


def test_one_approval_cannot_be_executed_twice(kube_api, tmp_path):
    node(kube_api)
    target = {"api_version": "v1", "kind": "Node", "namespace": None, "name": "node-1"}
    plan = make_plan(kube_api, "cordon_node", target, tier="critical", owner=None)
    approval = approval_for(plan)
    changed, op, _d, _c = run(kube_api, plan, approval, tmp_path)
    assert op["status"] == "validated" and op["gate"]["verdict"] == "approved"
    record = opstore.load(str(tmp_path / "ops"), op["operation_id"])
    rollback_operation(Cluster(HttpTransport(kube_api)), record, utcnow)      # uncordoned again
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval, tmp_path)
    assert op["status"] == "refused" and "already used" in op["error"]
    assert writes(kube_api) == []
    assert not (kube_api.get(target_path(target)).get("spec") or {}).get("unschedulable")


# ------------------------------------------------------------------ 5. finalizers bound to the approved list

def test_finalizer_added_after_the_approval_is_not_removed(kube_api, tmp_path):
    stuck = pod("stuck", owner=("ReplicaSet", "web-new", "rs-web-new"), finalizers=["example.com/block"])
    kube_api.load([stuck])
    kube_api.call("DELETE", "/api/v1/namespaces/shop/pods/stuck")
    target = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "stuck"}
    plan = make_plan(kube_api, "remove_finalizers", target, {"finalizers": ["example.com/block"]}, tier="critical",
                     owner=None)
    live = kube_api.get(target_path(target))
    kube_api.call("PATCH", target_path(target), {"metadata": {"finalizers": ["example.com/block", "backup.io/hold"]}},
                  content_type="application/merge-patch+json")
    assert live["metadata"]["finalizers"] == ["example.com/block"]
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] in ("refused", "failed", "conflict") and not changed, op
    assert writes(kube_api) == []
    assert kube_api.get(target_path(target))["metadata"]["finalizers"] == ["example.com/block", "backup.io/hold"]


# ------------------------------------------------------------------ 6. rollbacks never overwrite a later change

def test_manual_rollback_after_a_later_release_is_a_conflict(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_image", WEB, {"image": "shop/web:2.1"})
    with Controller(kube_api, duration=20):
        changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated", op
    release = {"spec": {"template": {"spec": {"containers": [
        dict(spec_of(kube_api)["template"]["spec"]["containers"][0], image="shop/web:3.0"),
        spec_of(kube_api)["template"]["spec"]["containers"][1]]}}}}
    kube_api.call("PATCH", DEP, release, content_type="application/merge-patch+json")
    kube_api.clear_requests()
    record = opstore.load(str(tmp_path / "ops"), op["operation_id"])
    changed, result = rollback_operation(Cluster(HttpTransport(kube_api)), record, utcnow)
    assert not changed and result["conflict"] and "changed it after our apply" in result["detail"]
    assert writes(kube_api) == []
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["image"] == "shop/web:3.0"


class OtherOperator(threading.Thread):
    """Changes the Deployment's template once our apply has landed (inside the validation window)."""

    def __init__(self, api, generation):
        super().__init__(daemon=True)
        self.api, self.generation, self.done = api, generation, threading.Event()

    def run(self):
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if (self.api.get(DEP).get("metadata") or {}).get("generation", 0) > self.generation:
                self.api.call("PATCH", DEP, {"spec": {"template": {"metadata": {"annotations": {"team": "hotfix"}}}}},
                              content_type="application/merge-patch+json")
                self.done.set()
                return
            time.sleep(0.05)


def test_automatic_rollback_stops_on_another_operators_change(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    other = OtherOperator(kube_api, kube_api.get(DEP)["metadata"]["generation"])
    other.start()
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path, window=2)   # never becomes ready
    other.join()
    assert other.done.is_set()
    assert op["status"] == "conflict", op
    assert "changed it after our apply" in op["error"]
    ours = [r for r in writes(kube_api) if r["method"] in ("PUT", "POST", "DELETE")]
    assert ours == []                              # no restore was sent over the other operator's change
    assert spec_of(kube_api)["template"]["metadata"]["annotations"]["team"] == "hotfix"


# ------------------------------------------------------------------ 7. who may approve what

def _execute(api, plan, approval, tmp_path, **options):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import execute
    base = {"state_dir": str(tmp_path / "ops"), "validation_window": 1, "poll_interval": 0.1, "policy": LAB_POLICY}
    base.update(options)
    return execute(Cluster(HttpTransport(api)), plan, approval, base, utcnow)


def test_site_policy_limits_unsigned_approvals_and_four_eyes(kube_api, tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge
    node(kube_api)
    target = {"api_version": "v1", "kind": "Node", "namespace": None, "name": "node-1"}
    plan = make_plan(kube_api, "cordon_node", target, tier="critical", owner=None)
    kube_api.clear_requests()
    changed, op, _d = _execute(kube_api, plan, approval_for(plan), tmp_path,
                               policy=merge({"unsigned_max_tier": "medium"}))
    assert op["status"] == "refused" and "unsigned pre-approval is accepted only up to medium" in op["error"]
    changed, op, _d = _execute(kube_api, plan, approval_for(plan, approver="alice"), tmp_path, requester="alice")
    assert op["status"] == "refused" and "four eyes" in op["error"]
    changed, op, _d = _execute(kube_api, plan, approval_for(plan, mode="interactive"), tmp_path, os_user=None)
    assert op["status"] == "refused" and "account of the approver is unknown" in op["error"]
    assert writes(kube_api) == []


# ------------------------------------------------------------------ 8. keyed MAC across job boundaries

KEY = b"k" * 32


def test_forged_plan_without_the_site_mac_is_refused(kube_api, tmp_path):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity
    seed_deployment(kube_api)
    plan = integrity.sign(make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"}), KEY)
    forged = forge(plan, params={"memory_limit": "512Mi"})            # id recomputed, MAC cannot be
    kube_api.clear_requests()
    changed, op, _d = _execute(kube_api, forged, approval_for(forged), tmp_path, key=KEY)
    assert op["status"] == "refused" and "no valid MAC" in op["error"]
    unsigned = dict(plan)
    unsigned.pop("mac")
    changed, op, _d = _execute(kube_api, unsigned, approval_for(unsigned), tmp_path, key=KEY)
    assert op["status"] == "refused"
    assert writes(kube_api) == []
    with Controller(kube_api, duration=20):
        changed, op, _d = _execute(kube_api, plan, approval_for(plan), tmp_path, key=KEY)
    assert op["status"] == "validated", op                          # the genuine plan still runs


def test_hand_written_operation_record_is_refused_by_rollback(kube_api, tmp_path):
    """Attack: a record in a state_dir of the caller's choice that 'restores' a privileged pod in kube-system."""
    evil = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "pwn", "namespace": "kube-system", "uid": "uid-pwn"},
            "spec": {"hostPID": True, "containers": [{"name": "x", "image": "busybox",
                                                      "securityContext": {"privileged": True}}],
                     "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}
    target = {"api_version": "v1", "kind": "Pod", "namespace": "kube-system", "name": "pwn"}
    record = {"operation_id": "op-20261202120000-abcdef", "pre_state": evil, "pre_state_digest": opstore.digest(evil),
              "plan": {"action": "delete_pod", "target": target, "target_uid": "uid-pwn"},
              "operation": {"status": "validated"}}
    directory = str(tmp_path / "chosen-by-caller")
    opstore.save(directory, record)                                   # written without the site key
    with pytest.raises(opstore.OpStoreError, match="no valid MAC"):
        opstore.load(directory, record["operation_id"], KEY)
    kube_api.clear_requests()
    assert writes(kube_api) == []
    assert kube_api.get("/api/v1/namespaces/kube-system/pods/pwn").get("code") == 404


# ------------------------------------------------------------------ 9. signed approvals (ssh-keygen -Y)

@pytest.fixture
def signers(tmp_path):
    import subprocess
    keys = {}
    lines = []
    for name in ("alice", "bob", "mallory"):
        path = tmp_path / ("id_" + name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
        keys[name] = str(path)
        if name != "mallory":
            lines.append("%s %s" % (name, (tmp_path / ("id_%s.pub" % name)).read_text().strip()))
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("\n".join(lines) + "\n")
    return keys, str(allowed)


def signed(plan, key_file, **over):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import signatures
    approval = approval_for(plan, mode="signed", **over)
    approval["signature"] = signatures.sign(signatures.approval_message(plan["plan_id"], approval), key_file,
                                            local_run)
    return approval


def test_signed_approvals(kube_api, tmp_path, signers):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.signatures import SignatureVerifier
    keys, allowed = signers
    policy = merge({"approvers": {"alice": "critical", "bob": "low"}, "unsigned_max_tier": "trivial"},
                   {"approvers": {"mallory": "critical"}})                   # extra vars cannot add a signer
    verifier = SignatureVerifier(allowed, policy["approvers"], local_run)
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})      # medium
    options = dict(policy=policy, signature_verifier=verifier)
    cases = [
        ("wrong key", signed(plan, keys["bob"], approver="alice"), "does not verify"),
        ("edited after signing", dict(signed(plan, keys["alice"], approver="alice"), justification="other"),
         "does not verify"),
        ("principal without the tier", signed(plan, keys["bob"], approver="bob"), "may approve up to low"),
        ("not an approver", signed(plan, keys["mallory"], approver="mallory"), "not an approver"),
        ("expired", signed(plan, keys["alice"], approver="alice",
                           decided_at=(utcnow() - datetime.timedelta(hours=3)).isoformat()), "older than"),
        ("unsigned", approval_for(plan), "unsigned pre-approval is accepted only up to trivial"),
    ]
    kube_api.clear_requests()
    for name, approval, message in cases:
        changed, op, _d = _execute(kube_api, plan, approval, tmp_path, **options)
        assert op["status"] == "refused" and message in op["error"], (name, op["error"])
    assert writes(kube_api) == []
    good = signed(plan, keys["alice"], approver="alice")
    with Controller(kube_api, duration=20):
        changed, op, _d = _execute(kube_api, plan, good, tmp_path, **options)
    assert op["status"] == "validated" and op["gate"]["approver"] == "alice" and op["gate"]["mode"] == "signed"
    kube_api.clear_requests()
    changed, op, _d = _execute(kube_api, plan, good, tmp_path, **options)          # replayed
    assert op["status"] == "refused" and writes(kube_api) == []


# ------------------------------------------------------------------ 10. AWX approvals read from the controller API

class AwxApi(object):
    """A small AWX/AAP API emulator over HTTP with the controller's response shapes (jobs, workflow nodes,
    workflow approvals), enough for the execute job's checks. Requires the bearer token."""

    def __init__(self, token="awx-token"):
        import http.server
        import json as _json
        self.token = token
        self.objects = {}
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                if self.headers.get("Authorization") != "Bearer %s" % api.token:
                    return self._send(401, {"detail": "Authentication credentials were not provided."})
                body = api.objects.get(self.path.split("?")[0])
                return self._send(404, {"detail": "Not found."}) if body is None else self._send(200, body)

            def _send(self, status, body):
                data = _json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def workflow(self, workflow_id, job_id, status="successful", approver="carol", timed_out=False, launched_by=None):
        self.objects["/api/v2/jobs/%d/" % job_id] = {
            "id": job_id, "type": "job", "launch_type": "workflow",
            "summary_fields": {"source_workflow_job": {"id": launched_by or workflow_id, "name": "aiops remediation",
                                                       "status": "running"}}}
        self.objects["/api/v2/workflow_jobs/%d/workflow_nodes/" % workflow_id] = {"count": 3, "results": [
            {"id": 1, "summary_fields": {"job": {"id": 900, "type": "job", "status": "successful"}}},
            {"id": 2, "summary_fields": {"job": {"id": 901, "type": "workflow_approval", "status": status}}},
            {"id": 3, "summary_fields": {"job": {"id": job_id, "type": "job", "status": "running"}}}]}
        self.objects["/api/v2/workflow_approvals/901/"] = {
            "id": 901, "type": "workflow_approval", "status": status, "timed_out": timed_out,
            "finished": utcnow().isoformat().replace("+00:00", "Z"),
            "summary_fields": {"approved_or_denied_by": {"id": 7, "username": approver} if not timed_out else {}}}

    def close(self):
        self.server.shutdown()


@pytest.fixture
def awx_api():
    api = AwxApi()
    yield api
    api.close()


@pytest.mark.parametrize("case, setup, message", [
    ("denied", dict(status="failed"), "is failed (denied or pending)"),
    ("timed out", dict(status="failed", timed_out=True), "timed out"),
    ("job not launched by that workflow", dict(launched_by=55), "was not launched by workflow job 77"),
    ("wrong token", dict(), "Cannot verify the AWX approval"),
])
def test_awx_approval_refusals(kube_api, tmp_path, awx_api, case, setup, message):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.awx import AwxVerifier
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    awx_api.workflow(77, 41, **setup)
    token = "wrong" if case == "wrong token" else awx_api.token
    kube_api.clear_requests()
    changed, op, _d = _execute(kube_api, plan, approval_for(plan, mode="awx", awx_workflow_job_id="77",
                                                            approver="bob-typed-in-survey"),
                               tmp_path, awx_verifier=AwxVerifier(awx_api.url, token, 41))
    assert op["status"] == "refused" and message in op["error"], op["error"]
    assert writes(kube_api) == []


def test_awx_approval_approved_records_the_controller_approver(kube_api, tmp_path, awx_api):
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.awx import verifier_from_environment
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    awx_api.workflow(77, 41, approver="carol")
    verifier = verifier_from_environment({"CONTROLLER_HOST": awx_api.url, "CONTROLLER_OAUTH_TOKEN": awx_api.token,
                                          "JOB_ID": "41"})
    with Controller(kube_api, duration=20):
        changed, op, _d = _execute(kube_api, plan, approval_for(plan, mode="awx", awx_workflow_job_id="77",
                                                                approver="bob-typed-in-survey"),
                                   tmp_path, awx_verifier=verifier)
    assert op["status"] == "validated", op
    assert op["gate"]["approver"] == "carol" and op["gate"]["mode"] == "awx"      # never the survey's text


# ------------------------------------------------------------------ 11. fail-closed defaults, through the playbooks

def attacker_environment(kube_api, tmp_path):
    """ansible-playbook as a launcher with no trusted configuration: no site policy, no plan key variables.

    The per-user key lives in the session's XDG_CONFIG_HOME (tests/conftest.py), as ~/.config would.
    """
    from tests.support.fixtures import ansible_environment
    env = ansible_environment(kube_api.kubeconfig, {"ANSIBLE_CALLBACKS_ENABLED": "aiops.k8s.phr",
                                                    "AIOPS_K8S_PHR_DIR": str(tmp_path / "phr")})
    for name in ("AIOPS_K8S_POLICY_FILE", "AIOPS_K8S_PLAN_KEY", "AIOPS_K8S_PLAN_KEY_FILE", "AIOPS_K8S_STATE_DIR"):
        env.pop(name, None)
    return env


def play_as(env, tmp_path, name, extra):
    import json
    import os
    import subprocess
    from tests.integration.test_remediation_playbooks import PLAYBOOK, REPO
    vars_file = tmp_path / ("vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(extra))
    proc = subprocess.run([PLAYBOOK, "-i", "localhost,", "aiops.k8s.%s" % name, "-e", "@%s" % vars_file], cwd=REPO,
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180, check=False)
    assert os.environ.get("XDG_CONFIG_HOME")            # never the real ~/.config
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize("policy", [None, {"unsigned_max_tier": "critical"}], ids=["no-policy", "extra-vars-raise"])
def test_unsigned_preapproval_of_a_medium_plan_is_refused_without_a_site_policy(kube_api, tmp_path, policy):
    """Attack: -e approver=anyone pre-approves a medium plan (memory limit), optionally with
    -e aiops_remediation_policy={unsigned_max_tier: critical}. Only the trusted site policy may raise the limit."""
    from tests.integration.test_remediation_playbooks import base_vars, plan_first
    plan = plan_first(kube_api, tmp_path)
    assert plan["risk_tier"] == "medium"
    extra = dict(base_vars(tmp_path / "ops"), approval_plan_id=plan["plan_id"], approver="mallory",
                 justification="INC-1 trust me")
    if policy is not None:
        extra["aiops_remediation_policy"] = policy
    before = spec_of(kube_api)
    kube_api.clear_requests()
    rc, out = play_as(attacker_environment(kube_api, tmp_path), tmp_path, "remediate_pod", extra)
    assert rc != 0, out
    assert "is medium tier: an unsigned pre-approval is accepted only up to low" in out, out[-3000:]
    assert "ssh-keygen -Y sign" in out and "AWX" in out and "interactively" in out and "REFUSED" in out
    assert writes(kube_api) == [] and spec_of(kube_api) == before
    assert not (tmp_path / "ops" / "approvals.jsonl").exists()          # the refused approval was not consumed


def test_rollback_of_a_hand_written_record_is_refused_without_a_key_variable(kube_api, tmp_path):
    """Attack: rollback.yml -e state_dir=<mine> on a hand-written record (digest recomputed) that 'restores' a
    privileged hostPath pod in kube-system, with no AIOPS_K8S_PLAN_KEY configured: the per-user key refuses it."""
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity
    evil = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "pwn", "namespace": "kube-system", "uid": "uid-pwn"},
            "spec": {"hostPID": True, "containers": [{"name": "x", "image": "busybox",
                                                      "securityContext": {"privileged": True}}],
                     "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}
    target = {"api_version": "v1", "kind": "Pod", "namespace": "kube-system", "name": "pwn"}
    now = utcnow().isoformat()
    record = {"operation_id": "op-20261202120000-abcdef", "pre_state": evil,
              "pre_state_digest": opstore.digest(evil),
              "plan": {"action": "delete_pod", "target": target, "target_uid": "uid-pwn"},
              "operation": {"status": "validated", "risk_tier": "critical", "diff": {"after": None},
                            "gate": {"verdict": "approved", "approver": "alice", "decided_at": now}}}
    env = attacker_environment(kube_api, tmp_path)
    chosen = tmp_path / "chosen-by-caller"
    extra = {"operation_id": record["operation_id"], "state_dir": str(chosen)}
    for name, key in (("no MAC", None), ("MAC under the attacker's own key", b"a" * 32)):
        opstore.save(str(chosen), record, key)
        kube_api.clear_requests()
        rc, out = play_as(env, tmp_path, "rollback", extra)
        assert rc != 0 and "carries no valid MAC for this site's plan key" in out, (name, out[-3000:])
        assert kube_api.requests == [], name                            # refused before any request
    assert kube_api.get("/api/v1/namespaces/kube-system/pods/pwn").get("code") == 404
    # Control: the same record under the per-user key would have been restored; the MAC alone refused it.
    opstore.save(str(chosen), record, integrity.load_key())
    kube_api.clear_requests()
    rc, out = play_as(env, tmp_path, "rollback", extra)
    assert any(r["method"] == "POST" for r in writes(kube_api)), out[-3000:]
