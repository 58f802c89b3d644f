# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kubectl-ai child process may reach: its environment and its one-cluster kubeconfig.

The child is an LLM agent with a kubectl tool. Its reach is decided here, not by its own prompts:
- environment: an allow-list (PATH, HOME, locale, proxy, CA bundle) plus the provider keys of
  ``ai_env_file``; no K8S_AUTH_*, no cloud credentials, no inherited KUBECONFIG;
- cluster: a kubeconfig written for this run with exactly one context, the diagnosed cluster's;
- identity: a read-only one, either ``ai_kubeconfig`` (checked to point at the diagnosed cluster) or
  the module's own connection impersonating ``ai_impersonate`` (the account bound to
  docs/rbac/diagnose-readonly.yaml). With neither, the only identity is the module's, which may
  write, and the child is not started unless ``ai_allow_write_identity`` says so.
Offline diagnoses (dump or pasted captures) give the child a kubeconfig with no cluster at all.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

RBAC_DOC = "docs/rbac/diagnose-readonly.yaml"

# Variables the child inherits; everything else (credentials included) is dropped.
SAFE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy",
            "no_proxy", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
# Never accepted from ai_env_file either: those would hand the child another cluster or cloud identity.
_FORBIDDEN_PREFIXES = ("K8S_AUTH_", "KUBECONFIG", "AWS_", "AZURE_", "ARM_", "GOOGLE_APPLICATION_CREDENTIALS",
                       "CLOUDSDK_", "GCE_", "OS_", "DIGITALOCEAN_", "VAULT_")
OFFLINE_OPTIONS = ("dump_dir", "describe_file", "events_file")
EMPTY_KUBECONFIG = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [],
                    "current-context": ""}


class Refused(AiopsError):
    """The child must not start; the message (one line) says why and what to set."""


def child_environment(parent, provider_env, kubeconfig_path):
    """The child's whole environment: the allow-list, provider keys, and its own KUBECONFIG."""
    env = dict((key, parent[key]) for key in SAFE_ENV if key in parent)
    for key, value in (provider_env or {}).items():
        if key.upper().startswith(_FORBIDDEN_PREFIXES):
            raise Refused("ai_env_file sets %s, which would give kubectl-ai another cluster or cloud identity; "
                          "keep only the LLM provider's keys there" % key)
        env[key] = value
    env["KUBECONFIG"] = kubeconfig_path
    return env


def _load(source):
    if isinstance(source, dict):
        return copy.deepcopy(source)
    with open(source, "r") as handle:
        text = handle.read()
    try:
        import yaml
        data = yaml.safe_load(text)
    except ImportError:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise Refused("%s is not a kubeconfig" % source)
    return data


def _named(items, name):
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return copy.deepcopy(item)
    return None


def single_context(config, context, where):
    """A kubeconfig holding only ``context`` (or the current one), its cluster and its user."""
    name = context or config.get("current-context")
    ctx = _named(config.get("contexts"), name) if name else None
    if ctx is None:
        raise Refused("context %r not found in %s; name the diagnosed cluster's context" % (name, where))
    detail = ctx.get("context") or {}
    cluster = _named(config.get("clusters"), detail.get("cluster"))
    if cluster is None:
        raise Refused("context %r in %s names no known cluster" % (name, where))
    user = _named(config.get("users"), detail.get("user")) or {"name": detail.get("user") or "none", "user": {}}
    return {"apiVersion": "v1", "kind": "Config", "current-context": name, "contexts": [ctx], "clusters": [cluster],
            "users": [user], "preferences": {}}


def server_of(config):
    clusters = config.get("clusters") or []
    return ((clusters[0].get("cluster") or {}).get("server") or "").rstrip("/") if clusters else ""


def module_connection(params, environ):
    """The diagnosed cluster as a one-context kubeconfig, resolved like kubernetes.core resolves it."""
    host = params.get("host") or environ.get("K8S_AUTH_HOST")
    if host and not (params.get("kubeconfig") or params.get("context")):
        cluster = {"server": host.rstrip("/")}
        ca_cert = params.get("ca_cert") or environ.get("K8S_AUTH_SSL_CA_CERT")
        if ca_cert:
            cluster["certificate-authority"] = ca_cert
        if params.get("validate_certs") is False:
            cluster["insecure-skip-tls-verify"] = True
        user = {}
        token = params.get("api_key") or environ.get("K8S_AUTH_API_KEY")
        if token:
            user["token"] = token
        return {"apiVersion": "v1", "kind": "Config", "current-context": "diagnosed", "preferences": {},
                "clusters": [{"name": "diagnosed", "cluster": cluster}], "users": [{"name": "diagnosed", "user": user}],
                "contexts": [{"name": "diagnosed", "context": {"cluster": "diagnosed", "user": "diagnosed"}}]}
    source = params.get("kubeconfig") or environ.get("K8S_AUTH_KUBECONFIG")
    if not source:
        paths = [p for p in (environ.get("KUBECONFIG") or "").split(os.pathsep) if p]
        source = paths[0] if paths else os.path.join(environ.get("HOME") or "~", ".kube", "config")
    context = params.get("context") or environ.get("K8S_AUTH_CONTEXT")
    where = "the module's kubeconfig" if isinstance(source, dict) else source
    try:
        config = _load(source)
    except (IOError, OSError, ValueError) as exc:
        raise Refused("cannot read the diagnosed cluster's kubeconfig %s (%s)" % (where, exc))
    return single_context(config, context, where)


def child_kubeconfig(params, environ):
    """(kubeconfig dict for the child, one line saying which identity it carries). Raises Refused."""
    if any(params.get(option) for option in OFFLINE_OPTIONS):
        return copy.deepcopy(EMPTY_KUBECONFIG), "no cluster (offline diagnosis)"
    if params.get("ai_kubeconfig"):
        where = params["ai_kubeconfig"]
        try:
            config = single_context(_load(where), params.get("ai_context"), where)
        except (IOError, OSError, ValueError) as exc:
            raise Refused("cannot read ai_kubeconfig %s (%s)" % (where, exc))
        try:
            diagnosed = server_of(module_connection(params, environ))
        except Refused:
            diagnosed = None
        if diagnosed and server_of(config) != diagnosed:
            raise Refused("ai_kubeconfig context %s points at %s, not at the diagnosed cluster %s; give the read-only "
                          "identity's context for this cluster (ai_context)"
                          % (config["current-context"], server_of(config) or "?", diagnosed))
        return config, "read-only identity from ai_kubeconfig (context %s)" % config["current-context"]
    config = module_connection(params, environ)
    if params.get("ai_impersonate"):
        user = config["users"][0].setdefault("user", {})
        user["as"] = params["ai_impersonate"]
        user.pop("as-groups", None)
        return config, "impersonating %s (bind it to %s)" % (params["ai_impersonate"], RBAC_DOC)
    if params.get("ai_allow_write_identity"):
        return config, "the module's own identity, which may write (ai_allow_write_identity)"
    raise Refused("kubectl-ai was not started: its only identity would be the module's own credentials, which may "
                  "write to the cluster; set ai_kubeconfig to a read-only identity, ai_impersonate to the account "
                  "bound to %s, or ai_allow_write_identity=true to accept the risk" % RBAC_DOC)
