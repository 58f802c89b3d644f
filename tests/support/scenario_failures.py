"""Scenarios of pods that fail in their containers, images, configuration, scheduling, volumes and probes."""

from __future__ import annotations

from tests.support.scenario_builder import (EXPECT_LABEL, _fmt_pod, _hash, _hex, _scheduled_events, conditions,
                                            container, cstatus, pod_spec, pod_status, running, terminated, waiting)

# --------------------------------------------------------------------------------------------
# Scenarios: each adds objects to the builder and returns nothing
# --------------------------------------------------------------------------------------------

PY_TRACEBACK = """2026-11-25 18:57:02,114 INFO  starting payments-api 2.4.1 (pid 1)
2026-11-25 18:57:02,187 INFO  loading settings from /etc/payments/settings.yaml
Traceback (most recent call last):
  File "/app/payments/main.py", line 41, in <module>
    app = create_app()
          ^^^^^^^^^^^^
  File "/app/payments/main.py", line 27, in create_app
    settings = load_settings(os.environ["SETTINGS_PATH"])
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/app/payments/settings.py", line 18, in load_settings
    return Settings(**raw["database"])
                      ~~~^^^^^^^^^^^^
KeyError: 'database'
"""

JAVA_OOM = """2026-11-25T18:58:40.112Z  INFO 1 --- [main] c.e.catalog.CatalogApplication : Started CatalogApplication in 9.84 seconds
2026-11-25T18:58:51.730Z  INFO 1 --- [nio-8080-exec-4] c.e.catalog.ImportJob : importing 2000000 products
2026-11-25T18:59:02.015Z  WARN 1 --- [nio-8080-exec-4] c.e.catalog.ImportJob : cache size 1843 MiB
"""


def sc_crashloop(b, ns):
    """CrashLoopBackOff: a Python app that dies on start; the previous log has the traceback."""
    spec = [container("api", "registry.example.com/shop/payments-api:2.4.1",
                      env=[{"name": "SETTINGS_PATH", "value": "/etc/payments/settings.yaml"}])]
    _d, rs, labels = b.deployment(ns, "payments-api", pod_spec(spec), replicas=1, expect="CrashLoopBackOff",
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(
        b, key, spec[0],
        # pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: "back-off %s restarting failed container=%s pod=%s"
        waiting("CrashLoopBackOff", None), restarts=7,
        last=terminated(b, "Error", 1, 95, 93, key))], age=1500)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=1500)
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 5m0s restarting failed container=api pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-1", 1500)
    fp = "spec.containers{api}"
    # pkg/kubelet/images/image_manager.go: "Container image %q already present on machine"
    b.event(pod, "Pulled", 'Container image "registry.example.com/shop/payments-api:2.4.1" already present on machine',
            "Normal", host="node-1", count=8, first_ago=1490, last_ago=93, field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go: "Created container %s" / "Started container %s"
    b.event(pod, "Created", "Created container: api", "Normal", host="node-1", count=8, first_ago=1490, last_ago=95,
            field_path=fp)
    b.event(pod, "Started", "Started container api", "Normal", host="node-1", count=8, first_ago=1490, last_ago=95,
            field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: "Back-off restarting failed container %s in pod %s"
    b.event(pod, "BackOff", "Back-off restarting failed container api in pod %s" % _fmt_pod(pod),
            host="node-1", count=31, first_ago=1400, last_ago=12, field_path=fp)
    b.log(ns, name, "api", PY_TRACEBACK, previous=True)


def sc_oom(b, ns):
    """OOMKilled: a JVM over its 512Mi limit, restarted 4 times."""
    spec = [container("catalog", "registry.example.com/shop/catalog:5.0.3", memory_limit="512Mi",
                      memory_request="512Mi")]
    _d, rs, labels = b.deployment(ns, "catalog", pod_spec(spec), replicas=1, expect="OOMKilled",
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], waiting("CrashLoopBackOff"), restarts=4,
                                               last=terminated(b, "OOMKilled", 137, 42, 20, key))], age=2400)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=2400)
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 1m20s restarting failed container=catalog pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-2", 2400)
    b.event(pod, "BackOff", "Back-off restarting failed container catalog in pod %s" % _fmt_pod(pod),
            host="node-2", count=9, first_ago=1800, last_ago=15, field_path="spec.containers{catalog}")
    b.log(ns, name, "catalog", JAVA_OOM, previous=True)


