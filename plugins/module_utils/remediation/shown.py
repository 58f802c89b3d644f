# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plans shown to an approver, kept in the operation store so approval latency and expiry start at the showing.

A plan id does not depend on the time, so the documented pre-approval (``-e approval_plan_id=...`` without
the plan artifact) diagnoses and plans again and gets the same id with a *new* ``created_at``. Judged by
that re-plan, the approval latency is the few seconds between re-plan and decision (an SLA breach could
never show) and the expiry clock restarts on every run. So the plan stage keeps the plan it showed, MAC
signed, in ``<state_dir>/shown-plans/<plan id>.json``: first writer wins (re-showing an id never moves its
shown time forward) until that showing expires, when a new showing may replace it (else an unchanged target
could never be approved again). A run that re-planned takes ``created_at``/``expires_at`` from that first
showing; without one the shown time is recorded as unknown (null), never as the re-plan's time.

A stored showing counts only with a valid MAC under the plan key: a forged or edited file is ignored with
a problem note. Pointing state_dir elsewhere can only make the shown time unknown, never earlier or later.
"""

from __future__ import absolute_import, division, print_function

import errno
import json
import os
import re

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import parse_time
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import integrity, opstore
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import (
    PLAN_ID_ALPHABET, PLAN_ID_LENGTH, compute_plan_id,
)

__metaclass__ = type

SHOWN_DIR = "shown-plans"
PLAN_ID_RE = re.compile(r"^[%s]{%d}$" % (PLAN_ID_ALPHABET, PLAN_ID_LENGTH))


def shown_path(directory, plan_id):
    """<store>/shown-plans/<plan id>.json; the id is checked first, so it can never name another path."""
    if not isinstance(plan_id, str) or not PLAN_ID_RE.match(plan_id):
        raise opstore.OpStoreError("Plan id %r is not a plan id (%d symbols of %s)"
                                   % (plan_id, PLAN_ID_LENGTH, PLAN_ID_ALPHABET))
    return os.path.join(directory, SHOWN_DIR, plan_id + ".json")


def _genuine(plan, key):
    """True for a plan whose id matches its content and whose MAC is valid under ``key``."""
    return isinstance(plan, dict) and isinstance(plan.get("plan_id"), str) and \
        plan["plan_id"] == compute_plan_id(plan) and integrity.verify(plan, key) and \
        parse_time(plan.get("created_at")) is not None


def load_shown(directory, plan_id, key):
    """(the first showing of ``plan_id`` as stored, problems). None when there is none or it cannot be trusted."""
    path = shown_path(directory, plan_id)
    try:
        with open(path) as stream:
            stored = json.load(stream)
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == errno.ENOENT:
            return None, []
        return None, ["the stored showing of plan %s (%s) cannot be read (%s): ignored"
                      % (plan_id, path, exc.strerror or exc)]
    except ValueError:
        return None, ["the stored showing of plan %s (%s) is not valid JSON: ignored" % (plan_id, path)]
    if not _genuine(stored, key) or stored.get("plan_id") != plan_id:
        return None, ["the stored showing of plan %s (%s) carries no valid MAC for this site's plan key or does not "
                      "match its id: it was edited or forged, so it is ignored, never trusted" % (plan_id, path)]
    return stored, []


def _write(path, plan):
    opstore.write_json_atomic(path, plan, "the shown plans", prefix=".shown-")


def record_shown(directory, plan, key, now):
    """Keep ``plan`` (signed) as shown now unless a live showing of its id is already stored.

    Returns (the first showing: the stored one or ``plan``, recorded, problems). Under the store lock, so
    two plan runs never both become the first. An expired, unreadable or forged showing is replaced.
    """
    if not _genuine(plan, key):
        raise opstore.OpStoreError("Plan %s carries no valid MAC: it is not recorded as shown"
                                   % (plan or {}).get("plan_id"))
    path = shown_path(directory, plan["plan_id"])
    with opstore.locked(directory):
        stored, problems = load_shown(directory, plan["plan_id"], key)
        expires = parse_time((stored or {}).get("expires_at"))
        if stored is not None and expires is not None and now <= expires:
            return stored, False, problems
        _write(path, plan)
    return plan, True, problems


def shown_at(plan):
    """When ``plan`` was shown to the approver: its plan_shown_at once bound here (None: unknown), else created_at."""
    if not isinstance(plan, dict):
        return None
    return plan["plan_shown_at"] if "plan_shown_at" in plan else plan.get("created_at")


def with_shown_time(plan, shown, key):
    """``plan`` with the shown time of ``shown`` (a stored showing, or None for unknown), signed again.

    created_at/expires_at are not part of the plan id; plan_shown_at is what the gate measures latency from.
    """
    bound = {k: v for k, v in plan.items() if k != integrity.FIELD}
    if shown is None:
        bound["plan_shown_at"] = None
    else:
        bound.update(created_at=shown["created_at"], expires_at=shown.get("expires_at"),
                     plan_shown_at=shown["created_at"])
    return integrity.sign(bound, key)


def bind_shown(plan, directory, key, shown_here):
    """The plan to execute, with its shown time from the store; (plan, problems).

    ``shown_here``: the plan given is the one the approver saw (the plan-stage artifact, or planned in this
    run before an interactive approval), so its own created_at stands. Otherwise it was planned again for a
    pre-approval given on an earlier showing: the first stored showing of its id gives the shown time, and
    without one the shown time is unknown. A plan that is not genuine is returned as given (the executor
    refuses it); it is never signed here.
    """
    if shown_here or not _genuine(plan, key):
        return plan, []
    try:
        stored, problems = load_shown(directory, plan["plan_id"], key)
    except opstore.OpStoreError as exc:
        stored, problems = None, [str(exc)]
    if stored is None:
        problems.append("plan %s was planned again in this run and no showing of it by the plan stage is recorded "
                        "in %s: the time it was shown to the approver is unknown, so approval latency and SLA "
                        "breach are not recorded (null); expiry counts from this re-plan"
                        % (plan["plan_id"], os.path.join(directory, SHOWN_DIR)))
    return with_shown_time(plan, stored, key), problems
