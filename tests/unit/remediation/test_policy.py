"""The one safety policy: tier table, code floors, and a merge that can only raise."""

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import InvalidInput
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import ACTIONS, RISK_TIERS
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as pol

POD = {"kind": "Pod", "namespace": "shop", "name": "web-1"}
DEP = {"kind": "Deployment", "namespace": "shop", "name": "web"}
STS = {"kind": "StatefulSet", "namespace": "shop", "name": "db"}


def facts(phase="Running", reason=None, owner="ReplicaSet", static=False):
    return {"phase": phase, "reason": reason, "owner_kind": owner, "static": static}


@pytest.mark.parametrize("action, target, params, pod, tier", [
    ("delete_pod", POD, {}, facts("Failed", "Evicted"), "trivial"),
    ("delete_pod", POD, {}, facts("Succeeded", owner="Job"), "trivial"),
    ("delete_pod", POD, {}, facts("Failed", "Evicted", owner=None), "low"),          # bare failed pod: not trivial
    ("delete_pod", POD, {}, facts("Running", owner=None), "critical"),               # bare running pod
    ("delete_pod", POD, {}, facts("Running"), "low"),                                # Running: never trivial
    ("delete_pod", POD, {}, facts("Failed", owner="StatefulSet"), "medium"),         # StatefulSet member
    ("delete_pod", POD, {}, facts("Failed", "Evicted", static=True), "medium"),      # static pod
    ("delete_pod", POD, {"grace_period_seconds": 0}, facts("Failed", "Evicted"), "medium"),
    ("delete_pod", POD, {"force": True, "grace_period_seconds": 0}, facts(owner="StatefulSet"), "critical"),
    ("delete_pod", dict(POD, namespace="kube-system"), {}, facts("Failed", "Evicted"), "critical"),
    ("delete_pod", POD, {}, None, "critical"),                                       # nothing known: strictest
    ("rollout_restart", DEP, {}, None, "low"),
    ("rollout_restart", STS, {}, None, "medium"),
    ("set_memory_limit", DEP, {}, None, "medium"),
    ("remove_finalizers", POD, {}, facts(), "critical"),
    ("cordon_node", {"kind": "Node", "name": "n1"}, {}, None, "critical"),
    ("bogus", DEP, {}, None, "critical"),
])
def test_tier_table(action, target, params, pod, tier):
    assert pol.derive_tier(action, target, params, pod)[0] == tier


def test_table_is_known_vocabulary():
    for action, _situation, tier in pol.TIER_TABLE:
        assert action in ("any", "other") or action in ACTIONS
        assert tier in RISK_TIERS
    assert set(pol.ACTION_FLOORS) == set(ACTIONS)


def test_policy_rules_raise_never_lower():
    policy = pol.merge({"rules": [{"namespace_glob": "prod-*", "min_tier": "critical"}]},
                       {"rules": [{"namespace_glob": "*", "min_tier": "trivial"}]})
    assert pol.derive_tier("set_image", dict(DEP, namespace="prod-eu"), {}, None, policy)[0] == "critical"
    assert pol.derive_tier("set_image", DEP, {}, None, policy)[0] == "medium"


def test_extra_policy_cannot_drop_floors_or_lengthen_slas():
    # {rules: []} from extra vars: the kube-system floor is code and still applies.
    policy = pol.merge({}, {"rules": []})
    assert pol.derive_tier("delete_pod", dict(POD, namespace="kube-system"), {}, facts("Failed", "Evicted"),
                           policy)[0] == "critical"
    year = pol.merge({}, {"tier_sla_seconds": {"critical": 365 * 86400, "low": 60}})
    assert pol.sla_seconds("critical", year) == 7200
    assert pol.sla_seconds("low", year) == 60
    loose = pol.merge({}, {"limits": {"max_memory": "1Ti", "max_replicas": 5}})
    assert loose["limits"] == {"max_memory": "16Gi", "max_replicas": 5}


