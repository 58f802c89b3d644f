"""Image pulls: sub-causes across docker, containerd and CRI-O wording; no alarm on fresh transient errors.

Event and waiting texts: pkg/kubelet/images/image_manager.go ('Failed to pull image "%s": %v',
'Back-off pulling image "%s"', 'Container image "%s" is not present with pull policy of Never'),
pkg/kubelet/images/types.go (ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName).
Runtime error bodies as printed in public issue threads.
"""

from __future__ import annotations

import pytest

# classify then propose (these tests also assert the proposals)
from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod as classify_pod
from tests.unit.classify.podbuilder import container, cstatus, event, evidence, pod

IMG = "registry.example.com/shop/web:1.4.3"


def pull_pod(reason="ImagePullBackOff", message='Back-off pulling image "%s"' % IMG, created_ago=900, **kw):
    return pod(phase="Pending", containers=[container(image=IMG)], created_ago=created_ago,
               statuses=[cstatus(waiting=(reason, message), image=IMG)], **kw)


CASES = [
    # containerd 1.5+
    ('rpc error: code = NotFound desc = failed to pull and unpack image "%s": failed to resolve reference "%s": '
     '%s: not found' % (IMG, IMG, IMG), "not_found"),
    # docker
    ('rpc error: code = Unknown desc = Error response from daemon: manifest for %s not found: manifest unknown: '
     'manifest unknown' % IMG, "not_found"),
    # CRI-O
    ('rpc error: code = Unknown desc = reading manifest 1.4.3 in registry.example.com/shop/web: manifest unknown: '
     'manifest unknown', "not_found"),
    ("rpc error: code = Unknown desc = Error response from daemon: pull access denied for shop/web, repository does "
     "not exist or may require 'docker login': denied: requested access to the resource is denied", "unauthorized"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve reference "%s": '
     'failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized' % (IMG, IMG),
     "unauthorized"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/redis:7": failed to copy: '
     'httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/redis/manifests/'
     'sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.',
     "rate_limited"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve reference "%s": '
     'failed to do request: Head "https://registry.example.com/v2/shop/web/manifests/1.4.3": tls: failed to verify '
     'certificate: x509: certificate signed by unknown authority' % (IMG, IMG), "tls"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve reference "%s": '
     'failed to do request: Head "https://registry.example.com/v2/shop/web/manifests/1.4.3": dial tcp: lookup '
     'registry.example.com on 10.96.0.10:53: no such host' % (IMG, IMG), "network"),
    ("rpc error: code = Unknown desc = Error response from daemon: Get https://registry.example.com/v2/: net/http: "
     "request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", "network"),
    ('rpc error: code = Unknown desc = failed to pull and unpack image "%s": failed to resolve reference "%s": '
     'unexpected status from HEAD request to https://registry.example.com/v2/shop/web/manifests/1.4.3: 503 Service '
     'Unavailable' % (IMG, IMG), "registry_unavailable"),
]


@pytest.mark.parametrize("body, cause", CASES)
def test_pull_subcauses_from_events(body, cause):
    events = [event("Pulling", 'Pulling image "%s"' % IMG, type_="Normal", count=4, ago=100, container="app"),
              event("Failed", 'Failed to pull image "%s": %s' % (IMG, body), count=4, ago=100, container="app"),
              event("Failed", "Error: ErrImagePull", count=4, ago=100, container="app"),
              event("BackOff", 'Back-off pulling image "%s"' % IMG, type_="Normal", count=20, ago=5,
                    container="app"),
              event("Failed", "Error: ImagePullBackOff", count=20, ago=5, container="app")]
    diag = classify_pod(evidence(pull_pod(), events=events))
    assert diag["category"] == "ImagePullBackOff"
    assert diag["culprit"] == dict(diag["culprit"], container="app", image=IMG, cause=cause)
    assert IMG in diag["root_cause"] and "app" in diag["root_cause"]


def test_subcause_from_waiting_message_when_events_expired():
    body = CASES[0][0]
    diag = classify_pod(evidence(pull_pod("ErrImagePull", body)))
    assert diag["culprit"]["cause"] == "not_found"


def test_never_pull():
    msg = 'Container image "%s" is not present with pull policy of Never' % IMG
    diag = classify_pod(evidence(pull_pod("ErrImageNeverPull", msg)))
    assert diag["category"] == "ImagePullBackOff"
    assert diag["culprit"]["cause"] == "never_pull"


def test_invalid_image_name():
    msg = ('Failed to apply default image tag "Shop/Web:1.4": couldn\'t parse image reference "Shop/Web:1.4": '
           'invalid reference format: repository name must be lowercase')
    diag = classify_pod(evidence(pull_pod("InvalidImageName", msg)))
    assert diag["category"] == "InvalidImageName"


def test_fresh_transient_pull_error_is_not_an_alarm():
    body = CASES[8][0]     # a network timeout, seen once, 10 s ago
    events = [event("Failed", 'Failed to pull image "%s": %s' % (IMG, body), ago=10, container="app")]
    diag = classify_pod(evidence(pull_pod("ErrImagePull", body, created_ago=20), events=events))
    assert diag["category"] == "Healthy"
    assert diag["secondary"][0]["category"] == "ImagePullBackOff"


def test_fresh_not_found_is_reported_at_once():
    body = CASES[0][0]
    events = [event("Failed", 'Failed to pull image "%s": %s' % (IMG, body), ago=10, container="app")]
    diag = classify_pod(evidence(pull_pod("ErrImagePull", body, created_ago=20), events=events))
    assert diag["category"] == "ImagePullBackOff"


def test_pull_in_progress_is_healthy():
    p = pod(phase="Pending", created_ago=8, statuses=[cstatus(waiting=("ContainerCreating", None))])
    ev = evidence(p, events=[event("Pulling", 'Pulling image "%s"' % IMG, type_="Normal", ago=6, container="app")])
    assert classify_pod(ev)["category"] == "Healthy"


def test_unauthorized_proposes_pull_secret_steps():
    body = CASES[3][0]
    diag = classify_pod(evidence(pull_pod("ErrImagePull", body)))
    manual = [r for r in diag["remediations"] if r["action"] == "manual"][0]
    assert any("docker-registry" in step for step in manual["manual_steps"])
    assert not any(r["action"] == "set_image" for r in diag["remediations"])


def test_set_image_only_when_previous_image_known():
    import json
    applied = json.dumps({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "registry.example.com/shop/web:1.4.2"}]}}}})
    from tests.unit.classify.podbuilder import deployment_owners
    diag = classify_pod(evidence(pull_pod("ErrImagePull", CASES[0][0]),
                                 owners=deployment_owners(rs_rev=3, last_applied=applied)))
    actions = [r["action"] for r in diag["remediations"]]
    assert actions[:2] == ["set_image", "rollout_undo"]
    assert diag["remediations"][0]["params"]["image"] == "registry.example.com/shop/web:1.4.2"
    assert diag["remediations"][0]["risk_tier"] == "medium"


def test_init_container_pull_failure_names_init_container():
    p = pod(phase="Pending", init=[container("wait-db", image="busybox:nope")],
            init_statuses=[cstatus("wait-db", waiting=("ImagePullBackOff", 'Back-off pulling image "busybox:nope"'))],
            statuses=[cstatus(waiting=("PodInitializing", None))])
    diag = classify_pod(evidence(p))
    assert diag["category"] == "ImagePullBackOff"
    assert diag["culprit"]["container"] == "wait-db" and diag["culprit"]["init_container"] is True