def _image_pull(b, ns, app, image, expect, pull_error):
    spec = [container("web", image)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 2})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    # pkg/kubelet/images/image_manager.go: "Back-off pulling image %q"
    status = pod_status(b, "Pending", [cstatus(b, key, spec[0], waiting(
        "ImagePullBackOff", 'Back-off pulling image "%s"' % image))], age=900)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=900)
    _scheduled_events(b, pod, "node-1", 900)
    fp = "spec.containers{web}"
    b.event(pod, "Pulling", 'Pulling image "%s"' % image, "Normal", host="node-1", count=5, first_ago=895,
            last_ago=150, field_path=fp)
    # pkg/kubelet/images/image_manager.go: "Failed to pull image %q: %v"
    b.event(pod, "Failed", 'Failed to pull image "%s": %s' % (image, pull_error), host="node-1", count=5,
            first_ago=894, last_ago=149, field_path=fp)
    # pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer: "Error: %v" with images.ErrImagePull
    b.event(pod, "Failed", "Error: ErrImagePull", host="node-1", count=5, first_ago=894, last_ago=149, field_path=fp)
    b.event(pod, "BackOff", 'Back-off pulling image "%s"' % image, "Normal", host="node-1", count=60,
            first_ago=880, last_ago=8, field_path=fp)
    b.event(pod, "Failed", "Error: ImagePullBackOff", host="node-1", count=60, first_ago=880, last_ago=8,
            field_path=fp)


def sc_image_not_found(b, ns):
    """ImagePullBackOff: the tag does not exist (containerd NotFound)."""
    image = "registry.example.com/shop/storefront:3.9.9"
    # containerd remotes/docker/resolver.go + cri image_pull.go wording
    _image_pull(b, ns, "storefront", image, "ImagePullBackOff",
                'rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to resolve '
                'reference "%s": %s: not found' % (image, image, image))


def sc_image_unauthorized(b, ns):
    """ImagePullBackOff: private registry without pull credentials."""
    image = "registry.example.com/private/recommender:1.2.0"
    _image_pull(b, ns, "recommender", image, "ImagePullBackOff",
                'rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve '
                'reference "%s": pull access denied, repository does not exist or may require authorization: '
                'server message: insufficient_scope: authorization failed' % (image, image))


def sc_invalid_image(b, ns):
    """InvalidImageName: upper-case repository name."""
    image = "registry.example.com/Shop/Search:2.0"
    spec = [container("search", image)]
    _d, rs, labels = b.deployment(ns, "search", pod_spec(spec), replicas=1, expect="InvalidImageName",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    # pkg/kubelet/images/image_manager.go EnsureImageExists: "Failed to apply default image tag %q: %v"
    message = ('Failed to apply default image tag "%s": couldn\'t parse image name "%s": invalid reference '
               'format: repository name (Shop/Search) must be lowercase' % (image, image))
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("InvalidImageName", message))],
                        age=600)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2"), status, labels=labels, owner=rs, age=600)
    _scheduled_events(b, pod, "node-2", 600)
    # events.FailedToInspectImage = "InspectFailed" (pkg/kubelet/events/event.go)
    b.event(pod, "InspectFailed", message, host="node-2", count=12, first_ago=598, last_ago=10,
            field_path="spec.containers{search}")
    b.event(pod, "Failed", "Error: InvalidImageName", host="node-2", count=12, first_ago=598, last_ago=10,
            field_path="spec.containers{search}")


