"""Scenarios of evictions, Jobs, sandboxes, quota, admission, lost nodes, stuck termination and healthy pods."""

from __future__ import annotations

from tests.support.scenario_builder import (EXPECT_LABEL, _hash, _hex, _scheduled_events, conditions, container,
                                            cstatus, pod_spec, pod_status, running, terminated, waiting)


def sc_evicted(b, ns):
    """Evicted: the kubelet evicted a pod under memory pressure (pod object left behind, phase Failed)."""
    spec = [container("renderer", "registry.example.com/shop/thumbnailer:2.2.0", memory_request="256Mi")]
    _d, rs, labels = b.deployment(ns, "thumbnailer", pod_spec(spec), replicas=1, expect=None,
                                  rs_status={"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                                             "observedGeneration": 1})
    labels = dict(labels, **{EXPECT_LABEL: "Evicted"})
    name = b.pod_name(rs, 7)
    key = ns + "/" + name
    # pkg/kubelet/eviction/helpers.go: nodeLowMessageFmt + thresholdMetMessageFmt + containerMessageFmt
    message = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 87364Ki. Container "
               "renderer was using 1452628Ki, request is 256Mi, has larger consumption of memory. ")
    status = {"phase": "Failed", "reason": "Evicted", "message": message, "startTime": b.ts(20000),
              "hostIP": "172.18.0.9", "conditions": [
                  # pkg/kubelet/eviction/eviction_manager.go: DisruptionTarget condition, reason TerminationByKubelet
                  {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet",
                   "message": message, "lastProbeTime": None, "lastTransitionTime": b.ts(7200)}],
              "containerStatuses": [cstatus(b, key, spec[0], terminated(
                  b, "ContainerStatusUnknown", 137, 20000, 7200, key,
                  message="The container could not be located when the pod was terminated"))]}
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=20000)
    b.event(pod, "Evicted", message, host="node-2", first_ago=7200)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: "Stopping container %s"
    b.event(pod, "Killing", "Stopping container renderer", "Normal", host="node-2", first_ago=7200,
            field_path="spec.containers{renderer}")


def _job(b, ns, name, template, expect, job_status, owner=None, backoff=2, deadline=None, age=7200):
    labels = {"app": name}
    if expect:
        labels[EXPECT_LABEL] = expect
    spec = {"parallelism": 1, "completions": 1, "backoffLimit": backoff, "completionMode": "NonIndexed",
            "suspend": False, "template": {"metadata": {"labels": dict(labels)}, "spec": template}}
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    job = b.add({"apiVersion": "batch/v1", "kind": "Job",
                 "metadata": dict(b.meta("Job", ns, name, age, labels=labels, owner=owner), generation=1),
                 "spec": spec, "status": job_status})
    uid = job["metadata"]["uid"]
    job["spec"]["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    pod_labels = dict(labels, **{"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                                 "controller-uid": uid, "job-name": name})
    return job, pod_labels


