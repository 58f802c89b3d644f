# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manual steps: the exact commands a human runs when no automatic fix is safe (read-only text)."""

from __future__ import annotations


def image_manual_title(cause, image):
    return {"not_found": "Use an image tag that exists (%s does not)" % image,
            "invalid_name": "Fix the image reference %s" % image,
            "unauthorized": "Give the pod credentials for the registry of %s" % image,
            "rate_limited": "Authenticate pulls or use a mirror for %s" % image,
            "tls": "Make the nodes trust the registry certificate for %s" % image,
            "network": "Restore network/DNS access from the nodes to the registry of %s" % image,
            "registry_unavailable": "Wait for or fail over the registry of %s" % image,
            "never_pull": "Pre-load %s on the node or change imagePullPolicy" % image,
            }.get(cause, "Fix the pull of image %s" % image)


def image_steps(cause, image, container, tref, ns, culprit):
    registry = (image or "").split("/")[0] if image and "/" in image and "." in image.split("/")[0] else "docker.io"
    if cause in ("not_found", "invalid_name"):
        return ["skopeo list-tags docker://%s  # or crane ls; find a tag that exists" % (image or "").rsplit(":", 1)[0],
                "kubectl set image %s -n %s %s=<image:existing-tag>" % (tref, ns, container or "<container>")]
    if cause == "unauthorized":
        secrets = culprit.get("image_pull_secrets") or []
        return ["kubectl create secret docker-registry regcred -n %s --docker-server=%s --docker-username=<user> "
                "--docker-password=<token>" % (ns, registry),
                _pull_secret_step(tref, ns) if not secrets else
                "Check that Secret(s) %s hold valid credentials for %s" % (", ".join(secrets), registry),
                "If the repository does not exist: fix the image name %s" % image]
    if cause == "rate_limited":
        return ["Add an imagePullSecret with an authenticated account for %s, or mirror %s to your registry" % (
            registry, image)]
    if cause == "tls":
        return ["Install the registry CA on every node (containerd: /etc/containerd/certs.d/%s/ca.crt)" % registry]
    if cause == "network":
        return ["From a node: nslookup %s; curl -v https://%s/v2/" % (registry, registry),
                "Check node egress/proxy/DNS settings"]
    if cause == "never_pull":
        return ["Load %s on the node (ctr -n k8s.io images import) or set imagePullPolicy: IfNotPresent" % image]
    return ["kubectl get events -n %s --field-selector reason=Failed  # read the Failed pull event" % ns,
            "Check the registry %s status" % registry]


def _pull_secret_step(tref, ns):
    """Attach the pull secret: to the pod template of a controller; a pod's own imagePullSecrets are immutable, so
    for a bare pod to its service account (read when a pod is created), then recreate the pod."""
    if tref.startswith("pod/"):
        return ("kubectl patch serviceaccount default -n %s -p '{\"imagePullSecrets\":[{\"name\":\"regcred\"}]}'"
                "  # then recreate %s (or add imagePullSecrets to its manifest)" % (ns, tref))
    return ("kubectl patch %s -n %s -p '{\"spec\":{\"template\":{\"spec\":{\"imagePullSecrets\":"
            "[{\"name\":\"regcred\"}]}}}}'" % (tref, ns))


def crash_steps(category, result, name, ns, container, tref):
    facts = (result or {}).get("facts") or {}
    culprit = (result or {}).get("culprit") or {}
    # The container is unknown ('?') when only events name the failure: read every container's log then.
    which = "-c %s" % container if container and container != "?" else "--all-containers"
    steps = ["kubectl logs %s -n %s %s --previous --tail=100" % (name, ns, which),
             "kubectl describe pod %s -n %s" % (name, ns)]
    signature = facts.get("signature")
    if signature == "exec_format":
        steps.append("Rebuild the image for the node architecture (docker buildx --platform linux/amd64,linux/arm64)")
    elif signature == "missing_env":
        steps.append("Set the missing environment variable in %s (kubectl set env %s -n %s -c %s NAME=value)" % (
            tref, tref, ns, container))
    elif signature == "connection_refused":
        steps.append("Check the dependency it connects to is up: kubectl get endpoints -n %s" % ns)
    elif signature == "address_in_use":
        steps.append("Make sure no other container in the pod (or hostNetwork process) binds the same port")
    if culprit.get("command"):
        steps.append("Fix command/args: %s does not exist in the image" % culprit["command"])
    if category == "CreateContainerError" and facts.get("transient"):
        steps.append("Check the node's container runtime health (crictl info; journalctl -u containerd)")
    return steps


def schedule_steps(category, culprit, name, ns, tref):
    if category == "UnschedulableInsufficientResources":
        return ["kubectl describe nodes | grep -A8 'Allocated resources'",
                "Lower the %s requests of %s (requested %s), or add nodes / let the cluster autoscaler scale up" % (
                    culprit.get("resource"), tref, culprit.get("requested") or "?")]
    if category == "UnschedulableTaints":
        return ["kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints",
                "Add a toleration for {%s} to %s, or remove the taint if it is stale: kubectl taint nodes <node> "
                "<key>-" % (culprit.get("taint") or "the taint", tref)]
    if category == "UnschedulableNodeAffinity":
        return ["kubectl get nodes --show-labels",
                "Fix nodeSelector/affinity of %s (%s) or label a node to match" % (
                    tref, culprit.get("node_selector") or "see spec.affinity")]
    if category == "UnschedulableVolume":
        return ["kubectl get pvc -n %s; kubectl describe pvc %s -n %s" % (
            ns, " ".join(culprit.get("claims") or ["<claim>"]), ns),
            "Create the missing PVC or fix its storageClassName / the PV's node affinity (zone)"]
    return ["kubectl describe pod %s -n %s  # read the FailedScheduling event" % (name, ns)]


def volume_steps(culprit, name, ns):
    cause = culprit.get("cause")
    if cause == "multi_attach":
        return ["kubectl get volumeattachment | grep %s" % (culprit.get("volume") or ""),
                "Make sure the old pod (%s) is gone and its node released the volume; a ReadWriteOnce volume can "
                "be attached to one node only" % (culprit.get("used_by") or "previous pod")]
    if cause == "missing_object":
        # `kubectl create secret` needs its type; a volume's Secret holds files, so generic with --from-file.
        kind = "secret generic" if (culprit.get("kind") or "").lower() == "secret" else "configmap"
        return ["kubectl create %s %s -n %s --from-file=<key>=<file>  # create the missing object, or fix the "
                "volume source" % (kind, culprit.get("name") or "<name>", ns)]
    return ["kubectl describe pod %s -n %s  # FailedMount / FailedAttachVolume events" % (name, ns),
            "kubectl get pvc,pv -n %s; check the CSI driver pods in kube-system" % ns]
