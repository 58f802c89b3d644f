"""The dump reader on small dumps written in kubectl's real layout."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import DumpError, InvalidInput, NotFound
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import NODE_MISSING, NODE_PRESENT, NODE_UNKNOWN, UTC
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.dump import DumpSource, parse_logs_txt
from ansible_collections.aiops.k8s.plugins.module_utils.evidence.targets import Target
from tests.unit.sources.dumpbuilder import event, node, owner, pod, write_dump, write_logs_txt


@pytest.fixture
def shop_dump(tmp_path):
    objects = [
        owner("Deployment", "shop", "web"),
        owner("ReplicaSet", "shop", "web-5d9", parent=("Deployment", "web")),
        pod("shop", "web-5d9-a", rs=("ReplicaSet", "web-5d9"), crash=True, containers=("app", "sidecar"),
            init=("migrate",)),
        pod("shop", "web-5d9-b", rs=("ReplicaSet", "web-5d9")),
        pod("shop", "db-0", rs=("StatefulSet", "db"), node="node-gone", claims=("data-db-0", "logs-db-0"),
            labels={"app": "db"}),
        owner("StatefulSet", "shop", "db"),
        {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "metadata": {"name": "data-db-0", "namespace": "shop"},
         "status": {"phase": "Bound"}},
        event("shop", "web-5d9-a", "BackOff", "Back-off restarting failed container app", count=9),
        event("shop", "web-5d9-a", "Pulled", "Successfully pulled image", uid=False),
        event("shop", "web-5d9-a", "Killing", "belongs to an older pod", uid=False, kind="Node"),
        event("shop", "api-7f", "FailedCreate", 'pods "api-7f-x" is forbidden: exceeded quota: compute',
              kind="ReplicaSet", last="2026-11-25T19:05:00Z"),
        pod("other", "lonely", node=None, labels={"app": "api"}),
    ]
    logs = {("shop", "web-5d9-a"): [("migrate", "migrated\n"),
                                    ("app", "boot\nDB_PASSWORD=hunter2\nOOM soon\n"),
                                    ("sidecar", "fine\n")]}
    root = write_dump(tmp_path / "dump", objects, nodes=[node("node-1")], logs=logs,
                      extra_kinds=("StatefulSet", "PersistentVolumeClaim"))
    with open(os.path.join(root, "shop", "web-5d9-a", "app.previous.log"), "w") as handle:
        handle.write("java.lang.OutOfMemoryError: Java heap space\ntoken=abc123\n")
    return root


def by_name(gathered):
    return dict((e.name, e) for e in gathered.pods)


def test_reads_kubectl_layout(shop_dump):
    gathered = DumpSource(shop_dump).gather(Target(namespace="shop"))
    assert gathered.source == "dump" and gathered.scanned == 3 and gathered.requests == 0
    pods = by_name(gathered)
    web = pods["web-5d9-a"]
    assert web.pod["kind"] == "Pod"  # items of kubectl lists carry no kind: filled from PodList
    assert sorted(e["reason"] for e in web.events) == ["BackOff", "Pulled"]
    assert [(o["kind"], o["name"]) for o in web.owners] == [("ReplicaSet", "web-5d9"), ("Deployment", "web")]
    assert web.owners[0]["object"]["metadata"]["uid"] == "uid-web-5d9"
    assert web.node_state == NODE_PRESENT
    db = pods["db-0"]
    assert db.node_state == NODE_MISSING
    assert [o["kind"] for o in db.owners] == ["StatefulSet"]
    assert db.claims["data-db-0"]["status"]["phase"] == "Bound"
    assert db.claims["logs-db-0"] is None


def test_logs_only_for_crashed_containers_redacted(shop_dump):
    web = by_name(DumpSource(shop_dump).gather(Target(namespace="shop")))["web-5d9-a"]
    assert set(web.logs) == {"app"}  # sidecar and init container did not crash
    assert web.logs["app"]["current"] == "boot\nDB_PASSWORD=[REDACTED]\nOOM soon\n"
    assert web.logs["app"]["previous"] == "java.lang.OutOfMemoryError: Java heap space\ntoken=[REDACTED]\n"


def test_extra_redaction_patterns_apply_to_logs(shop_dump):
    source = DumpSource(shop_dump, redact_patterns=[r"OOM \w+"])
    web = by_name(source.gather(Target(namespace="shop")))["web-5d9-a"]
    assert "OOM soon" not in web.logs["app"]["current"]


def test_clock_is_the_dump_not_the_wall(shop_dump):
    gathered = DumpSource(shop_dump).gather(Target(all_namespaces=True))
    assert gathered.as_of == datetime.datetime(2026, 11, 25, 19, 5, tzinfo=UTC)
    assert all(e.as_of == gathered.as_of for e in gathered.pods)
    fixed = DumpSource(shop_dump, as_of="2026-12-01T00:00:00Z").gather(Target(all_namespaces=True))
    assert fixed.as_of == datetime.datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        DumpSource(shop_dump, as_of="yesterday")


def test_workloads_that_cannot_create_pods(shop_dump):
    gathered = DumpSource(shop_dump).gather(Target(namespace="shop"))
    assert [(w.kind, w.name) for w in gathered.workloads] == [("ReplicaSet", "api-7f")]
    assert gathered.workloads[0].events[0]["reason"] == "FailedCreate"
    assert gathered.workloads[0].problems  # the ReplicaSet itself is not in the dump
    assert DumpSource(shop_dump).gather(Target(namespace="other")).workloads == []


def test_replica_failure_condition_makes_workload(tmp_path):
    root = write_dump(tmp_path / "d", [owner("ReplicaSet", "shop", "q-1", conditions=[
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "exceeded quota"}]),
        pod("shop", "x")])
    gathered = DumpSource(root).gather(Target(namespace="shop"))
    assert [(w.kind, w.name) for w in gathered.workloads] == [("ReplicaSet", "q-1")]


def test_selectors_match_locally(shop_dump):
    source = DumpSource(shop_dump)
    assert sorted(e.name for e in source.gather(Target(label_selectors=["app=web"])).pods) == [
        "web-5d9-a", "web-5d9-b"]
    assert [e.name for e in source.gather(Target(label_selectors=["app in (db, api)", "!canary"],
                                                 namespace="shop")).pods] == ["db-0"]
    assert [e.name for e in source.gather(Target(field_selectors=["spec.nodeName=node-gone"])).pods] == ["db-0"]
    assert sorted(e.name for e in source.gather(Target(field_selectors=["metadata.namespace!=shop"])).pods) == [
        "lonely"]


def test_one_pod_and_not_found(shop_dump):
    source = DumpSource(shop_dump)
    assert [e.name for e in source.gather(Target(name="db-0", namespace="shop")).pods] == ["db-0"]
    with pytest.raises(NotFound) as err:
        source.gather(Target(name="web-1", namespace="shop"))
    assert str(err.value) == "Pod shop/web-1 not found in dump %s" % shop_dump
    with pytest.raises(NotFound) as err:
        source.gather(Target(namespace="nope"))
    assert str(err.value) == "Namespace nope not found in dump %s" % shop_dump


def test_missing_dump_directory():
    with pytest.raises(DumpError) as err:
        DumpSource("/nonexistent/dump").gather(Target())
    assert str(err.value).startswith("Dump directory /nonexistent/dump does not exist")


def test_empty_dump_directory(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "README.txt").write_text("nothing here")
    with pytest.raises(DumpError) as err:
        DumpSource(str(tmp_path / "empty")).gather(Target())
    message = str(err.value)
    assert str(tmp_path / "empty") in message and "contains no Kubernetes objects" in message
    assert "nodes.json" in message and "<namespace>/pods.json" in message


def test_malformed_json_names_file_and_line(tmp_path):
    root = write_dump(tmp_path / "d", [pod("shop", "x")])
    bad = os.path.join(root, "shop", "events.json")
    with open(bad, "w") as handle:
        handle.write('{\n  "kind": "EventList",\n  "items": [\n    {"metadata": }\n  ]\n}\n')
    with pytest.raises(DumpError) as err:
        DumpSource(root).gather(Target())
    assert str(err.value).startswith("Malformed JSON in %s line 4:" % bad)
    assert "\n" not in str(err.value)


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "objs.yaml"
    path.write_text("kind: Pod\nmetadata:\n  name: [unclosed\n")
    with pytest.raises(DumpError) as err:
        DumpSource(str(path)).gather(Target())
    assert "Malformed YAML in %s line" % path in str(err.value)


def test_odd_objects_are_skipped_not_fatal(tmp_path):
    root = write_dump(tmp_path / "d", [pod("shop", "good")])
    path = os.path.join(root, "shop", "pods.json")
    with open(path) as handle:
        data = json.load(handle)
    data["items"] += ["not-an-object", {"spec": {}}, {"metadata": {"namespace": "shop"}}]
    with open(path, "w") as handle:
        json.dump(data, handle)
    gathered = DumpSource(root).gather(Target(namespace="shop"))
    assert [e.name for e in gathered.pods] == ["good"]
    assert len([p for p in gathered.problems if p.startswith("skipped")]) == 3
    assert any("%s item 1" % path in p for p in gathered.problems)


def test_single_files_kubectl_get_json_and_yaml(tmp_path):
    single = tmp_path / "pod.json"
    single.write_text(json.dumps(pod("shop", "one", crash=True)))
    gathered = DumpSource(str(single)).gather(Target(name="one", namespace="shop"))
    assert gathered.pods[0].name == "one"
    assert gathered.pods[0].node_state == NODE_UNKNOWN  # no node data in a single-pod file
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "pod.json").write_text(json.dumps(pod("shop", "one", crash=True)))
    (folder / "events.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [
        event("shop", "one", "BackOff", "Back-off restarting failed container app")]}))
    (folder / "more.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: two, namespace: shop}\nspec: {containers: [{name: a}]}\n"
        "---\napiVersion: v1\nkind: Event\nmetadata: {name: e2, namespace: shop}\n"
        "involvedObject: {kind: Pod, name: two, namespace: shop}\nreason: FailedScheduling\n"
        "message: 0/3 nodes are available\nlastTimestamp: '2026-11-25T10:00:00Z'\n")
    pods = by_name(DumpSource(str(folder)).gather(Target(namespace="shop")))
    assert [e["reason"] for e in pods["one"].events] == ["BackOff"]
    assert [e["reason"] for e in pods["two"].events] == ["FailedScheduling"]


def test_configmap_keys_never_values(tmp_path):
    env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}},
           {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "b"}}},
           {"name": "C", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}]
    root = write_dump(tmp_path / "d", [
        pod("shop", "cfg", waiting="CreateContainerConfigError", env=env),
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "settings", "namespace": "shop"},
         "data": {"a": "very-private-value", "b": "x"}}], extra_kinds=("ConfigMap",))
    evidence = DumpSource(root).gather(Target(namespace="shop")).pods[0]
    assert evidence.referenced["configmaps"] == {"settings": True, "absent": False}
    assert evidence.referenced["configmap_keys"] == {"settings": ["a", "b"]}
    assert evidence.referenced["secrets"] == {"db-creds": None}
    assert "very-private-value" not in repr(evidence.referenced)


def test_no_configmaps_in_dump_means_unknown(shop_dump, tmp_path):
    env = [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "a"}}}]
    root = write_dump(tmp_path / "d", [pod("shop", "cfg", waiting="CreateContainerConfigError", env=env)])
    evidence = DumpSource(root).gather(Target(namespace="shop")).pods[0]
    assert evidence.referenced["configmaps"] == {"settings": None}


# -- logs.txt parser ------------------------------------------------------------------------------

def test_parse_logs_txt_markers_errors_and_caps(tmp_path):
    path = str(tmp_path / "logs.txt")
    body = "".join("line %d\n" % i for i in range(100))
    write_logs_txt(path, "shop", "web", [("init", "init ok\n"), ("app", body),
                                         ("gone", "Request log error: the server could not find it\n"),
                                         ("other", "skip me\n")])
    result = parse_logs_txt(path, ["app", "gone", "init"], tail_lines=10, max_bytes=10000)
    assert result["app"][0] == "".join("line %d\n" % i for i in range(90, 100))
    assert result["app"][1] is True
    assert result["init"] == ("init ok\n", False)
    assert result["gone"] == (None, False)
    assert "other" not in result
    capped = parse_logs_txt(path, ["app"], tail_lines=1000, max_bytes=24)
    assert capped["app"] == ("line 97\nline 98\nline 99\n", True)


def test_marker_with_container_name_like_log_text_is_not_confused(tmp_path):
    path = str(tmp_path / "logs.txt")
    write_logs_txt(path, "shop", "web", [("app", "==== not a marker ====\nreal\n")])
    assert parse_logs_txt(path, ["app"], 50, 1000)["app"] == ("==== not a marker ====\nreal\n", False)


# -- 100 MB logs: bounded memory ------------------------------------------------------------------

def _maxrss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def test_100mb_logs_keep_memory_bounded(tmp_path):
    root = write_dump(tmp_path / "d", [pod("shop", "noisy", crash=True)], logs={("shop", "noisy"): []})
    logs_txt = os.path.join(root, "shop", "noisy", "logs.txt")
    chunk = "".join("2026-11-25T19:00:00Z INFO request %08d handled password=hunter2\n" % i for i in range(16384))
    with open(logs_txt, "w") as handle:
        handle.write("==== START logs for container app of pod shop/noisy ====\n")
        handle.write("x" * (20 * 1024 * 1024) + "\n")  # one 20 MB line
        written = 20 * 1024 * 1024
        while written < 100 * 1024 * 1024:
            handle.write(chunk)
            written += len(chunk)
        handle.write("the very last line\n")
        handle.write("==== END logs for container app of pod shop/noisy ====\n")
    previous = os.path.join(root, "shop", "noisy", "app.previous.log")
    with open(previous, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # 100 MB (sparse) ...
        handle.seek(0, os.SEEK_END)
        handle.write(b"\nfinal words before the crash\n")  # ... ending with the lines that matter
    assert os.path.getsize(logs_txt) > 100 * 1024 * 1024
    before = _maxrss_mb()
    gathered = DumpSource(root, log_tail_lines=20, log_max_bytes=4096).gather(Target(name="noisy", namespace="shop"))
    growth = _maxrss_mb() - before
    logs = gathered.pods[0].logs["app"]
    assert logs["truncated"] is True
    assert logs["current"].endswith("the very last line\n")
    assert len(logs["current"].splitlines()) == 20 and len(logs["current"].encode()) <= 4096
    assert "hunter2" not in logs["current"]
    assert logs["previous"].endswith("final words before the crash\n")
    assert growth < 150, "RSS grew by %.0f MB reading 200 MB of logs" % growth


def test_termination_and_event_messages_are_redacted(tmp_path):
    crashed = pod("shop", "leaky", crash=True)
    crashed["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"] = (
        "fatal: connect postgres://app:s3cr3t@db:5432 failed")
    root = write_dump(tmp_path / "d", [crashed, event(
        "shop", "leaky", "Failed", 'Failed to pull image "registry.example/app:1": token=abc123 rejected')])
    evidence = DumpSource(root).gather(Target(namespace="shop")).pods[0]
    message = evidence.pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["message"]
    assert message == "fatal: connect postgres://app:[REDACTED]@db:5432 failed"
    assert evidence.events[0]["message"] == 'Failed to pull image "registry.example/app:1": token=[REDACTED] rejected'
