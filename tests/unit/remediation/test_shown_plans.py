"""The shown-plans store (remediation/shown.py): first showing wins, only genuine showings count.

Real files in a temporary operation store; plans built by remediation/plan.py and signed with a test key.
"""

import datetime
import json
import os
import stat

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore, shown
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import build_plan

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def signed_plan(make_diagnosis, make_deployment, when, key=KEY):
    return integrity.sign(build_plan(make_diagnosis(), make_deployment(), when), key)


def test_first_showing_is_recorded_and_kept(tmp_path, make_diagnosis, make_deployment, now):
    first = signed_plan(make_diagnosis, make_deployment, now)
    kept, recorded, problems = shown.record_shown(str(tmp_path), first, KEY, now)
    assert recorded and kept is first and problems == []
    path = shown.shown_path(str(tmp_path), first["plan_id"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert json.loads(open(path).read()) == first

    # Showing the same plan id again ten minutes later never moves the shown time forward.
    later = now + datetime.timedelta(minutes=10)
    again = signed_plan(make_diagnosis, make_deployment, later)
    assert again["plan_id"] == first["plan_id"] and again["created_at"] != first["created_at"]
    kept, recorded, problems = shown.record_shown(str(tmp_path), again, KEY, later)
    assert not recorded and kept == first and problems == []
    assert json.loads(open(path).read())["created_at"] == first["created_at"]


def test_an_expired_showing_is_replaced_by_a_new_one(tmp_path, make_diagnosis, make_deployment, now):
    first = signed_plan(make_diagnosis, make_deployment, now)   # medium: 30 min
    shown.record_shown(str(tmp_path), first, KEY, now)
    later = now + datetime.timedelta(minutes=31)
    again = signed_plan(make_diagnosis, make_deployment, later)
    kept, recorded, _problems = shown.record_shown(str(tmp_path), again, KEY, later)
    assert recorded and kept is again
    stored, problems = shown.load_shown(str(tmp_path), first["plan_id"], KEY)
    assert stored == again and problems == []


def test_forged_or_broken_showings_are_ignored_with_a_note(tmp_path, make_diagnosis, make_deployment, now):
    plan = signed_plan(make_diagnosis, make_deployment, now)
    path = shown.shown_path(str(tmp_path), plan["plan_id"])
    assert shown.load_shown(str(tmp_path), plan["plan_id"], KEY) == (None, [])
    os.makedirs(os.path.dirname(path))
    # moved back an hour but not re-signed; signed with another key; a plan whose content is not its id
    earlier = dict(plan, created_at="2026-11-25T19:00:00Z")
    other = signed_plan(make_diagnosis, make_deployment, now, OTHER_KEY)
    edited = integrity.sign(dict({k: v for k, v in plan.items() if k != "mac"}, action="scale"), KEY)
    for forged in (earlier, other, edited):
        with open(path, "w") as handle:
            json.dump(forged, handle)
        stored, problems = shown.load_shown(str(tmp_path), plan["plan_id"], KEY)
        assert stored is None and len(problems) == 1 and "never trusted" in problems[0], forged
    with open(path, "w") as handle:
        handle.write("{not json")
    assert "not valid JSON" in shown.load_shown(str(tmp_path), plan["plan_id"], KEY)[1][0]
    # a genuine showing replaces a forged one
    with open(path, "w") as handle:
        json.dump(earlier, handle)
    kept, recorded, problems = shown.record_shown(str(tmp_path), plan, KEY, now)
    assert recorded and kept is plan and "never trusted" in problems[0]
    assert shown.load_shown(str(tmp_path), plan["plan_id"], KEY) == (plan, [])


def test_only_genuine_plans_are_recorded_and_ids_never_name_a_path(tmp_path, make_diagnosis, make_deployment, now):
    plan = signed_plan(make_diagnosis, make_deployment, now)
    with pytest.raises(opstore.OpStoreError, match="no valid MAC"):
        shown.record_shown(str(tmp_path), dict(plan, created_at="2026-11-25T18:00:00Z"), KEY, now)
    for bad in ("../../etc/passwd", plan["plan_id"].lower(), plan["plan_id"] + "2", None):
        with pytest.raises(opstore.OpStoreError, match="not a plan id"):
            shown.shown_path(str(tmp_path), bad)
    assert not os.path.exists(os.path.join(str(tmp_path), shown.SHOWN_DIR))


def test_bind_takes_the_first_showing(tmp_path, make_diagnosis, make_deployment, now):
    first = signed_plan(make_diagnosis, make_deployment, now)
    shown.record_shown(str(tmp_path), first, KEY, now)
    replan = signed_plan(make_diagnosis, make_deployment, now + datetime.timedelta(minutes=40))
    bound, problems = shown.bind_shown(replan, str(tmp_path), KEY, shown_here=False)
    assert problems == [] and integrity.verify(bound, KEY)
    assert bound["plan_id"] == replan["plan_id"]
    assert bound["created_at"] == bound["plan_shown_at"] == first["created_at"]
    assert bound["expires_at"] == first["expires_at"]
    assert shown.shown_at(bound) == first["created_at"]
    # the plan given is the one the approver saw (artifact, interactive): its own time stands, untouched
    assert shown.bind_shown(replan, str(tmp_path), KEY, shown_here=True) == (replan, [])
    assert shown.shown_at(replan) == replan["created_at"]


def test_bind_without_a_showing_makes_the_shown_time_unknown(tmp_path, make_diagnosis, make_deployment, now):
    replan = signed_plan(make_diagnosis, make_deployment, now)
    bound, problems = shown.bind_shown(replan, str(tmp_path), KEY, shown_here=False)
    assert bound["plan_shown_at"] is None and shown.shown_at(bound) is None
    assert bound["created_at"] == replan["created_at"] and integrity.verify(bound, KEY)
    assert len(problems) == 1 and "shown to the approver is unknown" in problems[0]
    # a forged showing: ignored, noted, and the shown time is unknown rather than the forged one
    path = shown.shown_path(str(tmp_path), replan["plan_id"])
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as handle:
        json.dump(dict(replan, created_at="2026-11-25T19:00:00Z"), handle)
    bound, problems = shown.bind_shown(replan, str(tmp_path), KEY, shown_here=False)
    assert bound["plan_shown_at"] is None and len(problems) == 2 and "never trusted" in problems[0]


def test_bind_never_signs_a_plan_that_is_not_genuine(tmp_path, make_diagnosis, make_deployment, now):
    first = signed_plan(make_diagnosis, make_deployment, now)
    shown.record_shown(str(tmp_path), first, KEY, now)
    forged = dict(first, params={"memory_limit": "64Gi", "previous_memory_limit": "256Mi"})
    assert shown.bind_shown(forged, str(tmp_path), KEY, shown_here=False) == (forged, [])
    foreign = signed_plan(make_diagnosis, make_deployment, now, OTHER_KEY)
    assert shown.bind_shown(foreign, str(tmp_path), KEY, shown_here=False) == (foreign, [])


def test_an_unwritable_store_is_an_op_store_error(tmp_path, make_diagnosis, make_deployment, now):
    """remediation_plan turns this into a warning: planning stands, only the later shown time is unknown."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    plan = signed_plan(make_diagnosis, make_deployment, now)
    with pytest.raises(opstore.OpStoreError):
        shown.record_shown(str(blocker), plan, KEY, now)
