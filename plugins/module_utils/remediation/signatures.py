# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signed approvals: OpenSSH signatures (``ssh-keygen -Y``) over the approval's canonical content.

The approver signs ``approval_message(plan_id, approval)`` with their SSH key under the namespace
``aiops-approval``; the executor verifies it against an allowed_signers file named in trusted
configuration (``AIOPS_K8S_ALLOWED_SIGNERS``), and the site policy's ``approvers`` map says the highest
tier each principal may approve. The signed text includes the plan id and ``decided_at``, so neither the
plan nor the time can be changed after signing. Everything fails closed.
"""

from __future__ import absolute_import, division, print_function

import os
import tempfile

from ansible_collections.aiops.k8s.plugins.module_utils.common.digest import canonical_bytes
from ansible_collections.aiops.k8s.plugins.module_utils.common.vocabulary import tier_rank
from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import GateRefusal

__metaclass__ = type

NAMESPACE = "aiops-approval"
ENV_ALLOWED_SIGNERS = "AIOPS_K8S_ALLOWED_SIGNERS"
SIGNED_FIELDS = ("plan_id", "decision", "approver", "justification", "decided_at", "params_override", "window")


def approval_message(plan_id, approval):
    """The exact bytes an approver signs: canonical JSON of the approval's fields and the plan id."""
    content = {key: (approval or {}).get(key) for key in SIGNED_FIELDS}
    content["plan_id"] = plan_id
    return canonical_bytes(content)


def sign(message, private_key, run, ssh_keygen="ssh-keygen"):
    """Armored signature of ``message`` with an SSH private key file (what an approver's helper runs).

    ``run(args, data=None) -> (rc, stdout, stderr)`` runs the command (a module passes runner_for(module)).
    Raises SigningError with ssh-keygen's last error line.
    """
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "approval")
        with open(path, "wb") as handle:
            handle.write(message)
        rc, _out, err = run([ssh_keygen, "-q", "-Y", "sign", "-f", private_key, "-n", NAMESPACE, path], data=b"")
        if rc != 0 or not os.path.exists(path + ".sig"):
            raise SigningError(_last_line(err) or "exit status %s" % rc)
        with open(path + ".sig") as handle:
            return handle.read()


class SigningError(Exception):
    """ssh-keygen could not sign (missing, too old, unusable key)."""


def _last_line(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def runner_for(module, deadline=30):
    """A ``run`` for sign/SignatureVerifier built on the module's run_command.

    run_command has no timeout, so when coreutils' ``timeout`` is installed it bounds ssh-keygen to ``deadline``
    seconds (a key that asks for a passphrase must never hang a remediation).
    """
    limiter = module.get_bin_path("timeout")
    prefix = [limiter, str(deadline)] if limiter else []

    def run(args, data=None):
        return module.run_command(prefix + list(args), data=data, binary_data=True, encoding=None)

    return run


class SignatureVerifier(object):
    """Callable the executor uses for ``mode: signed`` approvals; returns the verified principal."""

    def __init__(self, allowed_signers, approvers, run, ssh_keygen="ssh-keygen"):
        self.allowed_signers = allowed_signers
        self.approvers = approvers or {}
        self.run = run
        self.ssh_keygen = ssh_keygen

    def __call__(self, approval, plan_id, tier):
        principal = (approval.get("approver") or "").strip()
        signature = approval.get("signature")
        if not isinstance(signature, str) or "BEGIN SSH SIGNATURE" not in signature:
            raise GateRefusal("Signed approval of plan %s carries no SSH signature: sign it with ssh-keygen -Y sign "
                              "-n %s" % (plan_id, NAMESPACE))
        limit = self.approvers.get(principal)
        if limit is None:
            raise GateRefusal("Signed approval of plan %s: %s is not an approver in the site policy"
                              % (plan_id, principal))
        if tier_rank(tier) > tier_rank(limit):
            raise GateRefusal("Signed approval of plan %s: %s may approve up to %s, this plan is %s" % (
                plan_id, principal, limit, tier))
        with tempfile.TemporaryDirectory() as work:
            sig = os.path.join(work, "approval.sig")
            with open(sig, "w") as handle:
                handle.write(signature)
            try:
                rc, _out, _err = self.run([self.ssh_keygen, "-Y", "verify", "-f", self.allowed_signers, "-I",
                                           principal, "-n", NAMESPACE, "-s", sig],
                                          data=approval_message(plan_id, approval))
            except (OSError, ValueError) as exc:
                raise GateRefusal("Cannot verify the signed approval of plan %s: %s" % (plan_id, exc))
        if rc != 0:
            raise GateRefusal("Signed approval of plan %s does not verify for %s against %s: wrong key, another "
                              "plan, or edited fields" % (plan_id, principal, self.allowed_signers))
        return principal


def verifier_from_environment(policy, run, environ=None):
    """A SignatureVerifier when AIOPS_K8S_ALLOWED_SIGNERS names a file, else None (signed mode refused)."""
    environ = os.environ if environ is None else environ
    path = environ.get(ENV_ALLOWED_SIGNERS)
    if not path:
        return None
    return SignatureVerifier(os.path.expanduser(path), (policy or {}).get("approvers"), run)
