"""A stateful, in-memory Kubernetes API server over real HTTP, for tests and benchmarks.

Standard library only (http.server + json). It speaks enough of the real API that the kubernetes
Python client (raw ApiClient and DynamicClient), kubernetes.core (k8s_info, k8s, k8s_log) and
kubectl 1.32 work against it unchanged: legacy discovery, CRUD with real Status errors, selectors,
paging, merge / strategic-merge / JSON patches, status and scale subresources, eviction, pod logs,
dry runs, finalizers, a minimal watch, bearer-token auth and fault injection.

    with KubeEmulator() as api:          # port 0 = a free port on 127.0.0.1
        api.load([...objects...])
        api.set_log("shop", "web-1", "app", "boom", previous=True)
        print(api.url)

    python -m tests.support.kube_emulator serve --port 8001 --state seed.json \
        --kubeconfig-out /tmp/emu.kubeconfig --pidfile /tmp/emu.pid

Where things are (tests/support/emulator/): ``server`` HTTP handling, routing, auth, faults, test
controls and the CLI; ``discovery``; ``store`` objects, resourceVersions, reads and LIST paging;
``writes``; ``selectors``; ``patches``; ``watch``; ``logs``; ``tables`` (kubectl printing); ``api``
the resource catalogue and Status errors. Scenario seeding lives in tests/support/scenarios.py.
This module re-exports the names tests import and is the ``python -m`` entry point.

Options, all off by default: ``KubeEmulator(latency=0.02, log_latency=0.05)`` adds that many
seconds to every API request / to each pod log read (benchmarks model a remote API server);
``throttle=N, retry_after=S`` answers the first N API requests with 429 and ``Retry-After: S``.
``serve --latency --log-latency --throttle --retry-after`` and ``POST /_emulator/options`` set them.
Every served request is logged in ``KubeEmulator.requests`` (``GET /_emulator/requests``).

Test controls live under ``/_emulator/`` (no auth, never recorded as API requests):
``POST logs`` (seed a log), ``GET|DELETE requests`` (served requests), ``POST reset``,
``POST state`` (bulk load ``{"objects": [...], "logs": [...]}``), ``POST settle`` (wait until
bulk-loaded objects are pre-serialised, before timing a LIST), ``POST faults`` /
``DELETE faults`` (inject 401/403/500... for a method + path regex, ``times`` N).

Auth: with ``token=...`` every API request needs ``Authorization: Bearer <token>`` (else 401).
kubectl/client-go never sends a bearer token over plain HTTP, so kubectl needs auth off.

Known limits (it is not a cluster):
- No controllers, scheduler or kubelet: nothing reconciles. Tests create the Deployment ->
  ReplicaSet -> Pod chain with ownerReferences themselves and write status through the status
  subresource (a POST drops ``status``, as the real server does; ``/_emulator/state`` keeps it).
- No garbage collection: deleting an owner does not delete its dependents. Deleting a Namespace
  deletes everything in it at once. Pods are deleted immediately (no kubelet to confirm the grace
  period) unless they carry finalizers.
- core/v1 Events and events.k8s.io/v1 Events are stored apart but read as one, like the real
  server: GET/LIST/watch of either API also serve the other's events, converted. Writes (update,
  patch, delete) only reach an event through the API that created it.
- No RBAC, TLS, server-side apply field ownership (apply-patch is treated
  as a merge patch that may create), admission, or defaulting beyond uid/resourceVersion/
  creationTimestamp/generation and a Pending phase for new pods.
- Watch sends ADDED (or MODIFIED after ``resourceVersion``) for current objects, holds the stream
  for at most ``timeoutSeconds`` (capped at 2 s) and closes it; no live event delivery.
- Strategic merge patch merges lists by key only for the common pod-spec lists (see MERGE_KEYS).
- Discovery is legacy only: kubectl's aggregated-discovery Accept header is answered with the
  legacy documents, which kubectl accepts and uses. OpenAPI v3 is a skeleton that only declares
  ``fieldValidation`` support (so ``kubectl apply`` works); there are no schemas and no v2.
- JSON only: protobuf/CBOR request bodies get 415. ``kubectl get/describe/logs/apply -f/delete/
  scale/cordon/label`` work; imperative generators such as ``kubectl create deployment`` send
  protobuf and fail. ``kubectl get`` tables (Accept ``as=Table``) have kubectl's columns for pods,
  nodes and events and NAME/AGE for everything else (see make_table).
- Node, Pod, workload... objects always carry ``spec``/``status`` (``{}`` when empty), like the
  real server; list items carry no kind/apiVersion, like the real server.
"""

from __future__ import annotations

import sys

from tests.support.emulator.api import (ApiError, Resource, invalid, not_found, now_rfc3339,
                                        status_body)
from tests.support.emulator.patches import json_patch, merge_patch, strategic_merge_patch
from tests.support.emulator.selectors import (field_match, label_match, parse_field_selector,
                                              parse_label_selector)
from tests.support.emulator.server import KubeEmulator, load_state_file, main
from tests.support.emulator.store import core_to_events_v1, events_v1_to_core
from tests.support.emulator.tables import human_age, make_table, pod_status_text

__all__ = ["ApiError", "KubeEmulator", "Resource", "core_to_events_v1", "events_v1_to_core", "field_match", "human_age",
           "invalid", "json_patch", "label_match", "load_state_file", "main", "make_table", "merge_patch", "not_found",
           "now_rfc3339", "parse_field_selector", "parse_label_selector", "pod_status_text", "status_body",
           "strategic_merge_patch"]

if __name__ == "__main__":
    sys.exit(main())
