# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: kubeconfig
short_description: One inventory host per kubeconfig context, so a play can diagnose a fleet of clusters
version_added: 0.1.0
author:
  - aiops.k8s maintainers (@aiops-k8s)
description:
  - Reads one or more kubeconfig files and adds one host per context, with the variables a play needs to talk
    to that cluster from the controller (C(ansible_connection=local)), grouped by cluster name and API server.
  - With O(kubeconfig) unset the files named by E(KUBECONFIG) (or E(K8S_AUTH_KUBECONFIG)) are read, else
    C(~/.kube/config), the same files C(kubectl) reads.
  - 'Host variables: C(aiops_k8s_kubeconfig) (the file to pass as O(aiops.k8s.pod_diagnose#module:kubeconfig)),
    C(aiops_k8s_context), C(aiops_k8s_cluster), C(aiops_k8s_server) (scheme, host and port only),
    C(aiops_k8s_namespace) (the context default namespace, when set), C(ansible_connection=local) and
    C(ansible_python_interpreter) (the controller Python, C({{ ansible_playbook_python }})).'
  - Credentials are never copied into the inventory. Tokens, passwords, client keys and certificates stay in the
    kubeconfig file; user names, exec plugins, auth providers and credentials embedded in server URLs are left out.
  - Files are merged the way C(kubectl) merges E(KUBECONFIG), so the first file that defines a context, cluster
    or user wins. Set O(duplicate_contexts=rename) to keep same-named contexts of different files apart instead.
  - The configuration file name must end with C(aiops_kubeconfig.yml) or C(aiops_kubeconfig.yaml).
options:
  plugin:
    description: Marks the file as a configuration of this plugin.
    required: true
    type: str
    choices: [aiops.k8s.kubeconfig]
  kubeconfig:
    description:
      - Kubeconfig files to read. Relative paths are relative to the directory of this configuration file.
      - When empty, E(K8S_AUTH_KUBECONFIG) or E(KUBECONFIG) (several files separated by C(:)) or
        C(~/.kube/config).
    type: list
    elements: path
    default: []
  include_contexts:
    description:
      - Shell-style patterns (C(fnmatch)); only contexts whose name matches one of them become hosts.
    type: list
    elements: str
    default: ['*']
  exclude_contexts:
    description:
      - Shell-style patterns; contexts whose name matches one of them are left out, even when included.
    type: list
    elements: str
    default: []
  group_by:
    description:
      - Groups to build. V(cluster) adds each host to C(cluster_<cluster name>), V(server) to
        C(server_<host>_<port>) (contexts that reach the same API server through different names share it).
      - Group names are made safe by replacing every character other than letters, digits and C(_) with C(_).
    type: list
    elements: str
    choices: [cluster, server]
    default: [cluster, server]
  parent_group:
    description:
      - Every generated host is also put into this group (a convenient target for the C(playbooks/diagnose_fleet.yml) playbook).
    type: str
    default: aiops_k8s_clusters
  duplicate_contexts:
    description:
      - What to do when several files define a context with the same name.
      - V(first) keeps the first one, as C(kubectl) does, and warns about the others.
      - V(rename) keeps all of them; later ones are named C(<context>@<file name without extension>) and resolve
        their cluster and user inside their own file.
    type: str
    choices: [first, rename]
    default: first
  python_interpreter:
    description:
      - Value for C(ansible_python_interpreter).
      - When unset, C({{ ansible_playbook_python }}), the Python running C(ansible-playbook), which has the
        kubernetes client installed; interpreter discovery can pick one that has not.
    type: str
extends_documentation_fragment:
  - constructed
notes:
  - Context names become host names. Names containing C(:) (for example EKS ARNs) cannot be used in
    C(--limit) patterns; select such hosts through their groups, or rename them with O(compose) and a
    static alias.
  - For AWX/AAP, see C(docs/awx-aap.md) for using this plugin as an inventory source and for the alternative
    static inventory in which every host is a Kubernetes credential.
"""

EXAMPLES = r"""
---
# fleet.aiops_kubeconfig.yml: every context of two kubeconfig files, except the local kind ones
plugin: aiops.k8s.kubeconfig
kubeconfig:
  - ~/.kube/prod
  - ~/.kube/staging
exclude_contexts:
  - kind-*

