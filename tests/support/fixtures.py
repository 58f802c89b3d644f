"""pytest plugin: a fresh Kubernetes API emulator per test (``kube_api``) or per module.

Loaded by tests/conftest.py. The emulator runs in-process on 127.0.0.1. The kubeconfig carries a
bearer token; the emulator only enforces it after ``kube_api.require_auth()``, because kubectl
(client-go) refuses to send tokens over plain HTTP.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import json
import os
import urllib.error
import urllib.request

import pytest

from tests.support.kube_emulator import KubeEmulator

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "aiops-emulator-token"


def clear_discovery_caches(url):
    """Delete the kubernetes client's discovery caches for ``url`` (ports are reused between tests).

    kubernetes.dynamic keys its cache on md5(host); kubernetes.core on sha256(host[-user]).
    """
    tmp = os.environ.get("TMPDIR") or "/tmp"
    users = {None, os.environ.get("USERNAME"), os.environ.get("USER"), os.environ.get("LOGNAME")}
    try:
        users.add(os.getlogin())
    except OSError:
        pass
    if hasattr(os, "getuid"):
        users.add(str(os.getuid()))
    names = ["osrcp-%s.json" % hashlib.md5(url.encode()).hexdigest()]
    for user in users:
        cache_id = url if not user else "%s-%s" % (url, user)
        names.append("k8srcp-%s.json" % hashlib.sha256(cache_id.encode()).hexdigest())
    for name in names:
        for path in glob.glob(os.path.join(tmp, name)):
            try:
                os.unlink(path)
            except OSError:
                pass


class KubeApi(object):
    """What a test gets: the emulator's URL, a kubeconfig, served requests and seeding helpers."""

    def __init__(self, emulator, kubeconfig):
        self.emulator = emulator
        self.url = emulator.url
        self.kubeconfig = kubeconfig
        self.token = TOKEN

    def require_auth(self, required=True):
        """Enforce the kubeconfig's bearer token (401 without it); kubectl cannot authenticate then."""
        self.emulator.token = TOKEN if required else None

    # -- requests ---------------------------------------------------------------------------
    @property
    def requests(self):
        """Served API requests, newest last: {method, path, query, content_type, body_size, status,
        duration_ms} (server-side handling time, response write excluded)."""
        with self.emulator._lock:
            return list(self.emulator.requests)

    def clear_requests(self):
        self.emulator.clear_requests()

    # -- seeding ----------------------------------------------------------------------------
    def call(self, method, path, body=None, content_type="application/json", record=False):
        """One authenticated API call through the in-process handler; returns (status, parsed body)."""
        headers = {"Authorization": "Bearer %s" % self.token} if self.token else {}
        headers["Content-Type"] = content_type
        data = json.dumps(body).encode() if body is not None else b""
        code, ctype, payload = self.emulator.handle(method, path, headers, data, record_request=record)[:3]
        if ctype == "application/json":
            return code, json.loads(payload)
        return code, payload.decode("utf-8", "replace")

    def _path_for(self, obj, subresource=None):
        res = self.emulator._resource_for(obj)
        prefix = "/api/v1" if not res.group else "/apis/%s" % res.api_version
        meta = obj.get("metadata") or {}
        if res.namespaced:
            prefix += "/namespaces/%s" % (meta.get("namespace") or "default")
        path = "%s/%s" % (prefix, res.plural)
        if subresource:
            path += "/%s/%s" % (meta["name"], subresource)
        return path

    def create(self, obj):
        """POST ``obj`` like a client would; if it carries a status, write it through /status too.

        Returns the stored object. Raises AssertionError with the server's Status message on failure.
        """
        obj = copy.deepcopy(obj)
        status = obj.get("status")
        code, body = self.call("POST", self._path_for(obj), obj)
        if code != 201:
            raise AssertionError("create %s/%s failed: %s" % (obj.get("kind"), (obj.get("metadata") or {}).get(
                "name"), body.get("message") if isinstance(body, dict) else body))
        if status is not None and "status" in self.emulator._resource_for(obj).subresources:
            body["status"] = status
            return self.set_status(body)
        return body

    def set_status(self, obj):
        """Replace the object's status through the status subresource (what a kubelet/controller does)."""
        path = self._path_for(obj, "status")
        code, current = self.call("GET", path)
        if code != 200:
            raise AssertionError("status write failed: %s" % current.get("message"))
        current["status"] = copy.deepcopy(obj.get("status"))
        code, body = self.call("PUT", path, current)
        if code != 200:
            raise AssertionError("status write failed: %s" % body.get("message"))
        return body

    def set_log(self, namespace, pod, container, text, previous=False):
        self.emulator.set_log(namespace, pod, container, text, previous)

    def load(self, objects, logs=None, copy_objects=True):
        """Bulk-load objects as given (status, uids and timestamps kept). ``logs`` may be a dict
        {(ns, pod, container, previous): text} or a list of {namespace, pod, container, previous, text}.

        ``copy_objects=False`` hands the dicts over to the store (several times faster for
        fleets): the caller must not modify them afterwards, the emulator serves them as they are.
        """
        if isinstance(logs, dict):
            logs = list(logs.items())
        if copy_objects:
            # A JSON round trip copies ~5x faster than deepcopy.
            objects = json.loads(json.dumps(list(objects)))
        return self.emulator.load(objects, logs or [])

    def settle(self):
        """Wait until bulk-loaded objects are pre-serialised (call before timing a LIST)."""
        self.emulator.settle()

    def get(self, api_path):
        """GET an API path over real HTTP with the token; returns parsed JSON (or text for logs)."""
        request = urllib.request.Request(self.url + api_path)
        if self.token:
            request.add_header("Authorization", "Bearer %s" % self.token)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                data = response.read()
                ctype = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            data = err.read()
            ctype = err.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return json.loads(data)
        return data.decode("utf-8", "replace")

    def fault(self, status, method=None, path_regex=None, times=1, message=None):
        """Make the next ``times`` requests matching method + path regex fail with ``status``."""
        self.emulator.add_fault(status, method, path_regex, times, message)

    def clear_faults(self):
        with self.emulator._lock:
            self.emulator.faults = []

    def objects(self, kind=None, api_version=None):
        return self.emulator.objects(kind, api_version)

    def reset(self):
        self.emulator.reset()


