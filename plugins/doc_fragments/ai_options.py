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
      - A timeout or failure only adds a warning; the diagnosis is returned unchanged.
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
    type: path
"""
