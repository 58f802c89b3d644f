#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: phr_verify
short_description: Verify the hash chain of the operation history records (PHR) and find missing records
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Walks the append-only index C(index.jsonl) of a PHR record directory written by the
    C(aiops.k8s.phr) callback, recomputes every entry hash and the SHA-256 of every record file, and
    reports the first broken link (which index line, which file, expected and actual value).
  - Lists record files that no index entry names, and operations saved in the operation store (the
    pre-change objects written by M(aiops.k8s.remediate)) that have no record, which is how a run that
    changed the cluster without writing its record is found afterwards.
  - With the chain key (E(AIOPS_K8S_PHR_KEY) or a key file named by E(AIOPS_K8S_PHR_KEY_FILE), kept outside
    the record directory) every entry's HMAC is checked, so a chain recomputed by whoever can write the
    record directory fails.
  - With an anchor kept elsewhere (O(expected_head) from a C(PHR-SUMMARY) line of a job log, O(head_file)
    written by the callback, or O(min_entries)) a cut tail, appended entries and a wiped directory are detected.
  - Checks that the revisions of each record form a line (none forks) and lists operations whose record was
    left C(applying) by an interrupted run.
  - Read-only. Run it on the controller that holds the records.
options:
  record_dir:
    description:
      - The PHR record directory (the callback's C(record_dir)).
      - Defaults to E(AIOPS_K8S_PHR_DIR), else C(~/.local/state/aiops-k8s/phr).
    type: path
    default: ~/.local/state/aiops-k8s/phr
  state_dir:
    description:
      - The operation store to cross-check. Defaults to E(AIOPS_K8S_STATE_DIR), else
        C(~/.local/state/aiops-k8s/operations). Operations found there without a record are reported.
    type: path
  check_operations:
    description:
      - Cross-check the operation store. Turn off when the store lives on another machine.
    type: bool
    default: true
  expected_head:
    description:
      - The chain head to expect, as C(<seq>:<hash>) (the C(seq) and C(hash) of the last C(PHR-SUMMARY) line or
        sink POST) or a bare hash. The last index entry must be exactly this one.
    type: str
  head_file:
    description:
      - A head file written by the callback (its C(head_file) option, E(AIOPS_K8S_PHR_HEAD_FILE)); used as the
        anchor when O(expected_head) is not given.
    type: path
  min_entries:
    description:
      - The least number of index entries expected; fewer means a truncated or wiped index.
    type: int
  fail_on_error:
    description:
      - Fail the task when the chain is broken, a file is unindexed or an operation has no record.
      - With V(false) the problems are only returned.
    type: bool
    default: true
extends_documentation_fragment:
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Reads only; check mode runs the same verification.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
requirements:
  - python >= 3.8
seealso:
  - module: aiops.k8s.phr_report
    description: The MTTD, MTTR and approval-SLA report over the same records; it runs this verification first.
  - module: aiops.k8s.phr_annotate
    description: Appends lessons learned and follow-ups as a new, chained revision.
"""

EXAMPLES = r"""
- name: Verify the operation history records on this controller
  aiops.k8s.phr_verify:
  register: phr_check

- name: Report problems without failing
  aiops.k8s.phr_verify:
    record_dir: /var/lib/aiops/phr
    state_dir: /var/lib/aiops/operations
    fail_on_error: false
  register: phr_check
"""

RETURN = r"""
ok:
  description: True when the chain is intact, every file is indexed and every operation has a record.
  returned: always
  type: bool
entries:
  description: Number of index entries read.
  returned: always
  type: int
  sample: 12
records:
  description: Number of distinct record ids in the index.
  returned: always
  type: int
  sample: 9
first_broken:
  description: The first broken link, or null when the chain is intact.
  returned: always
  type: dict
  contains:
    line:
      description: Line number in index.jsonl.
      type: int
    seq:
      description: Sequence number of the entry.
      type: int
    record_id:
      description: Record the entry belongs to.
      type: str
    file:
      description: File that failed the check, relative to record_dir (index.jsonl for chain checks).
      type: str
    check:
      description: >-
        Which check failed (prev_hash, entry_hash, mac, file_sha256, file_missing, index_json, revision_order,
        revision_fork, truncated, appended, head_mismatch, wiped).
      type: str
    expected:
      description: Expected value.
      type: str
    actual:
      description: Actual value.
      type: str
broken_count:
  description: Number of failed checks in total.
  returned: always
  type: int
unindexed_files:
  description: Record files (relative paths) that no index entry names.
  returned: always
  type: list
  elements: str
missing_records:
  description: Operation ids found in the operation store without any record.
  returned: always
  type: list
  elements: str
applying:
  description: Records whose newest revision is still C(applying) or C(interrupted) (the run died after the write-ahead record).
  returned: always
  type: list
  elements: str
keyed:
  description: True when the chain key was configured and every entry's HMAC was checked.
  returned: always
  type: bool
anchored:
  description: True when an anchor (expected head, head file or minimum entries) was checked.
  returned: always
  type: bool
head:
  description: The last index entry's seq and hash (null for an empty index); keep it elsewhere as the next anchor.
  returned: always
  type: dict
  contains:
    seq:
      description: Sequence number of the last entry.
      type: int
    hash:
      description: Hash of the last entry.
      type: str
record_dir:
  description: The directory verified.
  returned: always
  type: str
message:
  description: One-line verdict.
  returned: always
  type: str
  sample: "12 index entries, 9 records: chain intact"
"""


from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.aiops.k8s.plugins.module_utils.records.model import RecordError
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import load_key, read_head
from ansible_collections.aiops.k8s.plugins.module_utils.records.verify import verify_store
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.opstore import state_dir as default_state_dir

DEFAULT_RECORD_DIR = "~/.local/state/aiops-k8s/phr"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            record_dir=dict(type="path", default=DEFAULT_RECORD_DIR, fallback=(env_fallback, ["AIOPS_K8S_PHR_DIR"])),
            state_dir=dict(type="path"),
            check_operations=dict(type="bool", default=True),
            expected_head=dict(type="str"),
            head_file=dict(type="path", fallback=(env_fallback, ["AIOPS_K8S_PHR_HEAD_FILE"])),
            min_entries=dict(type="int"),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    record_dir = params["record_dir"]
    ops_dir = default_state_dir(params["state_dir"]) if params["check_operations"] else None
    try:
        anchor = params["expected_head"] or (read_head(params["head_file"]) if params["head_file"] else None)
        result = verify_store(record_dir, ops_dir, key=load_key(record_dir), anchor=anchor,
                              min_entries=params["min_entries"])
    except RecordError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="Cannot read the PHR record directory %s: %s" % (record_dir, exc), changed=False)
    if not result["ok"] and params["fail_on_error"]:
        module.fail_json(msg="PHR verification of %s failed: %s" % (result["record_dir"], result["message"]),
                         changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
