"""The trusted site policy of a test lab (the file named by AIOPS_K8S_POLICY_FILE).

Unsigned pre-approvals (``-e approver=...``) prove nothing about who approved, so the code accepts them
only up to the low tier. Tests whose subject is executing or recording a change, not who may approve
it, run under a site policy that accepts them for every tier, as a lab that trusts its operators would;
the attack tests in test_remediation_attacks.py run without it.
"""

import json
import os


def lab_site_policy(directory, unsigned_max_tier="critical"):
    """Environment naming a site policy file in ``directory`` that accepts unsigned approvals up to the tier."""
    path = os.path.join(str(directory), "lab-site-policy.json")
    with open(path, "w") as handle:
        json.dump({"unsigned_max_tier": unsigned_max_tier}, handle)
    return {"AIOPS_K8S_POLICY_FILE": path}
