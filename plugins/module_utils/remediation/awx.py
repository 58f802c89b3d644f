# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX/AAP approvals, verified with the controller API instead of taken from extra vars.

The execute job reads, with the controller credential of its environment (``CONTROLLER_HOST`` and
``CONTROLLER_OAUTH_TOKEN``; ``JOB_ID`` is set by AWX for every job): its own job, which must have been
launched by the workflow job the approval names; that workflow's approval node, which must be
``successful`` (approved; denied and timed-out nodes fail); and who approved it and when
(``approved_or_denied_by``, ``finished``). The survey's approver text is never used.
"""

from __future__ import absolute_import, division, print_function

import json
import os

from urllib.error import URLError

from ansible.module_utils.urls import open_url

from ansible_collections.aiops.k8s.plugins.module_utils.remediation.gate import GateRefusal

__metaclass__ = type

ENV_HOST = ("CONTROLLER_HOST", "TOWER_HOST")
ENV_TOKEN = ("CONTROLLER_OAUTH_TOKEN", "TOWER_OAUTH_TOKEN")
ENV_JOB = ("JOB_ID",)


def _env(environ, names):
    return next((environ[name] for name in names if environ.get(name)), None)


class AwxVerifier(object):
    """Callable the executor uses for ``mode: awx``; returns (approver, decided_at) from the controller."""

    def __init__(self, host, token, job_id, timeout=15):
        self.host = host.rstrip("/")
        if "://" not in self.host:
            self.host = "https://" + self.host
        self.token = token
        self.job_id = str(job_id)
        self.timeout = timeout

    def _get(self, path):
        headers = {"Authorization": "Bearer %s" % self.token, "Accept": "application/json"}
        try:
            response = open_url(self.host + path, headers=headers, timeout=self.timeout)
            try:
                return json.loads(response.read().decode("utf-8"))
            finally:
                response.close()
        except (URLError, OSError, ValueError) as exc:
            raise GateRefusal("Cannot verify the AWX approval with the controller at %s (%s): nothing was changed"
                              % (self.host, getattr(exc, "reason", exc)))

    def __call__(self, approval, plan_id):
        workflow = str(approval.get("awx_workflow_job_id") or "")
        if not workflow.isdigit() or not self.job_id.isdigit():
            raise GateRefusal("AWX approval of plan %s names no workflow job: nothing was changed" % plan_id)
        job = self._get("/api/v2/jobs/%s/" % self.job_id)
        source = ((job.get("summary_fields") or {}).get("source_workflow_job") or {}).get("id")
        if str(source) != workflow:
            raise GateRefusal("AWX job %s was not launched by workflow job %s (launched by %s): the approval node "
                              "of that workflow does not cover it" % (self.job_id, workflow, source or "no workflow"))
        nodes = self._get("/api/v2/workflow_jobs/%s/workflow_nodes/?page_size=200" % workflow).get("results") or []
        approvals = [((n.get("summary_fields") or {}).get("job") or {}) for n in nodes]
        approvals = [j for j in approvals if j.get("type") == "workflow_approval" and j.get("id")]
        if not approvals:
            raise GateRefusal("Workflow job %s has no approval node: nothing approved plan %s" % (workflow, plan_id))
        decided = []
        for node in approvals:
            detail = self._get("/api/v2/workflow_approvals/%s/" % node["id"])
            if detail.get("timed_out"):
                raise GateRefusal("The approval node of workflow job %s timed out: plan %s was not approved"
                                  % (workflow, plan_id))
            if detail.get("status") != "successful":
                raise GateRefusal("The approval node of workflow job %s is %s (denied or pending): plan %s was not "
                                  "approved" % (workflow, detail.get("status"), plan_id))
            who = ((detail.get("summary_fields") or {}).get("approved_or_denied_by") or {}).get("username")
            if not who:
                raise GateRefusal("The approval node of workflow job %s names no approver" % workflow)
            decided.append((who, detail.get("finished")))
        return decided[-1]


def verifier_from_environment(environ=None):
    """An AwxVerifier from the controller credential and JOB_ID in the environment, else None."""
    environ = os.environ if environ is None else environ
    host, token, job = _env(environ, ENV_HOST), _env(environ, ENV_TOKEN), _env(environ, ENV_JOB)
    if not (host and token and job):
        return None
    return AwxVerifier(host, token, job)
