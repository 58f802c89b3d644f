# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manual steps: the exact commands a human runs when no automatic fix is safe (read-only text), and the
headlines of the proposals: the change itself, built from the diagnosis' own fields."""

from __future__ import annotations

import re


def image_manual_title(cause, image, invalid_reason=None):
    if cause == "invalid_name" and image and invalid_reason:
        return "Fix the image reference %s: %s" % (image, invalid_reason)
    return {"not_found": "Use an image tag that exists (%s does not)" % image,
            "invalid_name": "Fix the image reference %s" % image,
            "unauthorized": "Give the pod credentials for the registry of %s" % image,
            "rate_limited": "Authenticate pulls or use a mirror for %s" % image,
            "tls": "Make the nodes trust the registry certificate for %s" % image,
            "network": "Restore network/DNS access from the nodes to the registry of %s" % image,
            "registry_unavailable": "Wait for or fail over the registry of %s" % image,
            "never_pull": "Pre-load %s on the node or change imagePullPolicy" % image,
            "platform": "Use an image built for the nodes' OS/CPU platform (%s has no manifest for it)" % image,
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


# --- headlines: the change itself, from the diagnosis' own fields (console, Markdown and AWX show them) --------
# A generic headline is the fallback only when the diagnosis does not carry the specific fact.

def _quote(text, limit=120):
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _log_line(result, container):
    """The log line the diagnosis quoted as evidence for ``container`` (its own words), or None."""
    for item in (result or {}).get("evidence") or []:
        source = str((item or {}).get("source") or "")
        if source.startswith("log ") and (not container or source.split(" ")[1] == container):
            return (item or {}).get("detail")
    return None


def crash_title(category, result, container, owner):
    """What to change for a crashing or unstartable container, from its command, log signature and exit."""
    facts = (result or {}).get("facts") or {}
    culprit = (result or {}).get("culprit") or {}
    who = "container %s" % container if container and container != "?" else "the container"
    command = culprit.get("command") or facts.get("command")
    if command:
        return "Fix the command of %s: %s does not exist in the image" % (who, command)
    signature = facts.get("signature") or culprit.get("signature")
    fixed = {
        "exec_format": "Rebuild the image of %s for the nodes' CPU architecture (exec format error)",
        "shell_syntax": "Fix the shell syntax in the command/args or script of %s",
        "certificate_expired": "Renew the expired TLS certificate %s uses (or fix the node clock)",
        "address_in_use": "Give %s a port nothing else in the pod binds",
        "java_oom": "Raise the JVM heap limit (-Xmx) of %s or its memory",
    }
    if signature in fixed:
        return fixed[signature] % who
    line = _log_line(result, container)
    by_path = _PATH_TITLES.get(signature)
    if by_path:
        return by_path % {"who": who, "path": _path_in(line) or "the path in its log"}
    if signature == "missing_env" and facts.get("env_var"):
        return "Set environment variable %s in %s" % (facts["env_var"], who)
    if signature == "connection_refused" or signature == "dns_failure":
        return "Make the dependency %s needs reachable: %s" % (who, _quote(line or result.get("root_cause"), 100))
    exit_code = facts.get("exit_code") if facts.get("exit_code") is not None else culprit.get("exit_code")
    if line:
        return "Hand %s's failure to %s: \"%s\"%s" % (
            who, "the owner of %s" % owner if owner else "its owner", _quote(line, 110),
            " (exit %s)" % exit_code if exit_code is not None else "")
    if any("exec format error" in str((item or {}).get("detail") or "") for item in result.get("evidence") or []):
        return fixed["exec_format"] % who
    by_exit = _EXIT_TITLES.get(exit_code)
    if by_exit:
        return by_exit % who
    return missing_fact_title(category, result, container, exit_code)


def _pod_ref(result):
    ns, name = (result or {}).get("namespace"), (result or {}).get("name") or "<pod>"
    return ("%s -n %s" % (name, ns) if ns else name), ("%s/%s" % (ns, name) if ns else name)


def missing_fact_title(category, result, container, exit_code):
    """The capture lacks the deciding fact (no log line, no exit reason): the headline names that fact and the
    exact command that fetches it for this pod and container, instead of a generic "fix what fails"."""
    args, pod = _pod_ref(result)
    known = container and container != "?"
    which = "-c %s" % container if known else "--all-containers"
    who = "%scontainer %s" % ("init " if (result or {}).get("facts", {}).get("role") == "init" else "", container) \
        if known else "its containers"
    root = str((result or {}).get("root_cause") or "")
    if category == "CreateContainerError" and ((result or {}).get("facts") or {}).get("transient"):
        node = (result or {}).get("node")
        where = "node %s" % node if node else "the node of pod %s" % pod
        return ("Check the container runtime on %s (crictl info; journalctl -u containerd -u kubelet): creating "
                "%s timed out, the runtime or node is overloaded" % (where, who))
    if category in ("RunContainerError", "CreateContainerError"):
        # The runtime refused to create/start the process: there is no application log, the runtime's message is
        # the deciding fact (a mount, a device, a security option of the container's spec).
        # OCI messages nest their causes: the decisive clause is the last one, so a long message keeps its tail.
        text = " ".join(root.split())
        return "Change the spec of %s in pod %s that the runtime refuses: %s" % (
            who, pod, text if len(text) <= 140 else "..." + text[-137:])
    if "never completes" in root:
        return ("Read the current log of %s in pod %s (kubectl logs %s %s): it has not finished, so find what "
                "it is waiting for" % (who, pod, args, which))
    if exit_code is None:
        why = "the capture has neither its exit code nor a log line"
    elif exit_code == 1:
        why = "exit 1 says the application itself failed and no log line in the capture says why"
    else:
        why = "exit %s%s and no log line in the capture says why" % (
            exit_code, " (%s)" % _SIGNALS[exit_code] if exit_code in _SIGNALS else "")
    # --previous is the instance before the last restart; a container that never restarted has only its own log.
    previous = " --previous" if category == "CrashLoopBackOff" or (result or {}).get("restarts") else ""
    return "Read the %s log of %s in pod %s (kubectl logs %s %s%s): %s" % (
        "previous" if previous else "last", who, pod, args, which, previous, why)


def oom_title(result, container, tref):
    """OOM-killed with no memory limit in the capture: the change is a higher limit, the missing fact its value."""
    args, pod = _pod_ref(result)
    return ("Raise the memory limit of container %s in %s above its peak use: it was OOM-killed (exit 137) and the "
            "capture has no limit; read it with kubectl get pod %s -o jsonpath='{.spec.containers[?(@.name==\"%s\")]"
            ".resources}'" % (container, tref, args, container))


# Exit codes 128+n: the signal that ended the process (when no exit title above already says what to change).
_SIGNALS = {130: "SIGINT", 131: "SIGQUIT", 134: "SIGABRT: the process aborted", 135: "SIGBUS",
            136: "SIGFPE", 143: "SIGTERM: it was asked to stop"}


# Log signatures about a path's state (diagnosis/logsig.py): the change is to the volume or the start-up step.
_PATH_TITLES = {
    "dir_not_empty": "Initialise %(who)s into an empty subdirectory of its volume (e.g. PGDATA=<mount>/pgdata), or "
                     "empty it: %(path)s is not empty (lost+found or an earlier run's files)",
    "lock_held": "Stop the other process holding the lock on %(path)s (a second replica or pod on the same volume), "
                 "or remove the stale lock an unclean stop left, before %(who)s starts",
    "file_exists": "Make the start-up step of %(who)s idempotent (ln -sf, mkdir -p) or clear %(path)s from its "
                   "volume: it exists from an earlier run",
    "path_permission": "Let %(who)s write %(path)s: set the pod's securityContext.fsGroup (or runAsUser) to the "
                       "volume's owner, or chown the volume",
}


def _path_in(line):
    """The path a log line names: quoted first, else the first absolute path."""
    match = re.search(r"[\"'\u2018\u201c](\.?/?[\w.@+/-]+)[\"'\u2019\u201d]", line or "") or re.search(r"(\.?/[\w.@+/-]+)", line or "")
    return match.group(1) if match else None


# Exit codes that say what to change even without a log line (no OOM kill reported for 137).
_EXIT_TITLES = {
    0: "Run %s as a Job, or keep its process in the foreground: it exits 0 and restartPolicy Always restarts it",
    2: "Fix the command/args of %s: exit 2 is invalid arguments or shell misuse",
    126: "Make the command of %s executable: exit 126 is permission denied or not executable",
    127: "Fix the command of %s: exit 127 is command not found",
    137: "Find what SIGKILLs %s (exit 137 without an OOM kill): a liveness probe, preemption or a too short "
         "terminationGracePeriodSeconds",
    139: "Hand the segmentation fault of %s (exit 139, SIGSEGV) to the image's owner",
}


def probe_title(kind, container, target, failure, tref):
    """What to change for a failing probe, from the failure the kubelet reported."""
    who = "container %s" % container if container else "the pod's container"
    where = target or "its endpoint"
    if failure and failure[0] == "status":
        return "Make %s of %s answer 2xx/3xx: the %s probe gets HTTP %s" % (where, who, kind, failure[1])
    if failure and failure[0] == "timeout":
        return "Raise the %s probe timeoutSeconds of %s in %s (it timed out), or make %s answer faster" % (
            kind, who, tref, where)
    if failure and failure[0] == "refused":
        return "Point the %s probe of %s at the port the app listens on, or start it listening: %s refuses" % (
            kind, who, where)
    if failure and failure[0] == "exec":
        return "Fix the %s probe command of %s: %s" % (kind, who, _quote(failure[1], 80))
    if target and target.startswith("exec "):
        return "Fix the %s probe command of %s (%s): it fails" % (kind, who, _quote(target[5:], 60))
    return "Fix the %s probe of container %s or the endpoint it checks" % (kind, container)


def probe_failure(result, kind):
    """(mode, detail) of the ``kind`` probe's failure quoted in the diagnosis' evidence or root cause, or None.

    Only texts about that probe count: a readiness probe's HTTP 500 says nothing about why liveness failed.
    """
    texts = [str((item or {}).get("detail") or "") for item in (result or {}).get("evidence") or []]
    texts.append(str((result or {}).get("root_cause") or ""))
    word = "%s probe" % kind
    for text in texts:
        if word not in text.lower():
            continue
        match = re.search(r'exec: "([^"]+)": executable file not found', text)
        if match:
            return ("exec", "%s is not in the image" % match.group(1))
        match = re.search(r"statuscode: (\d{3})|HTTP probe failed with status(?:code)?:? (\d{3})", text)
        if match:
            return ("status", match.group(1) or match.group(2))
        if re.search(r"context deadline exceeded|Client\.Timeout|timed out|timeout", text, re.I):
            return ("timeout", None)
        if re.search(r"connection refused|nothing is listening", text, re.I):
            return ("refused", None)
    return None


def schedule_title(category, culprit, facts, tref, diagnosis=None):
    """What to change so the scheduler can place the pod, from the scheduler's reasons."""
    reasons = [r for r in (facts or {}).get("reasons") or [] if isinstance(r, dict)]
    kinds = set(r.get("kind") for r in reasons)
    also = ""
    if len(kinds) > 1:
        others = [r.get("text") for r in reasons if r.get("kind") != reasons[0].get("kind")]
        also = "; the other nodes: %s" % _quote("; ".join(t for t in others if t), 80) if others else ""
    if category == "UnschedulableInsufficientResources":
        resource = culprit.get("resource")
        if resource == "pods":
            return "Add nodes or free pod slots: the nodes are at their pod limit (Insufficient pods)%s" % also
        requested = culprit.get("requested")
        return "Lower the %s request of %s%s, or add nodes with more %s%s" % (
            resource or "resource", tref, " (%s requested)" % requested if requested else "", resource or "room",
            also)
    if category == "UnschedulableTaints":
        taint = (culprit.get("taint") or "").rstrip(":")
        if culprit.get("node_condition"):
            return "Repair the nodes: the %s taint is set by the node's own condition, not one to tolerate%s" % (
                taint, also)
        if taint:
            return "Add a toleration for taint %s to %s, or remove the taint from the nodes%s" % (taint, tref, also)
        return _unnamed_taint_title(culprit, tref, also)
    if category == "UnschedulableNodeAffinity":
        selector = culprit.get("node_selector")
        if isinstance(selector, dict) and selector:
            terms = ",".join("%s=%s" % item for item in sorted(selector.items()))
            return "Label a node %s or change the nodeSelector of %s%s" % (terms, tref, also)
        if reasons:
            args, _pod = _pod_ref(diagnosis)
            return ("Match the nodeSelector/affinity of %s to a node's labels (%s): the message does not say which "
                    "label is missing; compare kubectl get pod %s -o jsonpath='{.spec.nodeSelector}"
                    "{.spec.affinity.nodeAffinity}' with kubectl get nodes --show-labels%s" % (
                        tref, _share(culprit), args, also))
        node = (diagnosis or {}).get("node")
        if node and (facts or {}).get("failed_pod"):
            return ("Match the nodeSelector/affinity of %s to the labels of node %s, whose kubelet rejected the pod "
                    "(NodeAffinity: a label changed after scheduling, or nodeName bypassed the scheduler); kubectl get "
                    "node %s --show-labels" % (tref, node, node))
    if category == "UnschedulableVolume":
        claims = culprit.get("claims") or []
        reason = str(culprit.get("reason") or "")
        if "not found" in reason:
            return "Create the missing PersistentVolumeClaim (%s) or fix the claimName in %s" % (
                _quote(reason, 80), tref)
        if "node affinity" in reason:
            return "Run %s in the zone of its volume, or move the volume: volume node affinity conflict%s" % (
                tref, also)
        if claims:
            return "Bind PersistentVolumeClaim %s: give it a StorageClass that provisions, or a matching PV" % (
                ", ".join(claims))
        if "unbound" in reason:
            args, _pod = _pod_ref(diagnosis)
            return ("Bind the PersistentVolumeClaims of %s (a StorageClass that provisions, or a matching PV): the "
                    "message names none; list them with kubectl get pod %s -o jsonpath='{..claimName}' and read why "
                    "each is Pending with kubectl describe pvc" % (tref, args))
    reason = str(culprit.get("reason") or "")
    if "anti-affinity" in reason:
        return "Relax the pod anti-affinity of %s or add nodes: every node already runs a pod it excludes%s" % (
            tref, also)
    if "free ports" in reason or "PodFitsHostPorts" in reason:   # the predicate's name before 1.14
        return "Drop or change the hostPort of %s, or add nodes: the port is taken on every node%s" % (tref, also)
    return "Make the pod schedulable"


def _share(culprit):
    affected, total = culprit.get("nodes_affected"), culprit.get("nodes_total")
    return "%s/%s nodes do not match" % (affected, total) if affected and total else "no node matches"


def _unnamed_taint_title(culprit, tref, also):
    """The message does not name the taint: the headline names the command that reads it from the nodes."""
    selector = culprit.get("node_selector")
    columns = "-o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints"
    if isinstance(selector, dict) and selector:
        terms = ",".join("%s=%s" % item for item in sorted(selector.items()))
        return ("Add to %s a toleration for the taint of the nodes its nodeSelector %s picks (the message does not "
                "name it; read it with kubectl get nodes -l %s %s)%s" % (tref, terms, terms, columns, also))
    return ("Add to %s a toleration for the nodes' taint the message does not name (read it with kubectl get nodes "
            "%s), or remove that taint%s" % (tref, columns, also))


# kubelet pkg/volume/csi: "driver name X not found in the list of registered CSI drivers"; pkg/volume/configmap
# and secret: "configmap references non-existent config key: K" (1.5 and older: no kind and no key).
_CSI_UNREGISTERED = re.compile(r"driver name (\S+) not found in the list of registered CSI drivers")
_KEY_MISSING = re.compile(r"(?:(configmap|secret) )?references non-existent (?:config|secret) key(?:: ([\w.-]+))?",
                          re.I)


def volume_title(culprit, facts, result=None):
    """What to change so the volume mounts, from the mount failure's cause."""
    volume = culprit.get("volume")
    cause = culprit.get("cause")
    if cause == "mount_failed":
        text = " ".join(str((item or {}).get("detail") or "") for item in (result or {}).get("evidence") or [])
        nfs = re.search(r"-t nfs4? (\S+:\S+)", text)
        if nfs or ("exit status 32" in text and "nfs" in text.lower()):
            return ("Make the NFS export %s mountable from the node (mount exit 32: server unreachable, path not "
                    "exported to the node, or no NFS client there)" % (nfs.group(1) if nfs else "of volume %s" % volume))
    texts = " ".join(str((item or {}).get("detail") or "") for item in (result or {}).get("evidence") or [])
    texts += " " + str((result or {}).get("root_cause") or "")
    csi = _CSI_UNREGISTERED.search(texts)
    if csi:
        node = (result or {}).get("node")
        return ("Run the node plugin of CSI driver %s on %s so it registers with the kubelet there (volume %s): "
                "check it with kubectl get csinode %s -o jsonpath='{.spec.drivers[*].name}'" % (
                    csi.group(1), "node %s" % node if node else "the pod's node", volume, node or "<node>"))
    key = _KEY_MISSING.search(texts)
    if key:
        kind = {"secret": "Secret", "configmap": "ConfigMap"}.get((key.group(1) or "").lower(), "ConfigMap/Secret")
        if key.group(2):
            return "Add key %s to the %s of volume %s, or fix that key in the volume's items" % (
                key.group(2), kind, volume)
        args, _pod = _pod_ref(result)
        return ("Add the key the items of volume %s reference to its %s, or fix the items: the message does not name "
                "the key; read them with kubectl get pod %s -o jsonpath='{.spec.volumes[?(@.name==\"%s\")]}'" % (
                    volume, kind, args, volume))
    if cause == "multi_attach":
        seconds = (facts or {}).get("multi_attach_seconds")
        held = "pod %s" % culprit["used_by"] if culprit.get("used_by") else "another node"
        return "Release volume %s from %s (ReadWriteOnce)%s" % (
            volume, held, "; Multi-Attach for %dm, force-detach comes after 6m" % (seconds // 60)
            if isinstance(seconds, (int, float)) else "")
    if cause == "missing_object" and culprit.get("name"):
        return "Create %s %s (volume %s), or fix the volume's source" % (
            culprit.get("kind") or "the object", culprit["name"], volume)
    return "Fix the volume %s" % volume


def admission_title(culprit, tref):
    """What to change so admission creates the pods."""
    if culprit.get("service_account"):
        return "Create ServiceAccount %s (or fix serviceAccountName of %s)" % (culprit["service_account"], tref)
    if culprit.get("policy") == "PodSecurity":
        return "Change %s to satisfy PodSecurity %s: %s" % (tref, culprit.get("level"),
                                                            _quote(culprit.get("violations"), 100))
    if culprit.get("webhook"):
        return "Satisfy or fix admission webhook %s for %s" % (culprit["webhook"], tref)
    return "Make the pod template admissible"


def evicted_title(culprit, diagnosis=None):
    """What keeps the next pod from being evicted, from the eviction message's resource, container and figures."""
    resource = culprit.get("resource") or "a resource"
    if culprit.get("scope") == "pod_limit":
        return "Raise the pod's total %s limit (%s) or make its containers write less to local disk" % (
            resource, culprit.get("limit"))
    if culprit.get("container") and culprit.get("usage"):
        return "Give container %s a %s request of at least its use (%s used, request %s)" % (
            culprit["container"], resource, _human(culprit["usage"]), culprit.get("request") or "none")
    if diagnosis is not None and resource in ("memory", "disk", "ephemeral-storage", "nodefs", "imagefs"):
        # Node pressure without the container or figures: the headline names where to look on which node.
        args, pod = _pod_ref(diagnosis)
        node = diagnosis.get("node")
        where = "node %s" % node if node else "the node of pod %s (kubectl get pod %s -o wide)" % (pod, args)
        if resource == "memory":
            return ("Set memory requests to their use on the pods that fill %s: the kubelet evicted %s under memory "
                    "pressure; find them with kubectl top pods -A --sort-by=memory" % (where, pod))
        return ("Give the pods that fill the disk of %s ephemeral-storage limits, or clean its images and logs: the "
                "kubelet evicted %s under %s pressure; on the node: du -sh /var/lib/kubelet/pods/* /var/log/pods" % (
                    where, pod, resource))
    return "Relieve the node's %s pressure (the kubelet evicted pods to reclaim it)" % resource


def evicted_steps(culprit, tref, ns):
    container = culprit.get("container")
    if container and culprit.get("usage") and culprit.get("resource"):
        return ["kubectl set resources %s -n %s -c %s --requests=%s=<at least %s>" % (
            tref, ns, container, culprit["resource"], _human(culprit["usage"])),
            "kubectl describe nodes | grep -A6 Conditions  # which nodes are under pressure"]
    return ["kubectl describe nodes | grep -A6 Conditions  # which nodes are under pressure",
            "kubectl get pods -A --field-selector status.phase=Failed  # other evicted pods"]


def _human(quantity):
    """``5053216Ki`` -> ``4.8Gi``: eviction messages print kibibytes."""
    match = re.match(r"^(\d+)Ki$", str(quantity or ""))
    if not match:
        return quantity
    value = int(match.group(1)) * 1024.0
    for unit, size in (("Gi", 1024.0 ** 3), ("Mi", 1024.0 ** 2)):
        if value >= size:
            return ("%.1f" % (value / size)).rstrip("0").rstrip(".") + unit
    return quantity


def deadline_title(culprit, facts, tref):
    seconds = culprit.get("active_deadline_seconds") or (facts or {}).get("deadline")
    if seconds:
        return "Raise activeDeadlineSeconds of %s above %ss (the work ran past it), or make the work finish sooner" % (
            tref, seconds)
    return "Raise activeDeadlineSeconds or make the work finish sooner"


_SANDBOX = (
    (re.compile(r"assign an IP address|no available IP|failed to allocate for range|IP pool|ipam", re.I),
     "Free or add pod IP addresses for %s: the CNI cannot assign one"),
    (re.compile(r"open (/[^:\s]+): no such file", re.I),
     "Start the CNI plugin on %s: a file it needs is missing (its daemon is not running there)"),
    (re.compile(r"sandbox image|pause:", re.I),
     "Make %s able to pull its sandbox (pause) image"),
    (re.compile(r"Unauthorized|forbidden|certificate", re.I),
     "Fix the CNI plugin's credentials on %s: the CNI's API calls are refused"),
)


def sandbox_title(result, node, name):
    texts = " ".join(str((item or {}).get("detail") or "") for item in (result or {}).get("evidence") or [])
    where = "node %s" % node if node else "the node of pod %s" % name
    for pattern, title in _SANDBOX:
        if pattern.search(texts):
            return title % where
    if node:
        # No known cause in the message: the CNI plugin's own log on that node is the missing fact.
        return ("Read the CNI plugin's and the runtime's log on %s to repair them: the sandbox error matches no "
                "known cause (kubectl get pods -n kube-system -o wide --field-selector spec.nodeName=%s; on the node "
                "journalctl -u kubelet -u containerd | grep -i sandbox)" % (where, node))
    return "Repair the CNI/runtime on %s" % where
