# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the optional kubectl-ai analysis (plugins/module_utils/diagnosis/ai_explain.py AI_ARGUMENT_SPEC)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  ai_explain:
    description:
      - After the deterministic diagnosis, ask C(kubectl-ai --quiet) (GoogleCloudPlatform/kubectl-ai) for an
        advisory explanation and return it as RV(ai_analysis).
      - The category, severity and remediations are never changed by the answer.
      - kubectl-ai is never run with C(--skip-permissions), so it cannot change the cluster without a
        confirmation that a module cannot give.
      - Its reach is bounded by construction, see docs/ai-analysis.md. It runs with a minimal environment (no
        C(K8S_AUTH_*), no cloud credentials, no inherited E(KUBECONFIG)) and a kubeconfig written for this run
        that holds only the diagnosed cluster. For a live diagnosis it needs a read-only identity
        (O(ai_kubeconfig) or O(ai_impersonate)); otherwise it is not started unless O(ai_allow_write_identity=true).
      - A timeout, failure or refusal only adds a warning; the diagnosis is returned unchanged.
    type: bool
    default: false
  ai_provider:
    description:
      - LLM provider passed as C(--llm-provider), for example V(gemini), V(openai), V(ollama), V(grok).
      - When unset, the provider from the kubectl-ai configuration file (or its default) is used.
    type: str
  ai_model:
    description:
      - Model passed as C(--model). When unset, kubectl-ai's configured or default model is used.
    type: str
  ai_timeout:
    description:
      - Seconds to wait for kubectl-ai before giving up with a warning. The process group is killed.
    type: int
    default: 60
  ai_binary:
    description:
      - Name (looked up on E(PATH)) or absolute path of the kubectl-ai binary.
    type: str
    default: kubectl-ai
  ai_mask_names:
    description:
      - Replace namespaces, pod, workload, node and container names and label values by placeholders such
        as C(ns-1) and C(pod-1) before anything is sent, and put the real names back into the answer.
    type: bool
    default: false
  ai_max_input_bytes:
    description:
      - Upper bound of the evidence summary sent to kubectl-ai. Less severe diagnoses are left out first.
      - The summary is always redacted and never contains Secret data or whole logs (one clipped line per
        log excerpt at most).
    type: int
    default: 16384
  ai_env_file:
    description:
      - File of C(KEY=VALUE) lines (for example C(GEMINI_API_KEY=...)) exported to kubectl-ai's environment
        only, as written with mode 0600 by the M(aiops.k8s.kubectl_ai) role. Values never appear on a command line.
      - Keys that would give the child a cluster or cloud identity (C(K8S_AUTH_*), C(KUBECONFIG), C(AWS_*),
        C(AZURE_*), C(GOOGLE_APPLICATION_CREDENTIALS), ...) are refused.
    type: path
  ai_kubeconfig:
    description:
      - Kubeconfig of a read-only identity for kubectl-ai (for example a token of the service account bound to
        docs/rbac/diagnose-readonly.yaml). Only its context O(ai_context) (default its current context) is handed
        to the child, and only when that context's server is the diagnosed cluster's.
    type: path
  ai_context:
    description:
      - Context of O(ai_kubeconfig) to use; its current context when unset.
    type: str
  ai_impersonate:
    description:
      - Give kubectl-ai the module's own connection to the diagnosed cluster, impersonating this user, for example
        V(system:serviceaccount:aiops:aiops-diagnose) bound to docs/rbac/diagnose-readonly.yaml.
      - The module's identity needs the C(impersonate) verb on that user. The credential itself is still in the
        child's kubeconfig, so prefer O(ai_kubeconfig) where the child must not hold a writing credential at all.
    type: str
  ai_allow_write_identity:
    description:
      - Start kubectl-ai with the module's own identity, which may be able to write, when neither O(ai_kubeconfig)
        nor O(ai_impersonate) is set. Without it the analysis is skipped with a warning.
    type: bool
    default: false
"""
