#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: approval_sign
short_description: Sign the approval of one remediation plan with an SSH key (ssh-keygen -Y sign)
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - The approver's half of a signed pre-approval. Signs, with C(ssh-keygen -Y sign -n aiops-approval), exactly
    the bytes M(aiops.k8s.remediate) verifies for an approval in mode C(signed), the canonical JSON of the plan id,
    C(decision), C(approver), C(justification), C(decided_at), C(params_override) and C(window), made by the same
    function the verifier uses, so the two can never disagree.
  - Before signing it refuses a plan whose id does not match its content (edited), a confirmed O(plan_id) that is
    not the plan's id, and a blank-looking O(approver) or O(justification). When the site policy is configured
    (E(AIOPS_K8S_POLICY_FILE)) the justification must match its C(justification_pattern), and a principal the
    policy's C(approvers) does not allow for the plan's tier is refused. When E(AIOPS_K8S_ALLOWED_SIGNERS) is
    set, the signature is verified for O(approver) before it is returned, so a wrong key fails here and not at
    execution.
  - These early checks only ever refuse. The executor checks everything again on the live object (tier, window,
    single use); signing here proves nothing to it by itself.
  - Read-only. Talks to no cluster and writes no file; the signature is returned. Playbook
    C(aiops.k8s.approve) prints the plan in full, calls this module and writes the approval file that
    C(aiops.k8s.remediate_pod) reads with C(-e @file).
  - Approves the plan as it is (C(decision=approve)). Conditional approvals (C(params_override), C(window)) are
    not signed by this module.
options:
  plan:
    description:
      - The plan to approve, as written by the plan stage of C(aiops.k8s.remediate_pod) (its C(plan_file)) or
        returned by M(aiops.k8s.remediation_plan).
    type: dict
    required: true
  plan_id:
    description:
      - The plan id the approver confirms (typed at the prompt, or the id the requester sent). Must be the plan's
        id; blanks, dashes and case are ignored.
    type: str
    required: true
  approver:
    description:
      - The principal signing, the name in the first field of the executor's allowed_signers file
        (E(AIOPS_K8S_ALLOWED_SIGNERS)) and a key of the site policy's C(approvers).
    type: str
    required: true
  justification:
    description:
      - Why the change is approved (for example the ticket). Signed, so it cannot be changed afterwards.
    type: str
    required: true
  private_key:
    description:
      - The approver's SSH key file given to C(ssh-keygen -Y sign -f). With the private key loaded in ssh-agent
        (passphrase-protected keys) name the public key file instead.
    type: path
    required: true
extends_documentation_fragment:
  - aiops.k8s.in_process
attributes:
  check_mode:
    support: full
    description: Signs in check mode too; nothing changes in either mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
requirements:
  - python >= 3.8
  - OpenSSH 8.2 or later (C(ssh-keygen -Y))
seealso:
  - module: aiops.k8s.remediate
  - name: Signed pre-approval in three commands
    description: The plan, approve and execute commands, tested as written.
    link: https://github.com/aiops-k8s/aiops.k8s/blob/main/docs/remediation.md
notes:
  - The signing time (C(decided_at)) is now; the executor accepts the approval for the tier's SLA from then.
"""

EXAMPLES = r"""
- name: Sign the approval of a plan written by the plan stage
  aiops.k8s.approval_sign:
    plan: "{{ lookup('ansible.builtin.file', '/tmp/plan.json') | from_json }}"
    plan_id: K7QM4XTAR2PZ9WDHC6VN3EBJ5G
    approver: alice
    justification: "INC-123: OOM, raise the limit"
    private_key: ~/.ssh/id_ed25519
  register: signed

- name: Keep it for the execute run (ansible-playbook aiops.k8s.remediate_pod -e @/tmp/approval.json)
  ansible.builtin.copy:
    content: "{{ signed.extra_vars | to_nice_json }}"
    dest: /tmp/approval.json
    mode: "0600"
"""

RETURN = r"""
approval:
  description: The signed approval as M(aiops.k8s.remediate) takes it (mode C(signed)).
  returned: success
  type: dict
  sample:
    plan_id: K7QM4XTAR2PZ9WDHC6VN3EBJ5G
    decision: approve
    approver: alice
    justification: "INC-123: OOM, raise the limit"
    decided_at: "2026-12-02T19:40:00Z"
    mode: signed
    signature: "-----BEGIN SSH SIGNATURE-----\n...\n-----END SSH SIGNATURE-----\n"
signed_content:
  description: The exact text that was signed (canonical JSON); C(ssh-keygen -Y verify) checks these bytes.
  returned: success
  type: str
extra_vars:
  description:
    - The variables of C(aiops.k8s.remediate_pod) that carry this approval (C(approval_plan_id),
      C(approval_decision), C(approver), C(justification), C(approval_decided_at), C(approval_signature)).
  returned: success
  type: dict