def test_bad_policy_named():
    with pytest.raises(InvalidInput, match="rule 0"):
        pol.merge({}, {"rules": [{"namespace_glob": "x"}]})
    with pytest.raises(InvalidInput, match="tier_sla_seconds.low"):
        pol.merge({}, {"tier_sla_seconds": {"low": -1}})
    with pytest.raises(InvalidInput, match="unknown key"):
        pol.merge({}, {"ruels": []})


def test_params_and_override_bounds():
    pol.check_params("set_image", {"image": "a:1", "previous_image": "a:0"})
    with pytest.raises(InvalidInput, match="unknown key.*grace_period_seconds"):
        pol.check_params("set_image", {"image": "a:1", "grace_period_seconds": 0})
    params = {"image": "registry.example.com/shop/web:1.4", "previous_image": "registry.example.com/shop/web:1.5"}
    pol.check_override("set_image", params, {"image": "registry.example.com/shop/web:1.3"})
    with pytest.raises(InvalidInput, match="repository the plan did not"):
        pol.check_override("set_image", params, {"image": "evil.example.com/shop/web:1.3"})
    with pytest.raises(InvalidInput, match="above the policy maximum"):
        pol.check_override("set_memory_limit", {"memory_limit": "384Mi"}, {"memory_limit": "64Gi"})
    with pytest.raises(InvalidInput, match="may not set grace_period_seconds"):
        pol.check_override("delete_pod", {}, {"grace_period_seconds": 0})
    with pytest.raises(InvalidInput, match="replicas"):
        pol.check_override("scale", {"replicas": 2}, {"replicas": 5000})


def test_site_policy_file(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("aiops_remediation_policy:\n  rules:\n    - {namespace_glob: 'pay', min_tier: critical}\n")
    site = pol.load_site_policy({pol.ENV_POLICY_FILE: str(path)})
    assert pol.derive_tier("scale", dict(DEP, namespace="pay"), {}, None, pol.merge(site))[0] == "critical"
    assert pol.load_site_policy({}) == {}
    with pytest.raises(InvalidInput, match="Cannot read the site policy"):
        pol.load_site_policy({pol.ENV_POLICY_FILE: str(tmp_path / "missing")})


def test_unsigned_and_four_eyes_only_get_stricter():
    merged = pol.merge({"unsigned_max_tier": "medium", "four_eyes_tiers": ["medium"]},
                       {"unsigned_max_tier": "critical"})
    assert merged["unsigned_max_tier"] == "medium"                 # extra vars cannot widen it
    assert merged["four_eyes_tiers"] == ["medium", "critical"]
    assert pol.merge()["four_eyes_tiers"] == ["critical"]
    with pytest.raises(InvalidInput, match="unsigned_max_tier"):
        pol.merge({"unsigned_max_tier": "none"})


def test_unsigned_approvals_fail_closed_without_a_site_policy():
    """An unsigned approver is a claim: the code floor accepts it up to low; only the site policy raises that."""
    assert pol.UNSIGNED_MAX_TIER == "low"
    assert pol.merge()["unsigned_max_tier"] == "low"
    assert pol.merge(None, {"unsigned_max_tier": "critical"})["unsigned_max_tier"] == "low"    # extra vars: no
    assert pol.merge(None, {"unsigned_max_tier": "trivial"})["unsigned_max_tier"] == "trivial"  # may only lower
    assert pol.merge({"unsigned_max_tier": "critical"})["unsigned_max_tier"] == "critical"     # the site may
    assert pol.merge({"unsigned_max_tier": "trivial"}, {"unsigned_max_tier": "medium"})["unsigned_max_tier"] == \
        "trivial"


def test_justification_pattern_comes_from_the_site_only():
    assert pol.merge({"justification_pattern": "INC-[0-9]+"}, {"justification_pattern": "."})[
        "justification_pattern"] == "INC-[0-9]+"
    with pytest.raises(InvalidInput, match="not a regular expression"):
        pol.merge({"justification_pattern": "("})