def ansible_environment(kubeconfig, extra=None):
    """Environment for an ansible-playbook subprocess that talks to the emulator.

    ANSIBLE_INVENTORY names a real one-host file. A host list such as ``localhost,`` in a config
    file or ANSIBLE_INVENTORY is read as a path list by ansible-core 2.19; its empty element
    became the repo root, and every executable script there was run as an inventory script.
    """
    inventory = os.path.join(os.path.dirname(os.path.abspath(kubeconfig)), "inventory.ini")
    if not os.path.exists(inventory):
        with open(inventory, "w") as handle:
            handle.write("localhost ansible_connection=local\n")
    env = dict(os.environ)
    env.update({
        "ANSIBLE_INVENTORY": inventory,
        "K8S_AUTH_KUBECONFIG": kubeconfig,
        "KUBECONFIG": kubeconfig,
        "ANSIBLE_CONFIG": os.path.join(REPO_ROOT, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.pop("K8S_AUTH_HOST", None)
    env.pop("K8S_AUTH_API_KEY", None)
    if extra:
        env.update(extra)
    return env


def _start(directory):
    emulator = KubeEmulator(port=0).start()
    clear_discovery_caches(emulator.url)
    kubeconfig = emulator.write_kubeconfig(os.path.join(str(directory), "kubeconfig"), token=TOKEN)
    return emulator, KubeApi(emulator, kubeconfig)


def _stop(emulator):
    url = emulator.url
    emulator.stop()
    clear_discovery_caches(url)


@pytest.fixture
def kube_api(tmp_path):
    """A fresh, empty emulator for one test."""
    emulator, api = _start(tmp_path)
    try:
        yield api
    finally:
        _stop(emulator)


@pytest.fixture(scope="module")
def kube_api_module(tmp_path_factory):
    """One emulator shared by a test module (seed once, read many)."""
    emulator, api = _start(tmp_path_factory.mktemp("kube_api"))
    try:
        yield api
    finally:
        _stop(emulator)


@pytest.fixture
def ansible_env(kube_api):
    """Environment dict for ansible-playbook subprocesses pointed at ``kube_api``."""
    return ansible_environment(kube_api.kubeconfig)
