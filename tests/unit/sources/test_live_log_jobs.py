"""Which log reads a live scan makes: only those that can add evidence, at an adaptive concurrency."""

import threading
import time

from ansible_collections.aiops.k8s.plugins.module_utils.evidence import live


def pod(state, last=None, restarts=3, reason=None, name="p"):
    status = {"name": "app", "restartCount": restarts, "state": state}
    if last:
        status["lastState"] = last
    body = {"phase": "Running", "containerStatuses": [status]}
    if reason:
        body.update(phase="Failed", reason=reason)
    return {"kind": "Pod", "metadata": {"namespace": "shop", "name": name},
            "spec": {"containers": [{"name": "app"}]}, "status": body}


CRASH = {"waiting": {"reason": "CrashLoopBackOff"}}


def test_crash_loop_reads_only_the_previous_log():
    jobs = live.log_jobs(pod(CRASH, {"terminated": {"exitCode": 1, "reason": "Error"}}))
    assert jobs == [("shop", "p", "app", True)]


def test_running_again_after_a_crash_reads_both():
    jobs = live.log_jobs(pod({"running": {"startedAt": "2026-12-02T10:00:00Z"}}, {"terminated": {"exitCode": 1, "reason": "Error"}}))
    assert jobs == [("shop", "p", "app", False), ("shop", "p", "app", True)]


def test_termination_message_or_pod_level_cause_needs_no_log():
    assert live.log_jobs(pod(CRASH, {"terminated": {"exitCode": 1, "message": "config key missing"}})) == []
    assert live.log_jobs(pod({"terminated": {"exitCode": 137, "reason": "Error"}}, reason="Evicted")) == []


def test_oom_killed_reads_the_killed_instance_only():
    running = pod({"running": {"startedAt": "2026-12-02T10:00:00Z"}}, {"terminated": {"exitCode": 137, "reason": "OOMKilled"}})
    assert live.log_jobs(running) == [("shop", "p", "app", True)]
    job = pod({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}, restarts=0)
    assert live.log_jobs(job) == [("shop", "p", "app", False)]


def test_probe_kill_is_explained_by_events():
    killed = pod(CRASH, {"terminated": {"exitCode": 137, "reason": "Error"}})
    events = [{"kind": "Pod", "namespace": "shop", "name": "p", "reason": "Killing", "field_path": "spec.containers{app}",
               "message": "Container app failed liveness probe, will be restarted"}]
    assert live.log_jobs(killed, live._probe_killed(events)) == []
    # Same events, but the process exited by itself (code 1): its log can say why.
    crashed = pod(CRASH, {"terminated": {"exitCode": 1, "reason": "Error"}})
    assert live.log_jobs(crashed, live._probe_killed(events)) == [("shop", "p", "app", True)]
    # A probe failure of another container says nothing about this one.
    other = [dict(events[0], field_path="spec.containers{sidecar}")]
    assert live.log_jobs(killed, live._probe_killed(other)) == [("shop", "p", "app", True)]


class Counter(object):
    throttled = 0


def test_adaptive_limit_grows_and_halves_on_throttling():
    transport = Counter()
    limit = live._AdaptiveLimit(transport, 4, 32)
    for dummy in range(10):
        with limit:
            pass
    assert limit.limit == 14
    transport.throttled = 1
    with limit:
        pass
    assert limit.limit == 7
    for dummy in range(100):
        with limit:
            pass
    assert limit.limit == 32


def test_adaptive_limit_bounds_parallel_work():
    limit = live._AdaptiveLimit(Counter(), 2, 3)
    peak = [0]
    lock = threading.Lock()

    def work():
        with limit:
            with lock:
                peak[0] = max(peak[0], limit.active)
            time.sleep(0.01)

    threads = [threading.Thread(target=work) for dummy in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= peak[0] <= 3