# A second file, prod.aiops_kubeconfig.yml: only production contexts, grouped by region taken from the context
# name (one YAML document per example block, so it is shown commented out here):
# plugin: aiops.k8s.kubeconfig
# include_contexts:
#   - prod-*
# keyed_groups:
#   - key: aiops_k8s_context.split('-')[1]
#     prefix: region
# compose:
#   aiops_fleet_label_selectors: "['tier=frontend']"
"""

import fnmatch
import os
import re
import urllib.parse

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible_collections.aiops.k8s.plugins.module_utils.common.errors import AiopsError

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None

try:  # ansible-core >= 2.19 only renders templates that are explicitly trusted
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older cores render every string
    def trust_as_template(value):
        return value

CONFIG_SUFFIXES = ("aiops_kubeconfig.yml", "aiops_kubeconfig.yaml")
PLAYBOOK_PYTHON = "{{ ansible_playbook_python }}"


class KubeconfigError(AiopsError):
    """A kubeconfig file that cannot be used; the message names the file and what to do."""


def default_kubeconfig_paths(environ=None):
    """The files kubectl would read: K8S_AUTH_KUBECONFIG, else KUBECONFIG, else ~/.kube/config."""
    environ = os.environ if environ is None else environ
    value = environ.get("K8S_AUTH_KUBECONFIG") or environ.get("KUBECONFIG") or ""
    paths = [part for part in value.split(os.pathsep) if part]
    return paths or [os.path.join("~", ".kube", "config")]


def resolve_paths(paths, base_dir):
    """Expand ~ and make relative paths relative to the inventory configuration file, dropping repeats."""
    resolved = []
    for path in paths:
        full = os.path.expanduser(os.path.expandvars(str(path)))
        if not os.path.isabs(full):
            full = os.path.join(base_dir, full)
        full = os.path.normpath(full)
        if full not in resolved:
            resolved.append(full)
    return resolved


def load_kubeconfig(path):
    """Parse one kubeconfig file into {"contexts", "clusters"}: name -> entry body, in file order.

    Of users only the names are kept: nothing about credentials can leak from what is never loaded.
    """
    try:
        with open(path, "r", encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise KubeconfigError("kubeconfig %s does not exist: fix the path or remove it from the inventory" % path)
    except OSError as exc:
        raise KubeconfigError("kubeconfig %s cannot be read (%s): check its permissions" % (path, exc.strerror))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " at line %d" % (mark.line + 1) if mark is not None else ""
        raise KubeconfigError("kubeconfig %s is not valid YAML%s: fix or regenerate it" % (path, where))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KubeconfigError("kubeconfig %s is not a mapping: it must be a kind: Config document" % path)
    return {"contexts": _named_entries(data, "contexts", "context", path),
            "clusters": _named_entries(data, "clusters", "cluster", path),
            "users": set(_named_entries(data, "users", "user", path))}


def _named_entries(data, list_key, body_key, path):
    entries = {}
    items = data.get(list_key) or []
    if not isinstance(items, list):
        raise KubeconfigError("kubeconfig %s: '%s' must be a list: fix or regenerate it" % (path, list_key))
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        body = item.get(body_key)
        entries.setdefault(str(item["name"]), body if isinstance(body, dict) else {})
    return entries


def public_server(url):
    """The API server as scheme://host:port: user info, paths and queries can hold credentials."""
    if not url or not isinstance(url, str):
        return ""
    parsed = urllib.parse.urlsplit(url.strip())
    if not parsed.scheme or not parsed.hostname:
        return ""
    host = parsed.hostname
    if ":" in host:  # IPv6 literal
        host = "[%s]" % host
    try:
        port = parsed.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parsed.scheme == "https" else 80
    return "%s://%s:%d" % (parsed.scheme, host, port)


