"""Approval latency and expiry count from the moment the plan stage showed the plan, over HTTP.

The documented command-line pre-approval (``remediate_pod.yml -e approval_plan_id=... -e approver=...``
without the plan artifact) diagnoses and plans again; the re-plan has the same id and a new created_at.
The plan stage keeps its showing (MAC signed) in the operation store, and the execute run takes the shown
time and expiry from there: a late approval is a breach and is refused, a quick one is measured from the
plan stage, and a forged stored showing is ignored with a problem note (shown time unknown, null).

Same site set-up as tests/integration/test_phr_figures.py (random plan key, trusted site policy with
``unsigned_max_tier: critical``, the aiops.k8s.phr callback). Time is moved back the only honest way: the
stored showing's created_at/expires_at (outside the plan id) edited and re-signed with the site key, as the
operator holding that key could.
"""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, parse_time, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity
from tests.integration.test_phr_figures import Site, seed_failing_since
from tests.integration.test_remediation_actions import Controller

pytestmark = pytest.mark.integration

WRITES = ("PATCH", "PUT", "POST", "DELETE")


def stored_path(site, plan_id):
    return site.ops / "shown-plans" / ("%s.json" % plan_id)


def preapproved(site, plan_id, expect_ok=True):
    """remediate_pod.yml pre-approved by alice on the command line, without the plan artifact (plans again)."""
    variables = {"pod": "web-new-0", "pod_namespace": "shop", "approval_plan_id": plan_id,
                 "approval_decision": "approve", "approver": "alice", "justification": "INC-7 OOM loop",
                 "validation_window": 2, "poll_interval": 0.5}
    with Controller(site.api, duration=280):  # plays the Deployment controller; stops when the run ends
        out = site.play("remediate_pod", variables, expect_ok=expect_ok)
    entries = [e for e in site.entries() if e["record_id"].startswith("op-")]
    assert entries, out[-4000:]
    _entry, record = site.latest(entries[-1]["record_id"])
    return record, out


def real_writes(api):
    return [r for r in api.requests if r["method"] in WRITES and r["query"].get("dryRun") != "All"]


def test_late_preapproval_counts_from_the_plan_stage_and_is_refused(kube_api, tmp_path):
    seed_failing_since(kube_api, utcnow() - datetime.timedelta(hours=1))
    site = Site(kube_api, tmp_path)
    plan = site.plan_stage()
    assert plan["risk_tier"] == "medium" and plan["sla_seconds"] == 1800
    path = stored_path(site, plan["plan_id"])
    assert json.loads(path.read_text()) == plan  # the showing, as shown
    # The plan was shown 40 minutes ago (the operator's clock): age the stored showing, re-signed with the site key.
    aged = {k: v for k, v in json.loads(path.read_text()).items() if k != integrity.FIELD}
    shown_at = parse_time(plan["created_at"]) - datetime.timedelta(minutes=40)
    aged.update(created_at=isoformat(shown_at), expires_at=isoformat(shown_at + datetime.timedelta(seconds=1800)))
    path.write_text(json.dumps(integrity.sign(aged, site.key.encode())))

    kube_api.clear_requests()
    record, out = preapproved(site, plan["plan_id"], expect_ok=False)
    since_plan_stage = (utcnow() - parse_time(plan["created_at"])).total_seconds()
    assert "expired at %s" % isoformat(shown_at + datetime.timedelta(seconds=1800)) in out, out[-3000:]
    assert not real_writes(kube_api), real_writes(kube_api)
    decision = record["decision"]
    assert record["status"] == "refused" and decision["verdict"] == "refused" and decision["tier"] == "medium"
    assert parse_time(decision["plan_shown_at"]) == shown_at, decision
    # decided when the execute run reached its gate: 40 minutes plus the seconds since the plan stage ran
    assert 2400 < decision["latency_seconds"] <= 2400 + since_plan_stage, (decision, since_plan_stage)
    assert decision["latency_seconds"] == pytest.approx(
        (parse_time(decision["decided_at"]) - shown_at).total_seconds(), abs=1)
    assert decision["sla_breached"] is True and decision["sla_seconds"] == 1800


def test_quick_preapproval_counts_from_the_plan_stage_and_executes(kube_api, tmp_path):
    seed_failing_since(kube_api, utcnow() - datetime.timedelta(minutes=30))
    site = Site(kube_api, tmp_path)
    plan = site.plan_stage()
    path = stored_path(site, plan["plan_id"])
    first = path.read_text()
    # Showing the same plan id again keeps the first showing: same created_at/expires_at, store untouched.
    again = site.plan_stage()
    assert again["plan_id"] == plan["plan_id"] and again["created_at"] == plan["created_at"]
    assert again["expires_at"] == plan["expires_at"] and again["plan_shown_at"] == plan["created_at"]
    assert path.read_text() == first

    before_execute = utcnow()
    kube_api.clear_requests()
    record, _out = preapproved(site, plan["plan_id"])
    assert record["status"] == "validated" and real_writes(kube_api)
    decision = record["decision"]
    assert decision["verdict"] == "approved" and decision["plan_shown_at"] == plan["created_at"], decision
    # measured from the plan stage: longer than the gap between the execute run's re-plan and its decision
    gap = (before_execute - parse_time(plan["created_at"])).total_seconds()
    assert decision["latency_seconds"] >= gap > 1, (decision, gap)
    assert decision["latency_seconds"] == pytest.approx(
        (parse_time(decision["decided_at"]) - parse_time(plan["created_at"])).total_seconds(), abs=1)
    assert decision["sla_breached"] is False and not [p for p in record["problems"] if "shown" in p]


@pytest.mark.parametrize("stored", ["forged", "absent"])
def test_forged_or_missing_showing_leaves_the_shown_time_unknown(kube_api, tmp_path, stored):
    seed_failing_since(kube_api, utcnow() - datetime.timedelta(minutes=30))
    site = Site(kube_api, tmp_path)
    plan = site.plan_stage()
    path = stored_path(site, plan["plan_id"])
    if stored == "forged":
        # moved 40 minutes back without the site key: the old MAC no longer matches
        forged = json.loads(path.read_text())
        forged["created_at"] = isoformat(parse_time(plan["created_at"]) - datetime.timedelta(minutes=40))
        path.write_text(json.dumps(forged))
    else:
        path.unlink()

    record, out = preapproved(site, plan["plan_id"])
    assert record["status"] == "validated"  # the re-plan's own expiry still bounds the approval
    decision = record["decision"]
    assert decision["plan_shown_at"] is None and decision["latency_seconds"] is None, decision
    assert decision["sla_breached"] is None
    notes = " ".join(record["problems"])
    assert "shown to the approver is unknown" in notes and "shown to the approver is unknown" in \
        (decision["verdict_reason"] or ""), record["problems"]
    assert ("never trusted" in notes) == (stored == "forged"), notes
    assert "never trusted" not in out or stored == "forged"
