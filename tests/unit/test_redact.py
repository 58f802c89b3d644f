"""The one redactor: planted secrets are masked, look-alikes survive, and it is fast."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.aiops.k8s.plugins.module_utils.common import redact as redact_module
from ansible_collections.aiops.k8s.plugins.module_utils.common.redact import (
    MASK,
    compile_patterns,
    is_secret_key,
    redact,
    redact_obj,
)

JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtIn0."
       "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU")

# (text containing a secret, the secret, what must still be there)
PLANTED = [
    ("Authorization: Bearer abc123def456ghi789", "abc123def456ghi789", "Authorization: Bearer "),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://x", "dXNlcjpwYXNzd29yZA==", "Authorization: Basic"),
    ("proxy-authorization=Bearer tok3nvalue99", "tok3nvalue99", "proxy-authorization="),
    ("using bearer 9f8e7d6c5b4a39281706 for upstream", "9f8e7d6c5b4a39281706", "bearer "),
    ("sa token " + JWT + " loaded", JWT, "sa token "),
    ("AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID="),
    ("found key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE", "found key "),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "aws_secret_access_key = "),
    ('"secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "wJalrXUtnFEMI", '"secretAccessKey": "'),
    ("clone with ghp_1234567890abcdefghijklmnopqrstuvwxyzAB", "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB", "clone with"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG", ""),
    ("CI_TOKEN glpat-aBcDeFgHiJkLmNoPqRsT1234", "glpat-aBcDeFgHiJkLmNoPqRsT1234", "CI_TOKEN "),
    ("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp", "xoxb-123456789012", "slack "),
    ("post to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX", "T000/B000/XXXXXXXXXXXXXXXX",
     "https://hooks.slack.com/services/"),
    ("maps key AIzaSyD-1234567890abcdefghijklmnopqrstu", "AIzaSyD-1234567890abcdefghijklmnopqrstu", "maps key "),
    ("password=hunter2 retry", "hunter2", "password=[REDACTED] retry"),
    ("passwd: s3cr3t!", "s3cr3t!", "passwd: "),
    ("secret=abc123 next", "abc123", "secret="),
    ("token=xyz789&user=bob", "xyz789", "&user=bob"),
    ("api_key=sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234", "api_key="),
    ("apiKey: k-123-456", "k-123-456", "apiKey: "),
    ('{"password": "hunter2", "user": "bob"}', "hunter2", '"user": "bob"'),
    ('log {\\"db_password\\":\\"hunter2\\"}', "hunter2", '\\"db_password\\"'),
    ("export DB_PASSWORD='p@ss word'", "p@ss word", "export DB_PASSWORD="),
    ("--password hunter2 --verbose", "hunter2", "--verbose"),
    ("--db-token=abc123", "abc123", "--db-token="),
    ("postgres://admin:pa55w0rd@db.shop.svc:5432/orders", "pa55w0rd", "postgres://admin:"),
    ("redis://:r3d1s@cache:6379/0", "r3d1s", "@cache:6379/0"),
    ("mongodb+srv://app:m0ng0@cluster0.example.net/db", "m0ng0", "mongodb+srv://app:"),
    ("Server=db;Database=orders;User Id=sa;Password=P@ssw0rd;", "P@ssw0rd", "User Id=sa;"),
    ("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=bXlrZXk=;EndpointSuffix=core.windows.net",
     "bXlrZXk=", "AccountName=x;"),
    ("    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==", "LS0tLS1CRUdJTi", "client-key-data: "),
    ("    token: 0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "    token: "),
    ("    id-token: abc.def.ghi", "abc.def.ghi", "id-token: "),
    ("Cookie: session=abcdef123456; theme=dark", "session=abcdef123456", "Cookie: "),
]


@pytest.mark.parametrize("text,secret,kept", PLANTED, ids=[p[0][:30] for p in PLANTED])
def test_planted_secrets_are_masked(text, secret, kept):
    out = redact(text)
    assert secret not in out
    assert MASK in out
    assert kept in out


def test_pem_private_key_block_is_masked_but_markers_stay():
    text = ("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gun\n"
            "-----END RSA PRIVATE KEY-----\nafter")
    out = redact(text)
    assert "MIIEowIBAAKCAQEA" not in out and "4lgOEePzNm0t" not in out
    assert out.startswith("before\n-----BEGIN RSA PRIVATE KEY-----\n")
    assert out.endswith("-----END RSA PRIVATE KEY-----\nafter")


def test_pem_key_cut_off_by_a_log_tail_is_masked_to_the_end():
    out = redact("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nMIIEvQ")
    assert "MIIEvQIBADANBgkq" not in out


LOOK_ALIKES = [
    "tokenizer: bert-base-uncased",
    "password policy updated for 3 users",
    "max_tokens=512 tokens: 7",
    "secretName: db-creds",
    'Error: secret "db-creds" not found',
    "couldn't find key password in Secret shop/db-creds",
    "Basic authentication enabled for /admin",
    "bearer tokens are rotated hourly",
    "http://web.shop.svc:8080/healthz returned 503",
    "key=cache-123 routing_key=orders",
    "monkey: banana",
    "Back-off restarting failed container app in pod web-5d9-a_shop(uid)",
    "java.lang.OutOfMemoryError: Java heap space",
    "2026-11-25T19:00:00Z GET /api/v1/namespaces/shop/pods 200",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_survive(text):
    assert redact(text) == text


def test_redaction_is_idempotent():
    once = redact("password=hunter2 token: " + JWT + " https://u:p@h/x")
    assert redact(once) == once


def test_extra_patterns_mask_group_or_whole_match():
    text = "order 12345 by customer ACME-9876 ref internal-xyz"
    out = redact(text, extra_patterns=[r"customer (ACME-\d+)", r"internal-\w+"])
    assert out == "order 12345 by customer %s ref %s" % (MASK, MASK)
    compiled = compile_patterns([r"ACME-\d+"])
    assert redact(text, compiled) == "order 12345 by customer %s ref internal-xyz" % MASK


def test_bad_extra_pattern_is_a_clear_error():
    with pytest.raises(ValueError) as err:
        compile_patterns(["(unclosed"])
    assert "(unclosed" in str(err.value)


def test_non_strings_pass_through():
    assert redact(None) is None
    assert redact("") == ""
    assert redact(42) == 42


def test_redact_obj_deep_copy_keys_and_env_pairs():
    original = {
        "spec": {"containers": [{"name": "app", "env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "MODE", "value": "production"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "t", "key": "token"}}}]}],
            "volumes": [{"name": "creds", "secret": {"secretName": "db-creds"}}]},
        "headers": {"Authorization": "Bearer abc", "Accept": "json"},
        "apiKey": "k-1", "client_secret": "cs", "tokenizer": "bert", "token_count": 5,
        "message": "login with password=hunter2",
        "nested": [("password: x",)],
        "enabled": True,
    }
    out = redact_obj(original)
    env = out["spec"]["containers"][0]["env"]
    assert env[0]["value"] == MASK and env[1]["value"] == "production"
    assert env[2]["valueFrom"] == {"secretKeyRef": {"name": "t", "key": "token"}}
    assert out["spec"]["volumes"][0]["secret"] == {"secretName": "db-creds"}
    assert out["headers"] == {"Authorization": MASK, "Accept": "json"}
    assert out["apiKey"] == MASK and out["client_secret"] == MASK
    assert out["tokenizer"] == "bert" and out["token_count"] == 5
    assert out["message"] == "login with password=" + MASK
    assert out["nested"] == [("password: " + MASK,)]
    assert out["enabled"] is True
    # the input is untouched
    assert original["spec"]["containers"][0]["env"][0]["value"] == "hunter2"
    assert original["headers"]["Authorization"] == "Bearer abc"


def test_is_secret_key():
    for key in ("password", "DB_PASSWORD", "apiKey", "api_key", "Authorization", "client-key-data", "token",
                "secretAccessKey", "credentials"):
        assert is_secret_key(key), key
    for key in ("tokenizer", "secretName", "secretRef", "token_count", "passwordPolicy", "name", "keyRef"):
        assert not is_secret_key(key), key


def _log_megabyte():
    lines = [
        "2026-11-25T19:00:%02dZ INFO  http request method=GET path=/api/orders/%d status=200 latency_ms=%d\n",
        "2026-11-25T19:00:%02dZ DEBUG cache hit key=order-%d size=%d\n",
        "2026-11-25T19:00:%02dZ WARN  slow query took %dms rows=%d\n",
        "\tat com.example.orders.OrderService.load(OrderService.java:%d) [%d]\n",
    ]
    out, size, i = [], 0, 0
    while size < 1024 * 1024:
        line = lines[i % 4] % ((i % 60, i, i * 7) if i % 4 != 3 else (i, i))
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out)[:1024 * 1024]


def test_one_megabyte_of_log_is_fast():
    text = _log_megabyte() + "\npassword=hunter2\n"
    timings = []
    for _attempt in range(5):
        # CPU time of this process: shared CI machines make wall time meaningless.
        start = time.process_time()
        out = redact(text)
        timings.append(time.process_time() - start)
    assert "hunter2" not in out
    # Target is well under 100 ms on an idle machine; the bound is generous for loaded CI runners.
    assert min(timings) < 0.1, "redact took %.0f ms for 1 MB" % (min(timings) * 1000)


# -- key families, flag and env forms, prose kept (issue 16) ------------------------------------------------

FAMILY_PLANTED = [
    ("DB_PASS=hunter2 retry", "hunter2", "DB_PASS="),
    ("export SMTP_AUTH=s3ndm41l", "s3ndm41l", "export SMTP_AUTH="),
    ("auth=zzzzzzzz next", "zzzzzzzz", "auth="),
    ("PGPWD=pg-secret-1", "pg-secret-1", "PGPWD="),
    ("sessionid=abcdef; path=/", "abcdef", "; path=/"),
    ("X_SESSION_COOKIE: choc0chip", "choc0chip", "X_SESSION_COOKIE: "),
    ("GCP_PRIVATE_KEY=pkpkpkpk", "pkpkpkpk", "GCP_PRIVATE_KEY="),
    ("app --pass hunter2 --verbose", "hunter2", "--verbose"),
    ("app --auth-token=tttttttt", "tttttttt", "--auth-token="),
    ("mysql -h db -u root -p hunter2 orders", "hunter2", "orders"),
    ("Authorization: Bearer abc", "abc", "Authorization: Bearer "),
    ("upstream uses Bearer abcdefghijklmnop now", "abcdefghijklmnop", " now"),
    ('{"name":"DB_PASS","value":"hunter2"}', "hunter2", '"name":"DB_PASS"'),
    ('{\\"name\\":\\"API_AUTH\\",\\"value\\":\\"hunter2\\"}', "hunter2", "API_AUTH"),
    ("- name: REDIS_PASS\n  value: hunter2", "hunter2", "name: REDIS_PASS"),
    ("Host=db;Username=app;Pwd=hunter2;", "hunter2", "Username=app;"),
]


@pytest.mark.parametrize("text,secret,kept", FAMILY_PLANTED)
def test_key_families_flags_and_env_forms_are_masked(text, secret, kept):
    out = redact(text)
    assert secret not in out, out
    assert kept in out and MASK in out, out


@pytest.mark.parametrize("text", [
    "passwd: Authentication token manipulation error",
    "password: is too short (minimum is 12 characters)",
    "token: expired at 2026-11-25T10:00:00Z",
    "auth: failed for user app",
    "kubectl logs -p web-7d4b9-a1 -n shop",
    'Failed to pull image "acme/private:1.0": pull access denied',
    "mount /etc/secret:ro failed",
    "passthrough=true",
])
def test_words_that_explain_a_failure_are_kept(text):
    assert redact(text) == text


def test_is_secret_key_by_family():
    for key in ("DB_PASS", "SMTP_AUTH", "oauth", "sessionid", "session_id", "X_COOKIE", "PGPWD", "gcp_private",
                "tls.key", "ssh-key"):
        assert is_secret_key(key), key
    for key in ("key", "tolerations", "secretKeyRef", "configMapKeyRef", "passwordPolicy", "expirationSeconds",
                "authMode", "author"):
        assert not is_secret_key(key), key


def test_redact_obj_drops_last_applied_and_managed_fields():
    applied = json.dumps({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "DB_PASS", "value": "hunter2"}]}]}}}})
    obj = {"metadata": {"name": "web", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": applied, "team": "shop"},
        "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
        "spec": {"containers": [{"name": "app", "env": [
            {"name": "SMTP_AUTH", "value": "s3ndm41l"}, {"name": "LOG_LEVEL", "value": "debug"}]}]}}
    out = redact_obj(obj)
    assert out["metadata"] == {"name": "web", "annotations": {"team": "shop"}}
    env = out["spec"]["containers"][0]["env"]
    assert env == [{"name": "SMTP_AUTH", "value": MASK}, {"name": "LOG_LEVEL", "value": "debug"}]
    # Even when it is not dropped (a string that holds it), the env value inside is masked.
    assert "hunter2" not in redact(applied)


# -- property: a secret planted in every form, in every field the product reads, survives nowhere ---------

FORMS = [
    "DB_PASS={s}", "export API_AUTH={s}", "auth={s}", "--password {s}", "--pass {s}", "-p {s}",
    "https://admin:{s}@db.example:5432/orders", "Authorization: Bearer {s}", 'config {{"client_secret": "{s}"}}',
    "session_token: {s}", "Server=db;User Id=sa;Password={s};", "X_SESSION_COOKIE={s}", "private_key={s}",
    "credentials: '{s}'", '{{"name":"SMTP_PASS","value":"{s}"}}', "- name: API_TOKEN\n  value: {s}",
]
# Any value but the few failure words the redactor spares by design ("passwd: Authentication ... error").
SECRET = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789", min_size=10,
                 max_size=24).filter(lambda value: value.lower() not in redact_module._PROSE).filter(
    # A digit keeps a planted secret from being a word the output legitimately holds ("confidence" is a key).
    lambda value: any(char.isdigit() for char in value))
FIELDS = ("annotation", "owner_annotation", "arg", "command", "waiting_message", "terminated_message",
          "event", "log", "extra_var", "justification")


def _planted_pod(forms, secret):
    text = dict((field, forms[field].format(s=secret)) for field in FIELDS)
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "shop", "annotations": {"note": text["annotation"]},
                     "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:x": secret}}]},
        "spec": {"containers": [{"name": "app", "image": "registry.example/web:1", "args": [text["arg"]],
                                 "command": ["sh", "-c", text["command"]],
                                 "env": [{"name": "DB_PASS", "value": secret}, {"name": "X_AUTH", "value": secret}]}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 4, "image": "registry.example/web:1",
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": text["waiting_message"]}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1, "message": text["terminated_message"]}}}]},
    }
    owner = {"kind": "Deployment", "name": "web", "metadata": {"annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"env": [{"name": "DB_PASS", "value": secret}]}),
        "note": text["owner_annotation"]}}}
    event = {"reason": "BackOff", "type": "Warning", "message": text["event"], "count": 3,
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"}}
    return pod, owner, event, text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms=st.fixed_dictionaries(dict((field, st.sampled_from(FORMS)) for field in FIELDS)), secret=SECRET)
def test_planted_secrets_survive_nowhere(forms, secret):
    from ansible_collections.aiops.k8s.plugins.module_utils.diagnosis import ai_explain
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.assemble import redact_pod_messages
    from ansible_collections.aiops.k8s.plugins.module_utils.runner import diagnose_pod
    from ansible_collections.aiops.k8s.plugins.module_utils.evidence.model import PodEvidence, merge_events, \
        normalise_event

    pod, owner, event, text = _planted_pod(forms, secret)
    # What every sink writes (results, records, the HTTP sink body, console summaries): redact_obj.
    record = redact_obj({"pod": pod, "owner": owner, "events": [event], "logs": text["log"],
                         "extra_vars": {"note": text["extra_var"]}, "justification": text["justification"]})
    assert secret not in json.dumps(record)
    # The diagnosis (with its proposals) as the module returns it: evidence/assemble redacts the pod's status
    # messages, event messages and logs before classification, as the live and dump sources do. Then the AI
    # input built from it.
    redacted_event = dict(event, message=redact(event["message"]))
    diagnosis = diagnose_pod(PodEvidence(redact_pod_messages(pod), events=merge_events([normalise_event(redacted_event)]),
                                         logs={"app": {"current": redact(text["log"])}}))
    assert secret not in json.dumps(diagnosis, default=str)
    ai_input, _omitted = ai_explain.render_input(ai_explain.summarise([diagnosis]), 16384)
    assert secret not in ai_input


# -- corpus: redacting every string of every case changes no diagnosis -------------------------------------

def _redact_strings(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return dict((key, _redact_strings(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_redact_strings(item) for item in value]
    return value


def test_redaction_keeps_every_corpus_diagnosis_and_its_decisive_words():
    from tests.unit.classify.test_realworld_corpus import CASES, classify_case

    changed = []
    for case in CASES:
        plain, masked = classify_case(case), classify_case(_redact_strings(case))
        if plain is None:
            assert masked is None, case["id"]
            continue
        # Same category, and the root cause differs at most where a value was masked.
        if masked["category"] != plain["category"] or masked["root_cause"] != redact(plain["root_cause"]):
            changed.append((case["id"], plain["root_cause"][:160], masked["root_cause"][:160]))
    assert len(CASES) >= 100
    assert not changed, changed


def test_no_corpus_diagnosis_loses_a_word_to_the_result_redaction():
    """The module redacts every diagnosis it returns (runner.diagnose): on 200+ real failures without secrets
    that must mask nothing, in summaries, root causes, evidence details and proposals alike."""
    from tests.unit.classify.test_realworld_corpus import CASES, classify_case
    from ansible_collections.aiops.k8s.plugins.module_utils.runner import with_proposals

    masked = []
    for case in CASES:
        diagnosis = classify_case(case)
        if diagnosis is not None and redact_obj(with_proposals(diagnosis)) != diagnosis:
            masked.append(case["id"])
    assert masked == []


# -- the filter on ansible-core 2.19 (lazy containers) -----------------------------------------------------

@pytest.mark.integration
def test_redact_filter_in_a_playbook_over_lists_dicts_and_a_registered_result(tmp_path):
    import os
    import subprocess
    import sys

    import yaml

    from tests.support.fixtures import REPO_ROOT

    play = [{"name": "Redact", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}",
                      "listed": ["DB_PASS=hunter2", "ok line", {"password": "hunter2"}],
                      "mapping": {"env": [{"name": "SMTP_AUTH", "value": "hunter2"}], "note": "--pass hunter2",
                                  "metadata": {"managedFields": [{"manager": "x"}]}}},
             "tasks": [
                 {"name": "Produce a result", "ansible.builtin.command": "echo 'Authorization: Bearer abcdefgh'",
                  "register": "produced", "changed_when": False},
                 {"name": "Redact", "ansible.builtin.set_fact": {
                     "out_list": "{{ listed | aiops.k8s.redact }}",
                     "out_map": "{{ mapping | aiops.k8s.redact }}",
                     "out_result": "{{ produced | aiops.k8s.redact }}",
                     "out_line": "{{ produced.stdout | aiops.k8s.redact }}"}},
                 {"name": "Check", "ansible.builtin.assert": {"that": [
                     "out_list[0] == 'DB_PASS=[REDACTED]'", "out_list[1] == 'ok line'",
                     "out_list[2].password == '[REDACTED]'",
                     "out_map.env[0].value == '[REDACTED]'", "out_map.note == '--pass [REDACTED]'",
                     "'managedFields' not in out_map.metadata",
                     "out_result.stdout == 'Authorization: Bearer [REDACTED]'",
                     "out_line == 'Authorization: Bearer [REDACTED]'",
                     "'hunter2' not in (out_list | string) ~ (out_map | string)",
                     "'abcdefgh' not in (out_result | string)"]}}]}]
    path = tmp_path / "redact.yml"
    path.write_text(yaml.safe_dump(play))
    (tmp_path / "inventory.ini").write_text("localhost ansible_connection=local\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "inventory.ini"), str(path)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "lazy containers" not in output and "ok=3" in output


def _every_rule(text):
    """redact() without its trigger pre-check: every rule runs on every text."""
    lowered = text.translate(redact_module._ASCII_LOWER)
    for rule in redact_module._RULES:
        new_text = rule.apply(text, lowered)
        if new_text is not text:
            text, lowered = new_text, new_text.translate(redact_module._ASCII_LOWER)
    return text


_FRAGMENTS = ["pass", "Word", "PWD", "secret", "TOKEN", "auth", "Authorization", "cookie", "session", "private",
              "key", "_data", "Bearer ", "basic ", "eyJ", "AKIA", "ABCDEFGHIJKLMNOP", "ghp_", "github_pat_", "glpat-",
              "xoxb-", "hooks.slack.com/services/", "AIza", "ya29.", "sk-", "sk_live_", "npm_", "://", "user", ":",
              "@", "-p ", "--", "--db-", "name", "value", "=", ": ", "\"", "'", " ", "\n", "0123456789abcdefXYZ",
              "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "/", "."]


def _trigger_of(rule):
    if isinstance(rule, redact_module._Scan):
        return rule.trigger
    return "|".join(re.escape(keyword) for keyword in rule.keywords)


_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----"


def _assert_triggers_hold(text):
    """A rule that changes ``text`` finds its trigger in the lowered text, and redact() == every rule run."""
    lowered = text.translate(redact_module._ASCII_LOWER)
    for rule in redact_module._RULES:
        if rule.apply(text, lowered) is not text:
            assert re.search(_trigger_of(rule), lowered), (rule.regex.pattern, text)
    assert redact(text) == _every_rule(text)


@pytest.mark.parametrize("text", [planted[0] for planted in PLANTED] + [_PEM, "name: DB_PASSWORD\nvalue: hunter2"])
def test_every_rule_that_fires_on_a_planted_secret_has_its_trigger(text):
    """The pre-check skips a text only when no trigger is in it; each rule's trigger must be in every text the
    rule changes, or that secret would pass unmasked."""
    _assert_triggers_hold(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join), st.text(max_size=60)))
def test_the_trigger_precheck_never_changes_the_result(text):
    """The one-search pre-check only skips rules that could not have matched: same output as running them all."""
    _assert_triggers_hold(text)


def test_redact_obj_masks_repeated_strings_the_same_way_each_time():
    env = [{"name": "API_TOKEN", "value": "v1"}, {"name": "MODE", "value": "--token=abc123456"}]
    pod = {"args": ["--token=abc123456", "--token=abc123456"], "env": env}
    out = redact_obj(pod)
    assert out["args"] == ["--token=" + MASK] * 2
    assert out["env"] == [{"name": "API_TOKEN", "value": MASK}, {"name": "MODE", "value": "--token=" + MASK}]


def test_redact_obj_never_swaps_equal_str_subclass_values():
    """ansible-core 2.19 tags strings (origin, trust) with str subclasses: an untouched value comes back as itself,
    never as an equal string from elsewhere in the data carrying other tags."""

    class Tagged(str):
        pass

    first, second = Tagged("web-1"), Tagged("web-1")
    out = redact_obj({"a": first, "b": [second], "c": Tagged("password=x")})
    assert out["a"] is first and out["b"][0] is second
    assert out["c"] == "password=" + MASK
