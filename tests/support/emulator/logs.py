"""Pod logs: seeded text per (namespace, pod, container, previous), served like the kubelet."""

from __future__ import annotations

from tests.support.emulator.api import ApiError, now_rfc3339


class LogsMixin(object):

    def set_log(self, namespace, pod, container, text, previous=False):
        with self._lock:
            self._logs[(namespace, pod, container, bool(previous))] = text

    def _log(self, res, ns, name, query):
        with self._lock:
            pod = self._get_entry(res, ns, name).obj
            spec = pod.get("spec") or {}
            containers = [c.get("name") for c in spec.get("containers") or []]
            inits = [c.get("name") for c in spec.get("initContainers") or []]
            container = query.get("container")
            if not container:
                if len(containers) == 1:
                    container = containers[0]
                elif not containers:
                    raise ApiError(400, "a container name must be specified for pod %s" % name)
                else:
                    # pkg/registry/core/pod/strategy.go LogLocation
                    message = "a container name must be specified for pod %s, choose one of: [%s]" % (
                        name, " ".join(containers))
                    if inits:
                        message += " or one of the init containers: [%s]" % " ".join(inits)
                    raise ApiError(400, message)
            elif container not in containers and container not in inits:
                raise ApiError(400, "container %s is not valid for pod %s" % (container, name))
            previous = query.get("previous") in ("true", "1")
            text = self._logs.get((ns, name, container, previous))
            status = pod.get("status") or {}
        if text is None:
            # pkg/kubelet/kubelet_pods.go validateContainerLogStatus: without a current log the kubelet
            # serves the last terminated container's log, or explains why there is none.
            if previous:
                raise ApiError(400, 'previous terminated container "%s" in pod "%s" not found' % (container, name))
            text = self._logs.get((ns, name, container, True))
            item = next((c for c in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses")
                                                                               or []) if c.get("name") == container), {})
            state = item.get("state") or {}
            terminated_before = bool((item.get("lastState") or {}).get("terminated"))
            if "running" in state or "terminated" in state or terminated_before:
                text = text if ("terminated" in state or terminated_before) and text is not None else ""
            elif "waiting" in state:
                reason = state["waiting"].get("reason") or "ContainerCreating"
                detail = {"ErrImagePull": "image can't be pulled",
                          "ImagePullBackOff": "trying and failing to pull image"}.get(reason, reason)
                raise ApiError(400, 'container "%s" in pod "%s" is waiting to start: %s' % (container, name, detail))
            else:
                text = ""
        if query.get("tailLines"):
            tail = int(query["tailLines"])
            lines = text.splitlines(True)
            text = "".join(lines[-tail:]) if tail > 0 else ""
        if query.get("timestamps") in ("true", "1"):
            stamp = now_rfc3339().replace("Z", ".000000000Z")
            text = "".join("%s %s" % (stamp, line) for line in text.splitlines(True))
        data = text.encode("utf-8")
        if query.get("limitBytes"):
            data = data[:int(query["limitBytes"])]
        return 200, "text/plain", data