def _config_error(b, ns, app, env, message, expect="CreateContainerConfigError", extra_objects=()):
    spec = [container("app", "registry.example.com/shop/%s:1.4.0" % app, env=env)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    for obj in extra_objects:
        b.add(obj)
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting(
        "CreateContainerConfigError", message))], age=700)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=700)
    _scheduled_events(b, pod, "node-1", 700)
    b.event(pod, "Pulled", 'Container image "registry.example.com/shop/%s:1.4.0" already present on machine' % app,
            "Normal", host="node-1", count=40, first_ago=698, last_ago=9, field_path="spec.containers{app}")
    # pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer: "Error: %v"
    b.event(pod, "Failed", "Error: " + message, host="node-1", count=40, first_ago=698, last_ago=9,
            field_path="spec.containers{app}")


def sc_config_missing_key(b, ns):
    """CreateContainerConfigError: env var from a ConfigMap key that does not exist."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": b.meta("ConfigMap", ns, "orders-config", 86400 * 3),
          "data": {"LOG_LEVEL": "info", "DATABASE_HOST": "orders-db"}}
    # pkg/kubelet/kubelet_pods.go makeEnvironmentVariables: "couldn't find key %v in ConfigMap %v/%v"
    _config_error(b, ns, "orders", [{"name": "DATABASE_URL", "valueFrom": {"configMapKeyRef": {
        "name": "orders-config", "key": "DATABASE_URL"}}}],
        "couldn't find key DATABASE_URL in ConfigMap %s/orders-config" % ns, extra_objects=[cm])


def sc_config_missing_secret(b, ns):
    """CreateContainerConfigError: env var from a Secret that does not exist."""
    # pkg/kubelet/kubelet_pods.go makeEnvironmentVariables -> secret manager: `secret "%s" not found`
    _config_error(b, ns, "billing", [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "billing-db-credentials", "key": "password"}}}], 'secret "billing-db-credentials" not found')


def sc_create_container_error(b, ns):
    """CreateContainerError: the runtime cannot generate the container spec (mount propagation)."""
    spec = [container("agent", "registry.example.com/ops/log-agent:0.9.1", volumeMounts=[
        {"name": "varlog", "mountPath": "/var/log/host", "mountPropagation": "HostToContainer"}])]
    _d, rs, labels = b.deployment(ns, "log-agent", pod_spec(spec, volumes=[
        {"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}]), replicas=1, expect="CreateContainerError",
        rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    # containerd pkg/cri/opts/spec_linux.go WithMounts: "path %q is mounted on %q but it is not a shared or slave mount"
    message = ('failed to generate container "%s" spec: failed to generate spec: path "/var/log" is mounted on "/" '
               'but it is not a shared or slave mount' % _hex("cc/" + name))
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("CreateContainerError", message))],
                        age=800)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", volumes=[
        {"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}]), status, labels=labels, owner=rs, age=800)
    _scheduled_events(b, pod, "node-2", 800)
    b.event(pod, "Failed", "Error: " + message, host="node-2", count=25, first_ago=790, last_ago=20,
            field_path="spec.containers{agent}")


def sc_run_container_error(b, ns):
    """RunContainerError: the command does not exist in the image (runc exec: no such file)."""
    spec = [container("worker", "registry.example.com/shop/mailer:3.1.0", command=["/app/start.sh"])]
    _d, rs, labels = b.deployment(ns, "mailer", pod_spec(spec), replicas=1, expect="RunContainerError",
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    # runc libcontainer/standard_init_linux.go via containerd: "exec: %q: stat %s: no such file or directory"
    message = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create '
               'failed: unable to start container process: exec: "/app/start.sh": stat /app/start.sh: no such file '
               'or directory: unknown')
    status = pod_status(b, "Running", [cstatus(
        b, key, spec[0], waiting("RunContainerError", message), restarts=5,
        last=terminated(b, "StartError", 128, 70, 70, key, message=message))], age=1200)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=1200)
    _scheduled_events(b, pod, "node-1", 1200)
    b.event(pod, "Failed", "Error: " + message, host="node-1", count=6, first_ago=1190, last_ago=70,
            field_path="spec.containers{worker}")
    b.event(pod, "BackOff", "Back-off restarting failed container worker in pod %s" % _fmt_pod(pod), host="node-1",
            count=20, first_ago=1100, last_ago=14, field_path="spec.containers{worker}")


def _unschedulable(b, ns, app, spec_extra, message, expect, template_extra_volumes=None, cpu="250m"):
    spec = [container("app", "registry.example.com/shop/%s:2.0.0" % app, cpu_request=cpu)]
    template = pod_spec(spec, volumes=template_extra_volumes, **spec_extra)
    _d, rs, labels = b.deployment(ns, app, template, replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = {"phase": "Pending", "conditions": conditions(b, False, scheduled=False, sched_message=message)}
    pod = b.pod(ns, name, template, status, labels=labels, owner=rs, age=1800)
    # pkg/scheduler/schedule_one.go handleSchedulingFailure records FailedScheduling with the FitError text
    b.event(pod, "FailedScheduling", message, "Warning", "default-scheduler", count=14, first_ago=1800, last_ago=40)
    return pod


# pkg/scheduler/framework/types.go FitError.Error: "0/%v nodes are available: %v."
# pkg/scheduler/framework/preemption/preemption.go: "preemption: 0/%v nodes are available: ..."
_NOT_HELPFUL = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


def sc_unschedulable_cpu(b, ns):
    """UnschedulableInsufficientResources: asks for 8 CPUs on 4-CPU nodes."""
    # pkg/scheduler/framework/plugins/noderesources/fit.go: "Insufficient %v"
    _unschedulable(b, ns, "analytics", {}, "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                   "available: 3 No preemption victims found for incoming pod.",
                   "UnschedulableInsufficientResources", cpu="8")


def sc_unschedulable_taint(b, ns):
    """UnschedulableTaints: every node carries a taint the pod does not tolerate."""
    # pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go: "node(s) had untolerated taint {%s: %s}"
    _unschedulable(b, ns, "gpu-inference", {}, "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node.kubernetes.io/unreachable: }, 2 node(s) had untolerated taint {dedicated: batch}. "
                   + _NOT_HELPFUL, "UnschedulableTaints")


def sc_unschedulable_affinity(b, ns):
    """UnschedulableNodeAffinity: nodeSelector no node matches."""
    # pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go ErrReasonPod
    _unschedulable(b, ns, "edge-cache", {"nodeSelector": {"disktype": "nvme"}},
                   "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. " + _NOT_HELPFUL,
                   "UnschedulableNodeAffinity")


def sc_unschedulable_pvc(b, ns):
    """UnschedulableVolume: StatefulSet pod whose claim is unbound (no such StorageClass)."""
    labels = {"app": "ledger-db", EXPECT_LABEL: "UnschedulableVolume"}
    spec = [container("postgres", "docker.io/library/postgres:16.4", volumeMounts=[
        {"name": "data", "mountPath": "/var/lib/postgresql/data"}])]
    sts = b.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
                 "metadata": dict(b.meta("StatefulSet", ns, "ledger-db", 3600, labels=labels), generation=1),
                 "spec": {"replicas": 1, "serviceName": "ledger-db", "selector": {"matchLabels": {"app": "ledger-db"}},
                          "podManagementPolicy": "OrderedReady",
                          "template": {"metadata": {"labels": labels}, "spec": pod_spec(spec)},
                          "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                              "accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
                              "resources": {"requests": {"storage": "20Gi"}}}}]},
                 "status": {"replicas": 1, "currentReplicas": 1, "updatedReplicas": 1, "availableReplicas": 0,
                            "readyReplicas": 0, "observedGeneration": 1,
                            "currentRevision": "ledger-db-" + _hash("ledger", 10),
                            "updateRevision": "ledger-db-" + _hash("ledger", 10)}})
    pvc = b.add({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": b.meta("PersistentVolumeClaim", ns, "data-ledger-db-0", 3600,
                                    labels={"app": "ledger-db"}),
                 "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd", "volumeMode": "Filesystem",
                          "resources": {"requests": {"storage": "20Gi"}}},
                 "status": {"phase": "Pending"}})
    # pkg/controller/volume/persistentvolume/pv_controller.go: "storageclass.storage.k8s.io %q not found"
    b.event(pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found', "Warning",
            "persistentvolume-controller", count=240, first_ago=3600, last_ago=5)
    # pkg/scheduler/framework/plugins/volumebinding/volume_binding.go: "pod has unbound immediate PersistentVolumeClaims"
    message = ("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. " + _NOT_HELPFUL)
    template = pod_spec(spec, volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data-ledger-db-0"}}],
                        hostname="ledger-db-0", subdomain="ledger-db")
    status = {"phase": "Pending", "conditions": conditions(b, False, scheduled=False, sched_message=message)}
    pod = b.pod(ns, "ledger-db-0", template, status, labels=dict(labels, **{
        "statefulset.kubernetes.io/pod-name": "ledger-db-0", "apps.kubernetes.io/pod-index": "0"}), owner=sts, age=3600)
    b.event(pod, "FailedScheduling", message, "Warning", "default-scheduler", count=61, first_ago=3600, last_ago=60)


def sc_unschedulable_cordoned(b, ns):
    """Unschedulable (generic): nodes cordoned for maintenance."""
    # pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go ErrReasonUnschedulable
    _unschedulable(b, ns, "reports", {}, "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node.kubernetes.io/unreachable: }, 2 node(s) were unschedulable. " + _NOT_HELPFUL, "Unschedulable")


def sc_volume_mount(b, ns):
    """VolumeMountFailure: a ConfigMap volume whose ConfigMap does not exist; pod stuck ContainerCreating."""
    spec = [container("gateway", "registry.example.com/shop/gateway:1.8.2", volumeMounts=[
        {"name": "routes", "mountPath": "/etc/gateway"}])]
    volumes = [{"name": "routes", "configMap": {"name": "gateway-routes", "defaultMode": 420}}]
    _d, rs, labels = b.deployment(ns, "gateway", pod_spec(spec, volumes=volumes), replicas=1,
                                  expect="VolumeMountFailure", rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    status = pod_status(b, "Pending", [cstatus(b, ns + "/" + name, spec[0], waiting("ContainerCreating"))], age=1300)
    status["conditions"][0]["status"] = "False"
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", volumes=volumes), status, labels=labels, owner=rs, age=1300)
    _scheduled_events(b, pod, "node-2", 1300)
    # pkg/volume/util/operationexecutor/operation_generator.go: "MountVolume.SetUp failed for volume %q : %v"
    b.event(pod, "FailedMount", 'MountVolume.SetUp failed for volume "routes" : configmap "gateway-routes" not found',
            host="node-2", count=18, first_ago=1290, last_ago=25)
    # pkg/kubelet/volumemanager/volume_manager.go WaitForAttachAndMount
    b.event(pod, "FailedMount", "Unable to attach or mount volumes: unmounted volumes=[routes], unattached "
            "volumes=[], failed to process volumes=[]: timed out waiting for the condition", host="node-2", count=6,
            first_ago=1170, last_ago=50)


def _probe_pod(b, ns, app, probe_kind, message, expect, restarts, last, ready=False, state=None):
    probe = {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
             "timeoutSeconds": 1, "failureThreshold": 3, "successThreshold": 1}
    extra = {"%sProbe" % probe_kind: probe}
    spec = [container("app", "registry.example.com/shop/%s:4.2.0" % app, ports=[
        {"containerPort": 8080, "protocol": "TCP"}], **extra)]
    _d, rs, labels = b.deployment(ns, app, pod_spec(spec), replicas=1, expect=expect,
                                  rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    status = pod_status(b, "Running", [cstatus(b, key, spec[0], state or running(b, 200), restarts=restarts,
                                               last=last and terminated(b, *last, key=key), ready=ready,
                                               started=probe_kind != "startup")], age=5400)
    pod = b.pod(ns, name, pod_spec(spec, node="node-1"), status, labels=labels, owner=rs, age=5400)
    _scheduled_events(b, pod, "node-1", 5400)
    # pkg/kubelet/prober/prober.go runProbeWithRetries -> recorder: "%s probe failed: %s"
    b.event(pod, "Unhealthy", "%s probe failed: %s" % (probe_kind.capitalize(), message), host="node-1",
            count=3 * max(restarts, 1) + 40, first_ago=5300, last_ago=7, field_path="spec.containers{app}")
    return pod


def sc_liveness(b, ns):
    """LivenessProbeFailure: /healthz answers 500; the kubelet restarts the container."""
    # pkg/probe/http/http.go: "HTTP probe failed with statuscode: %d"
    pod = _probe_pod(b, ns, "cart", "liveness", "HTTP probe failed with statuscode: 500", "LivenessProbeFailure", 6,
                     ("Error", 137, 260, 230))
    # pkg/kubelet/kuberuntime/kuberuntime_manager.go computePodActions: "Container %s failed %s probe, will be restarted"
    b.event(pod, "Killing", "Container app failed liveness probe, will be restarted", "Normal", host="node-1", count=6,
            first_ago=5000, last_ago=230, field_path="spec.containers{app}")
    b.log(pod["metadata"]["namespace"], pod["metadata"]["name"], "app",
          "2026-11-25T18:55:10Z INFO cart service listening on :8080\n"
          "2026-11-25T18:55:41Z ERROR redis: connection pool exhausted (size=10, waiting=245)\n"
          "2026-11-25T18:55:42Z WARN healthz: dependency redis unhealthy, returning 500\n", previous=True)


def sc_readiness(b, ns):
    """ReadinessProbeFailure: connection refused on the readiness port; no restarts, never Ready."""
    _probe_pod(b, ns, "checkout", "readiness", 'Get "http://10.244.61.18:8080/healthz": dial tcp 10.244.61.18:8080: '
               "connect: connection refused", "ReadinessProbeFailure", 0, None)


def sc_startup(b, ns):
    """StartupProbeFailure: the app never becomes healthy within the startup budget."""
    pod = _probe_pod(b, ns, "search-indexer", "startup", "HTTP probe failed with statuscode: 503",
                     "StartupProbeFailure", 3, ("Error", 137, 330, 300))
    b.event(pod, "Killing", "Container app failed startup probe, will be restarted", "Normal", host="node-1", count=3,
            first_ago=5000, last_ago=300, field_path="spec.containers{app}")


def sc_init_container(b, ns):
    """InitContainerFailure: a migration init container cannot reach the database."""
    init = [container("migrate", "registry.example.com/shop/inventory-migrations:7.1.0",
                      command=["/bin/sh", "-c", "alembic upgrade head"])]
    spec = [container("app", "registry.example.com/shop/inventory:7.1.0")]
    _d, rs, labels = b.deployment(ns, "inventory", pod_spec(spec, init=init), replicas=1,
                                  expect="InitContainerFailure", rs_status={"replicas": 1, "observedGeneration": 1})
    name = b.pod_name(rs, 0)
    key = ns + "/" + name
    init_status = [cstatus(b, key, init[0], waiting("CrashLoopBackOff"), restarts=5,
                           last=terminated(b, "Error", 1, 130, 128, key))]
    status = pod_status(b, "Pending", [cstatus(b, key, spec[0], waiting("PodInitializing"))], age=1700,
                        init_statuses=init_status, initialized=False)
    pod = b.pod(ns, name, pod_spec(spec, node="node-2", init=init), status, labels=labels, owner=rs, age=1700)
    pod["status"]["initContainerStatuses"][0]["state"]["waiting"]["message"] = (
        "back-off 2m40s restarting failed container=migrate pod=%s" % _fmt_pod(pod))
    _scheduled_events(b, pod, "node-2", 1700)
    b.event(pod, "BackOff", "Back-off restarting failed container migrate in pod %s" % _fmt_pod(pod),
            host="node-2", count=22, first_ago=1500, last_ago=30, field_path="spec.initContainers{migrate}")
    b.log(ns, name, "migrate", "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
          "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
          "\"inventory-db\" (10.96.41.7), port 5432 failed: Connection refused\n"
          "\tIs the server running on that host and accepting TCP/IP connections?\n", previous=True)
