"""remediate's core against the Kubernetes API emulator over real HTTP.

The emulator has no controllers, so each test plays the Deployment controller/kubelet from a
thread (``Controller``): it writes status through the status subresource once it sees the new
generation, healthy or broken as the scenario needs. Validation windows are 1-2 s.
"""

import copy
import datetime
import json
import os
import threading
import time

import pytest
import yaml

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import opstore
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.api import Cluster, target_path
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.execute import (
    execute,
    followup_validation,
    rollback_operation,
)
from ansible_collections.aiops.k8s.plugins.module_utils.k8s.transport import transport_from_kubeconfig
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.policy import merge

pytestmark = pytest.mark.integration

UTC = datetime.timezone.utc
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WRITES = ("POST", "PUT", "PATCH", "DELETE")
DEP = "/apis/apps/v1/namespaces/shop/deployments/web"


def HttpTransport(api):
    """The collection's own transport (kubernetes ApiClient over real HTTP) from the emulator's kubeconfig."""
    return transport_from_kubeconfig(api.kubeconfig)


# ------------------------------------------------------------------ seed objects

def seed_deployment(api, replicas=2, restarts=3):
    """Deployment shop/web (revision 2, image web:2.0, app limit 256Mi) + its two ReplicaSets and pods."""
    dep_uid = "dep-web-uid"
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": "shop/web:2.0",
                     "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}},
                     "env": [{"name": "DB_PASSWORD", "value": "hunter2-secret"}]},
                    {"name": "proxy", "image": "envoy:1.30"}]}}
    old_template = copy.deepcopy(template)
    old_template["spec"]["containers"][0]["image"] = "shop/web:1.9"
    objects = [{
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": dep_uid, "generation": 3,
                     "annotations": {"deployment.kubernetes.io/revision": "2"}, "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        "status": {"observedGeneration": 3, "replicas": replicas, "updatedReplicas": replicas,
                   "readyReplicas": 0, "availableReplicas": 0},
    }]
    for name, revision, tmpl in (("web-old", "1", old_template), ("web-new", "2", template)):
        rs_template = copy.deepcopy(tmpl)
        rs_template["metadata"]["labels"]["pod-template-hash"] = name
        objects.append({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "shop", "uid": "rs-" + name, "labels": {"app": "web"},
                         "annotations": {"deployment.kubernetes.io/revision": revision},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                              "uid": dep_uid, "controller": True}]},
            "spec": {"replicas": replicas if name == "web-new" else 0,
                     "selector": {"matchLabels": {"app": "web"}}, "template": rs_template},
        })
    for index in range(replicas):
        objects.append(pod("web-new-%d" % index, restarts=restarts, owner=("ReplicaSet", "web-new", "rs-web-new")))
    api.load(objects)


def pod(name, restarts=0, owner=None, oom=False, finalizers=None):
    meta = {"name": name, "namespace": "shop", "uid": "uid-" + name, "labels": {"app": "web"}}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": owner[2],
                                    "controller": True}]
    if finalizers:
        meta["finalizers"] = finalizers
    status = {"name": "app", "restartCount": restarts, "ready": not oom, "state": {"running": {}}}
    if oom:
        status["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137,
                                              "finishedAt": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "shop/web:2.0"}]},
            "status": {"phase": "Running", "containerStatuses": [status],
                       "conditions": [{"type": "Ready", "status": "True" if not oom else "False"}]}}


