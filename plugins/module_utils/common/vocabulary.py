# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one vocabulary of the collection: failure categories, severities, risk tiers and actions.

Everything that names a category, a tier or an action imports it from here, so a new category is
added in exactly one place (plus its runbook, which a test enforces).
"""

from __future__ import annotations

CATEGORIES = (
    "CrashLoopBackOff",
    "OOMKilled",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "UnschedulableInsufficientResources",
    "UnschedulableNodeAffinity",
    "UnschedulableTaints",
    "UnschedulableVolume",
    "Unschedulable",
    "VolumeMountFailure",
    "LivenessProbeFailure",
    "ReadinessProbeFailure",
    "StartupProbeFailure",
    "InitContainerFailure",
    "Evicted",
    "DeadlineExceeded",
    "ContainerExitError",
    "SandboxCreationFailure",
    "QuotaExceeded",
    "PodCreationForbidden",
    "NodeLost",
    "TerminatingStuck",
    "Healthy",
)
HEALTHY = "Healthy"

# Severity says how urgently a human should look; it is not the approval tier of a fix.
SEVERITIES = ("critical", "high", "medium", "low", "none")

# Default severity per category; a rule may raise it (e.g. every replica of a workload affected).
DEFAULT_SEVERITY = {
    "CrashLoopBackOff": "high",
    "OOMKilled": "high",
    "ImagePullBackOff": "high",
    "InvalidImageName": "high",
    "CreateContainerConfigError": "high",
    "CreateContainerError": "high",
    "RunContainerError": "high",
    "UnschedulableInsufficientResources": "high",
    "UnschedulableNodeAffinity": "high",
    "UnschedulableTaints": "high",
    "UnschedulableVolume": "high",
    "Unschedulable": "high",
    "VolumeMountFailure": "high",
    "LivenessProbeFailure": "high",
    "ReadinessProbeFailure": "medium",
    "StartupProbeFailure": "high",
    "InitContainerFailure": "high",
    "Evicted": "low",
    "DeadlineExceeded": "medium",
    "ContainerExitError": "medium",
    "SandboxCreationFailure": "high",
    "QuotaExceeded": "high",
    "PodCreationForbidden": "high",
    "NodeLost": "critical",
    "TerminatingStuck": "medium",
    "Healthy": "none",
}

# Approval tiers, lowest first. SLA = how long an approver has before the plan expires (seconds).
RISK_TIERS = ("trivial", "low", "medium", "critical")
TIER_SLA_SECONDS = {"trivial": 0, "low": 5 * 60, "medium": 30 * 60, "critical": 120 * 60}

# Remediation actions the remediate module can execute; "manual" means a human must act.
ACTIONS = (
    "delete_pod",
    "rollout_restart",
    "rollout_undo",
    "set_memory_limit",
    "set_resources",
    "set_image",
    "scale",
    "remove_finalizers",
    "cordon_node",
    "manual",
)

RUNBOOK_DIR = "runbooks"


def runbook_path(category):
    """Path of the human runbook for a category, relative to the collection root."""
    return "%s/%s.md" % (RUNBOOK_DIR, category)


def tier_rank(tier):
    """Order of a risk tier (trivial=0 ... critical=3); unknown tiers rank as critical (fail safe)."""
    try:
        return RISK_TIERS.index(tier)
    except ValueError:
        return len(RISK_TIERS) - 1


def max_tier(*tiers):
    """The strictest of the given tiers."""
    return max(tiers, key=tier_rank)