def sc_deadline(b, ns):
    """DeadlineExceeded: a nightly report Job ran past activeDeadlineSeconds (CronJob -> Job -> Pod)."""
    template = pod_spec([container("report", "registry.example.com/batch/sales-report:1.0.4")], restartPolicy="Never")
    cron = b.add({"apiVersion": "batch/v1", "kind": "CronJob",
                  "metadata": dict(b.meta("CronJob", ns, "sales-report", 30 * 86400, labels={"app": "sales-report"}),
                                   generation=1),
                  "spec": {"schedule": "0 2 * * *", "concurrencyPolicy": "Forbid", "suspend": False,
                           "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                           "jobTemplate": {"spec": {"activeDeadlineSeconds": 3600, "backoffLimit": 0,
                                                    "template": {"spec": template}}}},
                  "status": {"lastScheduleTime": b.ts(5 * 3600)}})
    # pkg/controller/job/job_controller.go: "Job was active longer than specified deadline"
    job_status = {"failed": 1, "startTime": b.ts(5 * 3600), "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline", "lastProbeTime": b.ts(4 * 3600),
         "lastTransitionTime": b.ts(4 * 3600)},
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline", "lastProbeTime": b.ts(4 * 3600),
         "lastTransitionTime": b.ts(4 * 3600)}]}
    job, labels = _job(b, ns, "sales-report-29400120", template, "DeadlineExceeded", job_status, owner=cron,
                       backoff=0, deadline=3600, age=5 * 3600)
    name = b.pod_name(job, 0)
    key = ns + "/" + name
    # pkg/kubelet/active_deadline.go: reason "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"
    message = "Pod was active on the node longer than the specified deadline"
    status = {"phase": "Failed", "reason": "DeadlineExceeded", "message": message, "startTime": b.ts(5 * 3600),
              "hostIP": "172.18.0.9", "conditions": conditions(b, False, age=5 * 3600, reason="PodFailed"),
              "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                  b, "Error", 137, 5 * 3600, 4 * 3600, key))]}
    pod = b.pod(ns, name, dict(template, nodeName="node-2", activeDeadlineSeconds=3600), status, labels=labels,
                owner=job, age=5 * 3600)
    b.event(pod, "DeadlineExceeded", message, "Normal", host="node-2", first_ago=4 * 3600)
    b.event(job, "DeadlineExceeded", "Job was active longer than specified deadline", "Warning", "job-controller",
            first_ago=4 * 3600)
    b.log(ns, name, "report", "2026-11-25T14:00:03Z aggregating 184 days of orders\n"
          "2026-11-25T14:52:40Z still aggregating: 61% done\n")


def sc_job_exit(b, ns):
    """ContainerExitError: a Job pod (restartPolicy Never) exits 1; the Job hits its backoff limit."""
    template = pod_spec([container("import", "registry.example.com/batch/price-import:2.3.0")], restartPolicy="Never")
    # pkg/controller/job/job_controller.go: reason "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    job_status = {"failed": 3, "startTime": b.ts(3000), "conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit", "lastProbeTime": b.ts(2000),
         "lastTransitionTime": b.ts(2000)}]}
    job, labels = _job(b, ns, "price-import", template, "ContainerExitError", job_status, backoff=2, age=3000)
    for index in range(3):
        name = b.pod_name(job, index)
        key = ns + "/" + name
        started = 3000 - index * 400
        status = {"phase": "Failed", "startTime": b.ts(started), "hostIP": "172.18.0.5",
                  "conditions": conditions(b, False, age=started, reason="PodFailed"),
                  "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                      b, "Error", 1, started - 2, started - 40, key))]}
        pod = b.pod(ns, name, dict(template, nodeName="node-1"), status, labels=labels, owner=job, age=started)
        b.event(pod, "Scheduled", "Successfully assigned %s/%s to node-1" % (ns, name), "Normal", "default-scheduler",
                first_ago=started)
        b.log(ns, name, "import", "2026-11-25T18:10:02Z INFO fetching https://prices.example.com/export.csv\n"
              "2026-11-25T18:10:39Z ERROR row 18412: invalid decimal literal '12,99' in column price\n"
              "2026-11-25T18:10:39Z FATAL import aborted, 0 rows committed\n")
        # pkg/controller/job/job_controller.go: "Created pod: %v"
        b.event(job, "SuccessfulCreate", "Created pod: %s" % name, "Normal", "job-controller", first_ago=started)
    b.event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", "Warning", "job-controller",
            first_ago=2000)


def sc_sandbox(b, ns):
    """SandboxCreationFailure: the CNI plugin cannot set up networking."""
    spec = [container("app", "registry.example.com/shop/notifications:1.0.2")]
    _d, rs, labels = b.deployment(ns, "notifications", pod_spec(spec), replicas=1, expect="SandboxCreationFailure",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("ContainerCreating"))], age=900)
    status["conditions"][0]["status"] = "False"
    status.pop("podIP")
    status.pop("podIPs")
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=900)
    _scheduled_events(b, pod, "node-1", 900)
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go SyncPod: "Failed to create pod sandbox: %v"
    b.event(pod, "FailedCreatePodSandBox", 'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to '
            'setup network for sandbox "%s": plugin type="calico" failed (add): error getting ClusterInformation: '
            'connection is unauthorized: Unauthorized' % _hex("sandbox/" + name), host="node-1", count=57,
            first_ago=895, last_ago=6)