def node(api, unschedulable=False):
    api.load([{"apiVersion": "v1", "kind": "Node",
               "metadata": {"name": "node-1", "uid": "uid-node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
               "spec": {"unschedulable": True} if unschedulable else {},
               "status": {"conditions": [{"type": "Ready", "status": "False"}]}}])


def diagnosis(action, target, params=None, tier="medium", owner=("Deployment", "web")):
    return {"kind": "Pod", "namespace": "shop", "name": "web-new-0", "uid": "uid-web-new-0",
            "owner": {"kind": owner[0], "name": owner[1]} if owner else None, "category": "OOMKilled",
            "diagnosis_id": "d1a9c0ffee42",
            "remediations": [{"action": action, "target": target, "params": params or {}, "risk_tier": tier,
                              "description": "test", "reversible": True}]}


WEB = {"api_version": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web", "container": "app"}


class Controller(threading.Thread):
    """Plays the Deployment controller + kubelet: on a new generation, writes the rollout status.

    healthy=False writes a rollout that never becomes ready; crash=True bumps a pod's restartCount.
    """

    def __init__(self, api, healthy=True, crash=False, duration=6.0):
        super(Controller, self).__init__(daemon=True)
        self.api, self.healthy, self.crash, self.duration = api, healthy, crash, duration
        self.stop_event = threading.Event()

    def run(self):
        end = time.monotonic() + self.duration
        while time.monotonic() < end and not self.stop_event.is_set():
            code, dep = self.api.call("GET", DEP)
            if code == 200:
                gen = dep["metadata"]["generation"]
                status = dep.get("status") or {}
                if status.get("observedGeneration") != gen:
                    replicas = dep["spec"].get("replicas", 1)
                    ready = replicas if self.healthy else 0
                    dep["status"] = {"observedGeneration": gen, "replicas": replicas, "updatedReplicas": replicas,
                                     "readyReplicas": ready, "availableReplicas": ready}
                    self.api.set_status(dep)
                    if self.crash:
                        code, p = self.api.call("GET", "/api/v1/namespaces/shop/pods/web-new-0")
                        p["status"]["containerStatuses"][0]["restartCount"] += 1
                        self.api.set_status(p)
            time.sleep(0.05)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join()


def make_plan(api, action, target, params=None, tier="medium", owner=("Deployment", "web"), now=None):
    cluster = Cluster(HttpTransport(api))
    current = cluster.get(target_path(target))
    return build_plan(diagnosis(action, target, params, tier, owner), current, now or utcnow())


def approval_for(plan, **over):
    approval = {"plan_id": plan["plan_id"], "decision": "approve", "approver": "alice",
                "justification": "INC-42", "decided_at": utcnow().isoformat(), "mode": "pre_approved"}
    approval.update(over)
    return approval


# The trusted site policy of a lab that accepts unsigned pre-approvals of every tier (the code floor is low):
# these tests are about executing a change; who may approve is test_remediation_attacks' subject.
LAB_POLICY = merge({"unsigned_max_tier": "critical"})


def run(api, plan, approval, tmp_path, check_mode=False, window=1, rollback=True):
    cluster = Cluster(HttpTransport(api))
    options = {"state_dir": str(tmp_path / "ops"), "check_mode": check_mode, "validation_window": window,
               "poll_interval": 0.1, "rollback_on_failure": rollback, "policy": LAB_POLICY}
    changed, operation, diff = execute(cluster, plan, approval, options, utcnow)
    return changed, operation, diff, cluster


def writes(api):
    return [r for r in api.requests if r["method"] in WRITES and r["query"].get("dryRun") != "All"]


def spec_of(api, path=DEP):
    return api.get(path)["spec"]


# ------------------------------------------------------------------ approved -> executed and validated

ACTION_CASES = [
    ("set_memory_limit", WEB, {"memory_limit": "384Mi"},
     lambda s: s["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "384Mi"),
    ("set_resources", WEB, {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "100m"}},
     lambda s: s["template"]["spec"]["containers"][0]["resources"] == {
         "limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"memory": "128Mi", "cpu": "100m"}}),
    ("set_image", WEB, {"image": "shop/web:2.1"},
     lambda s: s["template"]["spec"]["containers"][0]["image"] == "shop/web:2.1"
     and s["template"]["spec"]["containers"][1]["image"] == "envoy:1.30"),
    ("rollout_restart", dict(WEB, container=None), {},
     lambda s: "kubectl.kubernetes.io/restartedAt" in s["template"]["metadata"]["annotations"]),
    ("rollout_undo", dict(WEB, container=None), {},
     lambda s: s["template"]["spec"]["containers"][0]["image"] == "shop/web:1.9"
     and "pod-template-hash" not in s["template"]["metadata"]["labels"]),
    ("scale", dict(WEB, container=None), {"replicas": 3}, lambda s: s["replicas"] == 3),
]


@pytest.mark.parametrize("action, target, params, check", ACTION_CASES, ids=[c[0] for c in ACTION_CASES])
def test_workload_action_approved_executes_and_validates(kube_api, tmp_path, action, target, params, check):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, action, target, params)
    with Controller(kube_api):
        changed, op, _diff, cluster = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated", op
    assert changed is True
    assert check(spec_of(kube_api))
    assert op["validation"]["passed"] and op["validation"]["window_seconds"] == 1
    assert op["rollback"]["attempted"] is False
    # exactly one real write; the dry run preceded it
    real = writes(kube_api)
    assert len(real) == 1 and real[0]["method"] == "PATCH"
    dry = [r for r in kube_api.requests if r["query"].get("dryRun") == "All"]
    assert dry and kube_api.requests.index(dry[0]) < kube_api.requests.index(real[0])
    record = opstore.load(str(tmp_path / "ops"), op["operation_id"])
    assert record["pre_state"]["spec"]["template"]["spec"]["containers"][0]["image"] == "shop/web:2.0"
    assert oct(os.stat(op["pre_state_ref"]).st_mode & 0o777) == "0o600"


def test_cordon_node_and_idempotence(kube_api, tmp_path):
    node(kube_api)
    target = {"api_version": "v1", "kind": "Node", "name": "node-1"}
    plan = make_plan(kube_api, "cordon_node", target, tier="critical", owner=None)
    assert plan["risk_tier"] == "critical"
    changed, op, _diff, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated" and changed
    assert kube_api.get("/api/v1/nodes/node-1")["spec"]["unschedulable"] is True
    kube_api.clear_requests()
    plan2 = make_plan(kube_api, "cordon_node", target, tier="critical", owner=None)
    changed, op, _diff, _c = run(kube_api, plan2, approval_for(plan2), tmp_path)
    assert (changed, op["status"]) == (False, "validated")
    assert "already in the desired state" in op["validation"]["checks"][0]
    assert writes(kube_api) == []


def test_scale_to_same_size_is_no_change(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "scale", dict(WEB, container=None), {"replicas": 2})
    changed, op, _diff, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert (changed, op["status"]) == (False, "validated")
    assert writes(kube_api) == []


def evict(api, name):
    live = api.get("/api/v1/namespaces/shop/pods/%s" % name)
    live["status"] = {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."}
    api.set_status(live)


def test_delete_pod_of_controller(kube_api, tmp_path):
    seed_deployment(kube_api, restarts=0)
    target = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "web-new-0"}
    evict(kube_api, "web-new-0")   # trivial only for a Failed/Evicted pod of a ReplicaSet or Job
    plan = make_plan(kube_api, "delete_pod", target, tier="trivial")
    assert plan["risk_tier"] == "trivial"
    # deleting a pod does not change the Deployment's generation: write the healthy status by hand
    dep = kube_api.get(DEP)
    dep["status"].update(readyReplicas=2, availableReplicas=2)
    kube_api.set_status(dep)
    changed, op, _diff, _c = run(kube_api, plan, None, tmp_path)   # trivial: no approval needed
    assert op["status"] == "validated", op
    assert kube_api.get("/api/v1/namespaces/shop/pods/web-new-0").get("code") == 404
    deletes = writes(kube_api)
    assert [r["method"] for r in deletes] == ["DELETE"]


def test_delete_bare_pod_refused_below_critical(kube_api, tmp_path):
    kube_api.load([pod("lonely")])
    target = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "lonely"}
    plan = make_plan(kube_api, "delete_pod", target, tier="trivial", owner=None)
    assert plan["risk_tier"] == "critical"   # the plan floor already raises it
    plan = dict(plan)
    changed, op, _diff, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated" and changed   # critical + approved: allowed
    assert kube_api.get("/api/v1/namespaces/shop/pods/lonely").get("code") == 404


def test_remove_finalizers(kube_api, tmp_path):
    stuck = pod("stuck", owner=("ReplicaSet", "web-new", "rs-web-new"), finalizers=["example.com/block"])
    kube_api.load([stuck])
    kube_api.call("DELETE", "/api/v1/namespaces/shop/pods/stuck")   # now Terminating, held by the finalizer
    target = {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "stuck"}
    plan = make_plan(kube_api, "remove_finalizers", target, {"finalizers": ["example.com/block"]}, tier="critical",
                     owner=None)
    changed, op, _diff, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated", op
    assert kube_api.get("/api/v1/namespaces/shop/pods/stuck").get("code") == 404


# ------------------------------------------------------------------ refusals: nothing reaches the API

REFUSALS = [
    ("reject", dict(decision="reject", justification="not in business hours"), "rejected by alice"),
    ("no approval", None, "needs an approval"),
    ("other plan", dict(plan_id="ABCDEFGH"), "Approval is for plan ABCDEFGH"),
    ("expired", dict(decided_at="2026-01-01T00:00:00Z"), "older than the medium tier SLA"),
    ("no approver", dict(approver=""), "approver is blank"),
]


@pytest.mark.parametrize("name, override, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_changes_nothing(kube_api, tmp_path, name, override, message):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    before = spec_of(kube_api)
    kube_api.clear_requests()
    approval = None if override is None else approval_for(plan, **override)
    changed, op, _diff, cluster = run(kube_api, plan, approval, tmp_path)
    assert (changed, op["status"]) == (False, "refused")
    assert message in op["error"]
    # the executor reads the target to derive the tier itself; nothing else reaches the API
    assert {r["method"] for r in kube_api.requests} <= {"GET"}
    assert spec_of(kube_api) == before


def test_expired_plan_refused(kube_api, tmp_path):
    seed_deployment(kube_api)
    old = utcnow() - datetime.timedelta(minutes=31)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"}, now=old)
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan, decided_at=(old + datetime.timedelta(
        minutes=1)).isoformat()), tmp_path)
    assert op["status"] == "refused" and "expired at" in op["error"]
    assert {r["method"] for r in kube_api.requests} <= {"GET"}


def test_drift_since_planning_refused(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    kube_api.call("PATCH", DEP, {"spec": {"replicas": 5}}, content_type="application/merge-patch+json")
    kube_api.clear_requests()
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "refused"
    assert op["error"] == "Deployment shop/web changed since diagnosis (generation 3 -> 4): diagnose again"
    assert writes(kube_api) == []
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "256Mi"


def test_conditional_approval_executes_overridden_params(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import rebind
    rebound = rebind(plan, {"memory_limit": "512Mi"})
    approval = approval_for(plan, decision="conditional", params_override={"memory_limit": "512Mi"},
                            plan_id=rebound["plan_id"].lower())
    with Controller(kube_api):
        changed, op, _d, _c = run(kube_api, plan, approval, tmp_path)
    assert op["status"] == "validated" and op["plan_id"] == rebound["plan_id"]
    assert spec_of(kube_api)["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"


# ------------------------------------------------------------------ check mode, diff

def test_check_mode_writes_nothing_and_diffs(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    kube_api.clear_requests()
    changed, op, diff, _c = run(kube_api, plan, approval_for(plan), tmp_path, check_mode=True)
    assert (changed, op["status"]) == (True, "dry_run")     # check mode predicts the change it would make
    assert writes(kube_api) == []
    assert [r["method"] for r in kube_api.requests if r["query"].get("dryRun") == "All"] == ["PATCH"]
    before = diff["before"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    after = diff["after"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    assert (before, after) == ("256Mi", "384Mi")
    assert "status" not in diff["after"] and "resourceVersion" not in diff["after"]["metadata"]
    assert not (tmp_path / "ops").exists()


# ------------------------------------------------------------------ validation failure -> rollback

@pytest.mark.parametrize("controller", [dict(healthy=False), dict(healthy=True, crash=True)],
                         ids=["rollout-never-ready", "new-restart"])
def test_validation_failure_rolls_back_exact_spec(kube_api, tmp_path, controller):
    seed_deployment(kube_api, restarts=0)
    before = spec_of(kube_api)
    plan = make_plan(kube_api, "set_image", WEB, {"image": "shop/web:broken"})
    with Controller(kube_api, **controller):
        changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "rolled_back", op
    assert op["validation"]["passed"] is False
    assert op["rollback"]["attempted"] and op["rollback"]["succeeded"]
    assert "verified" in op["rollback"]["detail"]
    assert spec_of(kube_api) == before
    assert [r["method"] for r in writes(kube_api)] == ["PATCH", "PUT"]
    if controller.get("crash"):
        assert "restarted (0 -> 1)" in op["validation"]["checks"][-1]


def test_rollback_retries_on_conflict(kube_api, tmp_path):
    seed_deployment(kube_api, restarts=0)
    before = spec_of(kube_api)
    plan = make_plan(kube_api, "set_image", WEB, {"image": "shop/web:broken"})
    kube_api.fault(409, method="PUT", path_regex="deployments/web$", times=2,
                   message="the object has been modified; please apply your changes to the latest version")
    with Controller(kube_api, healthy=False):
        _changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "rolled_back", op
    assert spec_of(kube_api) == before
    assert [r["status"] for r in kube_api.requests if r["method"] == "PUT"] == [409, 409, 200]


def test_api_error_mid_change_is_reported_with_rollback(kube_api, tmp_path):
    seed_deployment(kube_api)
    before = spec_of(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    # Fault regexes see the path only, so the dry run and the real PATCH look alike: fail the second.
    state = {"n": 0}
    original = kube_api.emulator._check_faults

    def fail_second_patch(method, path, parts):
        if method == "PATCH":
            state["n"] += 1
            if state["n"] == 2:
                from tests.support.kube_emulator import ApiError
                raise ApiError(500, "Internal error occurred: injected fault")
        return original(method, path, parts)

    kube_api.emulator._check_faults = fail_second_patch
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "rolled_back"
    assert "Applying set memory limit" in op["error"] and "injected fault" in op["error"]
    assert op["rollback"]["attempted"] is True and op["rollback"]["succeeded"] is True
    assert "nothing to restore" in op["rollback"]["detail"]
    assert spec_of(kube_api) == before


def test_api_error_after_write_restores(kube_api, tmp_path):
    """The write lands but the response is lost (500 after commit): rollback must restore it."""
    seed_deployment(kube_api)
    before = spec_of(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    original = kube_api.emulator._dispatch
    state = {"n": 0}

    def commit_then_fail(method, parts, query, headers, body):
        result = original(method, parts, query, headers, body)
        if method == "PATCH" and query.get("dryRun") != "All":
            state["n"] += 1
            if state["n"] == 1:
                from tests.support.kube_emulator import ApiError
                raise ApiError(500, "Internal error occurred: etcdserver: request timed out")
        return result

    kube_api.emulator._dispatch = commit_then_fail
    changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "rolled_back", op
    assert changed is True
    assert "restored the saved object; verified" == op["rollback"]["detail"]
    assert spec_of(kube_api) == before


# ------------------------------------------------------------------ rollback by operation id, follow-up

def test_rollback_by_operation_id_within_five_minutes(kube_api, tmp_path):
    seed_deployment(kube_api)
    before = spec_of(kube_api)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    with Controller(kube_api):
        _changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    assert op["status"] == "validated"
    record = opstore.load(str(tmp_path / "ops"), op["operation_id"])
    started = time.monotonic()
    changed, result = rollback_operation(Cluster(HttpTransport(kube_api)), record, utcnow)
    elapsed = time.monotonic() - started
    assert changed and result["succeeded"], result
    assert spec_of(kube_api) == before
    assert elapsed < 300 and result["duration_seconds"] < 300
    changed, again = rollback_operation(Cluster(HttpTransport(kube_api)), record, utcnow)
    assert not changed and again["detail"] == "already equal to the saved object"


def test_followup_validation_sees_new_oom(kube_api, tmp_path):
    seed_deployment(kube_api, restarts=0)
    plan = make_plan(kube_api, "set_memory_limit", WEB, {"memory_limit": "384Mi"})
    with Controller(kube_api):
        _changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    record = opstore.load(str(tmp_path / "ops"), op["operation_id"])
    cluster = Cluster(HttpTransport(kube_api))
    assert followup_validation(cluster, record, 0, 0.1, utcnow)["passed"] is True
    p = kube_api.get("/api/v1/namespaces/shop/pods/web-new-1")
    p["status"] = pod("web-new-1", restarts=1, oom=True)["status"]
    kube_api.set_status(p)
    result = followup_validation(cluster, record, 0, 0.1, utcnow)
    assert result["passed"] is False
    assert any("OOM-killed" in check or "restarted" in check for check in result["checks"])


def test_tampered_record_is_refused(kube_api, tmp_path):
    seed_deployment(kube_api)
    plan = make_plan(kube_api, "scale", dict(WEB, container=None), {"replicas": 3})
    with Controller(kube_api):
        _changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
    path = op["pre_state_ref"]
    with open(path) as stream:
        data = json.load(stream)
    data["pre_state"]["spec"]["replicas"] = 50
    with open(path, "w") as stream:
        json.dump(data, stream)
    with pytest.raises(opstore.OpStoreError, match="was modified"):
        opstore.load(str(tmp_path / "ops"), op["operation_id"])


# ------------------------------------------------------------------ RBAC: every request is granted

def _granted():
    with open(os.path.join(REPO, "docs", "rbac", "remediate.yaml")) as stream:
        docs = [d for d in yaml.safe_load_all(stream) if d]
    granted = set()
    for doc in docs:
        for rule in doc.get("rules") or []:
            for group in rule.get("apiGroups") or []:
                for resource in rule.get("resources") or []:
                    for verb in rule.get("verbs") or []:
                        granted.add((group, resource, verb))
    return granted


def _verb_resource(request):
    parts = [p for p in request["path"].split("/") if p]
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    resource = rest[0]
    named = len(rest) > 1
    if len(rest) > 2:
        resource += "/" + rest[2]
    verb = {"GET": "get" if named else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}[request["method"]]
    return group, resource, verb


def test_rbac_manifest_covers_every_request_made(kube_api, tmp_path):
    granted = _granted()
    seen = set()
    seed_deployment(kube_api, restarts=0)
    node(kube_api)
    cases = [("set_memory_limit", WEB, {"memory_limit": "384Mi"}, "medium", True),
             ("rollout_restart", dict(WEB, container=None), {}, "low", True),
             ("rollout_undo", dict(WEB, container=None), {}, "medium", False),
             ("scale", dict(WEB, container=None), {"replicas": 4}, "medium", True),
             ("cordon_node", {"api_version": "v1", "kind": "Node", "name": "node-1"}, {}, "critical", True),
             ("delete_pod", {"api_version": "v1", "kind": "Pod", "namespace": "shop", "name": "web-new-1"}, {},
              "trivial", True)]
    for action, target, params, tier, healthy in cases:
        plan = make_plan(kube_api, action, target, params, tier)
        with Controller(kube_api, healthy=healthy):
            _changed, op, _d, _c = run(kube_api, plan, approval_for(plan), tmp_path)
        assert op["status"] in ("validated", "rolled_back", "failed"), op
        for request in kube_api.requests:
            seen.add(_verb_resource(request))
    missing = sorted(seen - granted)
    assert missing == [], "docs/rbac/remediate.yaml lacks %s" % missing
    assert ("apps", "deployments", "update") in seen       # a rollback happened (rollout_undo unhealthy)
    assert ("", "nodes", "patch") in seen and ("apps", "deployments/scale", "patch") in seen
