#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: phr_annotate
short_description: Append lessons learned and follow-up items to an operation history record (PHR)
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Appends a new revision to a record written by the C(aiops.k8s.phr) callback, holding the lessons learned
    (author, text) and follow-up items (text, owner, due date). Earlier revisions are never edited; the new
    revision is chained into the index under the store lock like every other revision.
  - Follow-up items keep their C(id); giving an existing id again updates that item (for example to mark it
    V(done)). M(aiops.k8s.phr_report) lists the open ones.
  - The chain is keyed when E(AIOPS_K8S_PHR_KEY) or E(AIOPS_K8S_PHR_KEY_FILE) is set, as for the callback.
  - Runs on the controller that holds the records.
options:
  record_id:
    description: The record to annotate (an operation id such as C(op-20261125190500-3fa9c1), or a C(diag-)/C(plan-) id).
    type: str
    required: true
  author:
    description: Who wrote the lessons.
    type: str
    required: true
  text:
    description: The lessons learned, in plain text or Markdown.
    type: str
    required: true
  follow_ups:
    description: Follow-up items agreed in the review.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: Stable id of the item; default C(F<n>) in order of creation.
        type: str
      text:
        description: What is to be done.
        type: str
        required: true
      owner:
        description: Who does it.
        type: str
        required: true
      due:
        description: Due date, C(YYYY-MM-DD).
        type: str
        required: true
      state:
        description: V(open) until done.
        type: str
        choices: [open, done]
        default: open
  record_dir:
    description:
      - The PHR record directory. Defaults to E(AIOPS_K8S_PHR_DIR), else C(~/.local/state/aiops-k8s/phr).
    type: path
    default: ~/.local/state/aiops-k8s/phr
  head_file:
    description:
      - The chain head file kept outside the record directory (E(AIOPS_K8S_PHR_HEAD_FILE)); updated after the write.
    type: path
extends_documentation_fragment:
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Builds and returns the revision without writing it.
  diff_mode:
    support: none
    description: The revision is returned in full; there is no before/after of a file.
requirements:
  - python >= 3.8
seealso:
  - module: aiops.k8s.phr_report
  - module: aiops.k8s.phr_verify
"""

EXAMPLES = r"""
- name: Record what the review found
  aiops.k8s.phr_annotate:
    record_id: op-20261125190500-3fa9c1
    author: carol
    text: The memory limit came from the staging profile; production peaks at 310Mi.
    follow_ups:
      - text: Size limits from the last 14 days of usage
        owner: dave
        due: "2026-12-10"

- name: Close a follow-up item
  aiops.k8s.phr_annotate:
    record_id: op-20261125190500-3fa9c1
    author: dave
    text: Limits now come from usage.
    follow_ups:
      - id: F1
        text: Size limits from the last 14 days of usage
        owner: dave
        due: "2026-12-10"
        state: done
"""

RETURN = r"""
record_id:
  description: The record annotated.
  returned: always
  type: str
revision:
  description: The revision number written (or that would be written in check mode).
  returned: always
  type: int
file:
  description: The revision's file, relative to the record directory (null in check mode).
  returned: always
  type: str
follow_up_items:
  description: Every follow-up item of the record after this revision.
  returned: always
  type: list
  elements: dict
open_follow_ups:
  description: How many follow-up items are still open.
  returned: always
  type: int
"""

import datetime
import getpass
import socket

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.records.model import RecordError, follow_up_revision
from ansible_collections.aiops.k8s.plugins.module_utils.records.store import RecordStore, load_key

DEFAULT_RECORD_DIR = "~/.local/state/aiops-k8s/phr"


def _items(given, existing):
    """Validated follow-up items with ids; an existing id updates that item."""
    known = set(item.get("id") for item in existing)
    out = []
    for number, item in enumerate(given, 1):
        try:
            datetime.date.fromisoformat(str(item["due"]))
        except ValueError:
            raise RecordError("Follow-up %d due date %r is not YYYY-MM-DD" % (number, item["due"]))
        if not str(item["owner"]).strip() or not str(item["text"]).strip():
            raise RecordError("Follow-up %d needs a text and an owner" % number)
        item_id = item.get("id")
        if not item_id:
            item_id = "F%d" % (len(known) + 1)
            known.add(item_id)
        out.append({"id": item_id, "text": item["text"], "owner": item["owner"], "due": str(item["due"]),
                    "state": item.get("state") or "open"})
    return out


def _run(now):
    try:
        user = getpass.getuser()
    except Exception:  # pylint: disable=broad-except  # getuser raises several types when no user is known
        user = "unknown"
    return {"playbook": "aiops.k8s.phr_annotate", "user": user, "controller": socket.gethostname(),
            "ansible_version": None, "started_at": isoformat(now), "finished_at": isoformat(now), "tasks": [],
            "callback_errors": []}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            record_id=dict(type="str", required=True),
            author=dict(type="str", required=True),
            text=dict(type="str", required=True),
            follow_ups=dict(type="list", elements="dict", default=[], options=dict(
                id=dict(type="str"),
                text=dict(type="str", required=True),
                owner=dict(type="str", required=True),
                due=dict(type="str", required=True),
                state=dict(type="str", choices=["open", "done"], default="open"),
            )),
            record_dir=dict(type="path", default=DEFAULT_RECORD_DIR, fallback=(env_fallback, ["AIOPS_K8S_PHR_DIR"])),
            head_file=dict(type="path", fallback=(env_fallback, ["AIOPS_K8S_PHR_HEAD_FILE"])),
        ),
        supports_check_mode=True,
    )
    params = module.params
    now = utcnow()
    record_id = params["record_id"]
    try:
        store = RecordStore(params["record_dir"], key=load_key(params["record_dir"]), head_file=params["head_file"])

        def build(previous, entry):
            if previous is None:
                raise RecordError("PHR record %s not found in %s: check the id with the aiops.k8s.phr_report playbook"
                                  % (record_id, store.root))
            items = _items(params["follow_ups"], previous.get("follow_up_items") or [])
            payload = {"lessons": {"author": params["author"], "text": params["text"], "follow_ups": items}}
            return follow_up_revision(previous, "lessons", payload, _run(now), now=now, entry=entry)

        if module.check_mode:
            record = build(*store.latest(record_id))
            file_name = None
        else:
            record, entry = store.revise(record_id, build, None, now)
            file_name = entry["file"]
    except RecordError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except OSError as exc:
        module.fail_json(msg="Cannot annotate PHR record %s in %s: %s" % (record_id, params["record_dir"], exc),
                         changed=False)
    items = record.get("follow_up_items") or []
    module.exit_json(changed=True, record_id=record_id, revision=record["revision"], file=file_name,
                     follow_up_items=items, open_follow_ups=sum(1 for i in items if i.get("state") == "open"))


if __name__ == "__main__":
    main()