def sc_quota(b, ns):
    """QuotaExceeded: the ReplicaSet cannot create pods over the namespace's memory quota."""
    spec = [container("app", "registry.example.com/shop/reviews:2.0.1", memory_limit="512Mi")]
    deploy, rs, _labels = b.deployment(ns, "reviews", pod_spec(spec), replicas=3, expect="QuotaExceeded",
                                       rs_status={"replicas": 0, "observedGeneration": 1},
                                       dep_status={"observedGeneration": 1, "replicas": 0, "unavailableReplicas": 3})
    # plugin/pkg/admission/resourcequota/controller.go: "exceeded quota: %s, requested: %s, used: %s, limited: %s"
    forbidden = ('pods "%s-%%s" is forbidden: exceeded quota: compute-quota, requested: limits.memory=512Mi, '
                 'used: limits.memory=1792Mi, limited: limits.memory=2Gi' % rs["metadata"]["name"])
    # pkg/controller/replicaset/replica_set_utils.go: condition ReplicaFailure, reason FailedCreate
    rs["status"]["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                   "lastTransitionTime": b.ts(1200), "message": forbidden % _hash("quota/2", 5)}]
    # pkg/controller/deployment/progress.go: MinimumReplicasUnavailable / ReplicaFailure copied from the RS
    deploy["status"]["conditions"] = [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
         "message": "Deployment does not have minimum availability.", "lastUpdateTime": b.ts(1200),
         "lastTransitionTime": b.ts(1200)},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "lastUpdateTime": b.ts(1200),
         "lastTransitionTime": b.ts(1200), "message": forbidden % _hash("quota/2", 5)}]
    b.add({"apiVersion": "v1", "kind": "ResourceQuota",
           "metadata": b.meta("ResourceQuota", ns, "compute-quota", 86400 * 20),
           "spec": {"hard": {"limits.memory": "2Gi", "requests.cpu": "4"}},
           "status": {"hard": {"limits.memory": "2Gi", "requests.cpu": "4"},
                      "used": {"limits.memory": "1792Mi", "requests.cpu": "1650m"}}})
    # pkg/controller/controller_utils.go CreatePods: FailedCreate "Error creating: %v"
    for index, ago in enumerate((1200, 900, 300)):
        b.event(rs, "FailedCreate", "Error creating: " + forbidden % _hash("quota/%d" % index, 5), "Warning",
                "replicaset-controller", count=1 if index < 2 else 9, first_ago=ago, last_ago=ago if index < 2 else 20)


def sc_forbidden(b, ns):
    """PodCreationForbidden: Pod Security admission rejects a privileged template."""
    spec = [container("exporter", "registry.example.com/ops/node-exporter:1.8.2",
                      securityContext={"privileged": True})]
    _d, rs, _labels = b.deployment(ns, "metrics-exporter", pod_spec(spec, hostNetwork=True), replicas=1,
                                   expect="PodCreationForbidden", rs_status={
                                       "replicas": 0, "observedGeneration": 1, "conditions": [
                                           {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                            "lastTransitionTime": b.ts(2000), "message": "pods forbidden"}]})
    # staging/src/k8s.io/pod-security-admission/admission/admission.go: "violates PodSecurity %q: %s"
    message = ('Error creating: pods "%s-%s" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
               '(hostNetwork=true), privileged (container "exporter" must not set securityContext.privileged=true)'
               % (rs["metadata"]["name"], _hash("psa", 5)))
    rs["status"]["conditions"][0]["message"] = message[len("Error creating: "):]
    b.event(rs, "FailedCreate", message, "Warning", "replicaset-controller", count=17, first_ago=2000, last_ago=45)


