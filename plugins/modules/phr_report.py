#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: phr_report
short_description: Compute the operations metrics (MTTD, MTTR, approval SLA, record completeness, rollbacks) from PHR records
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Reads the newest revision of every record the C(aiops.k8s.phr) callback wrote in a time range and
    computes MTTD (failure start to diagnosis), MTTR (failure start to validated fix), approval latency
    from the moment the plan was shown to the decision, against the SLA the plan carried, the share of
    medium and critical operations with a complete record (target 100%; operations of the operation
    store without a record and stub records count against it), and rollbacks with their durations
    (target under 5 minutes).
  - Figures are per incident (same target and diagnosis category), so an incident counts once. Failure
    start is the diagnosis' C(failure_started_at); records without it show MTTD unknown.
  - Lists follow-up checks (5 min, 1 h) that are due but missing and open follow-up items from lessons.
  - Runs the same verification as M(aiops.k8s.phr_verify) first and returns it under C(verification).
  - Returns the figures plus chart geometry; the C(playbooks/phr_report.yml) playbook renders them as
    Markdown and as a self-contained HTML page.
  - Read-only.
options:
  record_dir:
    description:
      - The PHR record directory. Defaults to E(AIOPS_K8S_PHR_DIR), else C(~/.local/state/aiops-k8s/phr).
    type: path
    default: ~/.local/state/aiops-k8s/phr
  since:
    description:
      - Start of the range (inclusive), by the time a record was first written. RFC 3339, a date
        (V(2026-11-01)) or relative to now (V(24h), V(7d), V(4w)). Default is the beginning.
    type: str
  before:
    description:
      - End of the range (exclusive), same formats as O(since). Default is now.
    type: str
  state_dir:
    description:
      - The operation store whose operations without a record count against compliance. Defaults to
        E(AIOPS_K8S_STATE_DIR), else C(~/.local/state/aiops-k8s/operations).
    type: path
  head_file:
    description:
      - The callback's head file, used as the anchor of the verification (E(AIOPS_K8S_PHR_HEAD_FILE)).
    type: path
extends_documentation_fragment:
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Reads only; check mode computes the same report.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Metrics of the last 30 days
  aiops.k8s.phr_report:
    since: 30d
  register: phr

- name: Show the share of medium/critical operations with a complete record
  ansible.builtin.debug:
    msg: "{{ phr.report.completeness.share_text }}"
"""

RETURN = r"""
report:
  description: The computed metrics; input of templates/phr/report.md.j2 and report.html.j2.
  returned: always
  type: dict
  contains:
    verification:
      description: Result of the chain verification (ok, message, keyed, anchored, applying).
      type: dict
    tiles:
      description: Headline figures with the seed's targets; state is good, bad or unknown.
      type: list
      elements: dict
    incidents:
      description: One row per incident with its failure start, MTTD, MTTR and latest status.
      type: list
      elements: dict
    missing_checks:
      description: Follow-up checks that are due but were never recorded.
      type: list
      elements: dict
    open_follow_ups:
      description: Open follow-up items from lessons learned (owner, due date).
      type: list
      elements: dict
    record_count:
      description: Records in the range.
      type: int
    operation_count:
      description: Operation records in the range.
      type: int
    mttd:
      description: MTTD statistics (count, mean_seconds, median_seconds, max_seconds and text forms).
      type: dict
    mttr:
      description: MTTR statistics, same keys as mttd.
      type: dict
    tiers:
      description: Approval latency statistics, SLA and breaches per risk tier.
      type: list
      elements: dict
    sla_breaches:
      description: Approvals slower than the SLA of their tier.
      type: int
    completeness:
      description: Medium/critical operations (audited), how many have a complete record, share and the incomplete ones.
      type: dict
    rollbacks:
      description: Rollbacks attempted, succeeded, duration statistics and how many exceeded 5 minutes.
      type: dict
    rows:
      description: One summary row per record.
      type: list
      elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import RecordError
from ansible_collections.aiops.k8s.plugins.module_utils.records.report import compute_report, parse_since
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import load_key, load_latest_records, read_head
from ansible_collections.aiops.k8s.plugins.module_utils.records.verify import verify_store
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.opstore import state_dir as default_state_dir

DEFAULT_RECORD_DIR = "~/.local/state/aiops-k8s/phr"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            record_dir=dict(type="path", default=DEFAULT_RECORD_DIR, fallback=(env_fallback, ["AIOPS_K8S_PHR_DIR"])),
            since=dict(type="str"),
            before=dict(type="str"),
            state_dir=dict(type="path"),
            head_file=dict(type="path", fallback=(env_fallback, ["AIOPS_K8S_PHR_HEAD_FILE"])),
        ),
        supports_check_mode=True,
    )
    params = module.params
    record_dir = params["record_dir"]
    now = utcnow()
    try:
        since = parse_since(params["since"], now)
        until = parse_since(params["before"], now)
        if not os.path.isdir(record_dir):
            raise RecordError("PHR record directory %s does not exist: pass record_dir or set AIOPS_K8S_PHR_DIR"
                              % record_dir)
        anchor = read_head(params["head_file"]) if params["head_file"] else None
        verification = verify_store(record_dir, default_state_dir(params["state_dir"]), key=load_key(record_dir),
                                    anchor=anchor)
        records = load_latest_records(record_dir, since, until)
        report = compute_report(records, since, until, now, verification)
    except RecordError as exc:
        module.fail_json(msg=str(exc), changed=False)
    report["record_dir"] = record_dir
    module.exit_json(changed=False, report=report)


if __name__ == "__main__":
    main()