self_verified:
  description: Whether the signature was verified against E(AIOPS_K8S_ALLOWED_SIGNERS) before returning.
  returned: success
  type: bool
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError
from ansible_collections.aiops.k8s.plugins.module_utils.common.time import isoformat, utcnow
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import tier_rank
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import policy as safety
from ansible_collections.aiops.k8s.plugins.module_utils.remediation import signatures
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import (
    GateRefusal, check_plan_integrity, require_text,
)
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.plan import normalise_plan_id


def _policy_checks(plan, approver, justification):
    """Refuse early what the executor would refuse by the site policy (only ever refuses)."""
    policy = safety.merge(safety.load_site_policy())
    pattern = policy.get("justification_pattern")
    if pattern and not re.search(pattern, justification):
        raise GateRefusal("justification must match the site's pattern %s (e.g. a ticket reference)" % pattern)
    approvers = policy.get("approvers") or {}
    if approvers and approver not in approvers:
        raise GateRefusal("%s is not an approver in the site policy (%s): the executor would refuse this signature"
                          % (approver, safety.ENV_POLICY_FILE))
    tier = plan.get("risk_tier")
    if approver in approvers and tier in safety.RISK_TIERS and tier_rank(tier) > tier_rank(approvers[approver]):
        raise GateRefusal("%s may approve up to %s, plan %s is %s: ask an approver of that tier"
                          % (approver, approvers[approver], plan["plan_id"], tier))


def sign_approval(plan, plan_id, approver, justification, private_key, now, run):
    """(approval, signed_content, self_verified); GateRefusal with a one-line reason before signing."""
    check_plan_integrity(plan)
    if normalise_plan_id(plan_id) != plan["plan_id"]:
        raise GateRefusal("You confirmed plan %s, but the plan file holds plan %s: check you are signing the plan "
                          "you were asked to approve" % (plan_id.strip() or "(none)", plan["plan_id"]))
    approver = require_text(approver, "approver", plan["plan_id"], "name the principal of your key")
    justification = require_text(justification, "justification", plan["plan_id"],
                                 "say why the change is approved (e.g. the ticket)")
    _policy_checks(plan, approver, justification)
    if not os.path.isfile(private_key):
        raise GateRefusal("Signing key %s does not exist: pass private_key (signing_key in aiops.k8s.approve)"
                          % private_key)
    approval = {"plan_id": plan["plan_id"], "decision": "approve", "approver": approver,
                "justification": justification, "decided_at": isoformat(now), "mode": "signed"}
    content = signatures.approval_message(plan["plan_id"], approval)
    try:
        approval["signature"] = signatures.sign(content, private_key, run)
    except signatures.SigningError as exc:
        raise GateRefusal("ssh-keygen -Y sign with %s failed: %s (OpenSSH 8.2 or later is needed, and a key that "
                          "needs no passphrase prompt: load it into ssh-agent)" % (private_key, exc))
    except (OSError, ValueError) as exc:
        raise GateRefusal("Cannot run ssh-keygen to sign (%s): OpenSSH 8.2 or later is needed" % exc)
    verified = False
    allowed = os.environ.get(signatures.ENV_ALLOWED_SIGNERS)
    if allowed:
        # Only the key/principal pair is checked here (tier and window are the executor's to judge).
        verify = signatures.verifier_from_environment({"approvers": {approver: "critical"}}, run)
        try:
            verify(approval, plan["plan_id"], "trivial")
        except GateRefusal:
            where = "%s (%s)" % (allowed, signatures.ENV_ALLOWED_SIGNERS)
            raise GateRefusal("The signature made with %s does not verify for principal %s in %s: wrong key or "
                              "wrong principal; nothing was written" % (private_key, approver, where))
        verified = True
    return approval, content.decode("utf-8"), verified


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan=dict(type="dict", required=True),
            plan_id=dict(type="str", required=True),
            approver=dict(type="str", required=True),
            justification=dict(type="str", required=True),
            private_key=dict(type="path", required=True, no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        approval, content, verified = sign_approval(params["plan"], params["plan_id"], params["approver"],
                                                    params["justification"], params["private_key"], utcnow(),
                                                    signatures.runner_for(module))
    except AiopsError as exc:
        module.fail_json(msg="Not signed: %s" % exc, changed=False)
    extra_vars = {"approval_plan_id": approval["plan_id"], "approval_decision": approval["decision"],
                  "approver": approval["approver"], "justification": approval["justification"],
                  "approval_decided_at": approval["decided_at"], "approval_signature": approval["signature"]}
    module.exit_json(changed=False, approval=approval, signed_content=content, extra_vars=extra_vars,
                     self_verified=verified)


if __name__ == "__main__":
    main()