def sc_node_lost(b, ns):
    """NodeLost: node-3 stopped reporting; its pod is marked not ready and for deletion."""
    b.node("node-3", lost_for=1500)
    spec = [container("app", "registry.example.com/shop/sessions:3.3.0")]
    _d, rs, labels = b.deployment(ns, "sessions", pod_spec(spec), replicas=1, expect="NodeLost",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 80000), ready=False)], node="node-3",
                        age=80000)
    # pkg/controller/nodelifecycle/node_lifecycle_controller.go MarkPodsNotReady: Ready=False
    for cond in status["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update({"status": "False", "lastTransitionTime": b.ts(1460)})
            cond.pop("reason", None)
            cond.pop("message", None)
    status["conditions"].insert(0, {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                                    "message": "Taint manager: deleting due to NoExecute taint",
                                    "lastProbeTime": None, "lastTransitionTime": b.ts(1200)})
    pod = b.pod(ns, name, pod_spec(spec, node="node-3"), status, labels=labels, owner=rs, age=80000,
                meta_extra={"deletionTimestamp": b.ts(1170), "deletionGracePeriodSeconds": 30})
    # pkg/controller/nodelifecycle/node_lifecycle_controller.go / util: RecordNodeStatusChange "NodeNotReady"
    b.event(pod, "NodeNotReady", "Node is not ready", "Warning", "node-controller", first_ago=1460)
    # pkg/controller/tainteviction/taint_eviction.go: "Marking for deletion Pod %s"
    b.event(pod, "TaintManagerEviction", "Marking for deletion Pod %s/%s" % (ns, name), "Normal",
            "taint-eviction-controller", first_ago=1200)
    node = next(o for o in b.objects if o["kind"] == "Node" and o["metadata"]["name"] == "node-3")
    b.event(node, "NodeNotReady", "Node node-3 status is now: NodeNotReady", "Normal", "node-controller",
            first_ago=1460)


def sc_terminating(b, ns):
    """TerminatingStuck: deleted 2 h ago, held by a finalizer nobody removes."""
    spec = [container("app", "registry.example.com/shop/legacy-sync:0.4.0")]
    labels = {"app": "legacy-sync", EXPECT_LABEL: "TerminatingStuck"}
    key = ns + "/legacy-sync"
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 9 * 86400), ready=True)], ready=True,
                        age=9 * 86400)
    pod = b.pod(ns, "legacy-sync", pod_spec(spec, node="node-1"), status, labels=labels, age=9 * 86400,
                meta_extra={"deletionTimestamp": b.ts(7200), "deletionGracePeriodSeconds": 30,
                            "finalizers": ["sync.example.com/drain-queue"]})
    b.event(pod, "Killing", "Stopping container app", "Normal", host="node-1", first_ago=7230,
            field_path="spec.containers{app}")


def sc_healthy(b, ns):
    """Healthy: a running 2-replica web, a Completed job pod, and a pod with old restarts."""
    spec = [container("web", "registry.example.com/shop/frontend:6.1.0", memory_limit="256Mi",
                      readinessProbe={"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5})]
    _d, rs, labels = b.deployment(ns, "frontend", pod_spec(spec), replicas=2, expect="Healthy")
    for index in range(2):
        name = b.pod_name(rs, index)
        key = ns + "/" + name
        restarts = 2 if index == 1 else 0
        last = terminated(b, "Error", 2, 6 * 86400, 6 * 86400 - 30, key) if restarts else None
        status = pod_status(b, "Running", [cstatus(b, key, spec[0], running(b, 6 * 86400 - 20), restarts=restarts,
                                                   last=last, ready=True)], ready=True, age=7 * 86400,
                            node="node-%d" % (index + 1))
        b.pod(ns, name, pod_spec(spec, node="node-%d" % (index + 1)), status, labels=labels, owner=rs, age=7 * 86400)
        b.log(ns, name, "web", '10.244.1.1 - - [25/Nov/2026:18:59:58 +0000] "GET /ready HTTP/1.1" 200 2 "-" '
              '"kube-probe/1.32"\n10.244.0.9 - - [25/Nov/2026:18:59:59 +0000] "GET /products/4711 HTTP/1.1" 200 '
              '5120 "-" "Mozilla/5.0"\n')
    template = pod_spec([container("backup", "registry.example.com/batch/db-backup:1.1.0")], restartPolicy="OnFailure")
    job_status = {"succeeded": 1, "startTime": b.ts(7000), "completionTime": b.ts(6500), "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": b.ts(6500),
         "lastTransitionTime": b.ts(6500)},
        {"type": "Complete", "status": "True", "reason": "CompletionsReached",
         "message": "Reached expected number of succeeded pods", "lastProbeTime": b.ts(6500),
         "lastTransitionTime": b.ts(6500)}]}
    job, job_labels = _job(b, ns, "db-backup-29400000", template, "Healthy", job_status, age=7000)
    name = b.pod_name(job, 0)
    key = ns + "/" + name
    status = {"phase": "Succeeded", "startTime": b.ts(7000), "hostIP": "172.18.0.5",
              "conditions": conditions(b, False, age=7000, reason="PodCompleted"),
              "containerStatuses": [cstatus(b, key, template["containers"][0], terminated(
                  b, "Completed", 0, 6990, 6510, key))]}
    b.pod(ns, name, dict(template, nodeName="node-1"), status, labels=job_labels, owner=job, age=7000)
    b.log(ns, name, "backup", "backup of orders-db written to s3://backups/orders/2026-11-25.sql.gz (412 MiB)\n")