def safe_group_name(prefix, value):
    """A group name Ansible accepts without warnings: letters, digits and underscores only."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "%s%s" % (prefix, value))


def server_group_name(server):
    parsed = urllib.parse.urlsplit(server)
    host = (parsed.hostname or "unknown").strip("[]")
    return safe_group_name("server_", "%s_%s" % (host, parsed.port or ""))


def selected(name, include, exclude):
    """fnmatch include/exclude filter; exclude wins."""
    if not any(fnmatch.fnmatchcase(name, pattern) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude)


def collect_contexts(files, include, exclude, duplicate="first"):
    """Turn parsed kubeconfig files into host records and warnings.

    files      [(path, parsed)] in precedence order, parsed as returned by load_kubeconfig
    Returns (hosts, warnings); each host is {"name", "kubeconfig", "context", "cluster", "server", "namespace"}.
    With duplicate="first" the files are merged like KUBECONFIG (first definition wins, clusters may come
    from another file, and then every file is handed to the client); with "rename" each file stands alone.
    """
    hosts, warnings, seen = [], [], {}
    first_cluster, first_user = {}, {}
    for path, parsed in files:
        for name, body in parsed["clusters"].items():
            first_cluster.setdefault(name, (path, body))
        for name in parsed["users"]:
            first_user.setdefault(name, path)
    all_paths = os.pathsep.join(path for path, dummy in files)
    for path, parsed in files:
        stem = os.path.splitext(os.path.basename(path))[0] or "kubeconfig"
        for context_name, body in parsed["contexts"].items():
            if not selected(context_name, include, exclude):
                continue
            host_name = context_name
            if context_name in seen:
                if duplicate != "rename":
                    warnings.append("context %s in %s is ignored: %s defines it first (set duplicate_contexts: rename "
                                    "to keep both)" % (context_name, path, seen[context_name]))
                    continue
                host_name = "%s@%s" % (context_name, stem)
                if host_name in seen:
                    warnings.append("context %s in %s is ignored: the name %s is taken" % (context_name, path, host_name))
                    continue
            seen[host_name] = path
            cluster_name = str(body.get("cluster") or "")
            user_name = str(body.get("user") or "")
            if duplicate == "rename":
                cluster = (path, parsed["clusters"][cluster_name]) if cluster_name in parsed["clusters"] else None
                kubeconfig = path
            else:
                cluster = first_cluster.get(cluster_name)
                # One file is enough when it holds the winning cluster and user; otherwise hand the client every
                # file (kubernetes.core merges a path list exactly like kubectl).
                own = cluster is not None and cluster[0] == path and first_user.get(user_name, path) == path
                kubeconfig = path if own else all_paths
            if cluster is None:
                warnings.append("context %s in %s is skipped: its cluster %r is not defined in any kubeconfig file"
                                % (context_name, path, cluster_name))
                continue
            hosts.append({
                "name": host_name,
                "context": context_name,
                "kubeconfig": kubeconfig,
                "cluster": cluster_name,
                "server": public_server(cluster[1].get("server")),
                "namespace": str(body.get("namespace") or ""),
            })
    return hosts, warnings


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "aiops.k8s.kubeconfig"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(CONFIG_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        if yaml is None:
            raise AnsibleParserError("aiops.k8s.kubeconfig needs PyYAML: install it on the controller")
        base_dir = os.path.dirname(os.path.abspath(path))
        paths = resolve_paths(self.get_option("kubeconfig") or default_kubeconfig_paths(), base_dir)
        try:
            files = [(kube_path, load_kubeconfig(kube_path)) for kube_path in paths]
        except KubeconfigError as exc:
            raise AnsibleParserError("%s: %s" % (path, to_native(exc)))
        hosts, warnings = collect_contexts(files, self.get_option("include_contexts") or ["*"],
                                           self.get_option("exclude_contexts") or [],
                                           self.get_option("duplicate_contexts"))
        for warning in warnings:
            self.display.warning(warning)
        self._populate(hosts)

    def _populate(self, hosts):
        group_by = self.get_option("group_by") or []
        parent = self.get_option("parent_group")
        interpreter = self.get_option("python_interpreter") or PLAYBOOK_PYTHON
        strict = self.get_option("strict")
        if parent:
            parent = self.inventory.add_group(safe_group_name("", parent))
        for record in hosts:
            name = self.inventory.add_host(record["name"], group=parent or None)
            variables = {
                "ansible_connection": "local",
                # Only this one value is ours; names from kubeconfig files stay untrusted text.
                "ansible_python_interpreter": trust_as_template(interpreter) if "{{" in interpreter else interpreter,
                "aiops_k8s_kubeconfig": record["kubeconfig"],
                "aiops_k8s_context": record["context"],
                "aiops_k8s_cluster": record["cluster"],
                "aiops_k8s_server": record["server"],
            }
            if record["namespace"]:
                variables["aiops_k8s_namespace"] = record["namespace"]
            for key, value in variables.items():
                self.inventory.set_variable(name, key, value)
            if "cluster" in group_by and record["cluster"]:
                self.inventory.add_child(self.inventory.add_group(safe_group_name("cluster_", record["cluster"])), name)
            if "server" in group_by and record["server"]:
                self.inventory.add_child(self.inventory.add_group(server_group_name(record["server"])), name)
            hostvars = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
