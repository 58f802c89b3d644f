# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options of every cluster-facing module.

The options and their resolution are kubernetes.core's (module_utils/k8s/transport.py auth_argument_spec
takes the argument spec from it), but the documentation lives here so ansible-doc and galaxy-importer
render the modules without kubernetes.core installed. Keep the option names, types and aliases in step
with kubernetes.core's AUTH_ARG_SPEC (ansible-test validate-modules compares them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Kubernetes client configuration to use, as the path of a kubeconfig file (several paths joined with
        V(:), or V(;) on Windows) or as the configuration itself given as a dictionary.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then to the client's default (E(KUBECONFIG), then C(~/.kube/config)),
        then to the service account of the pod the module runs in.
      - The value is never printed, because it may hold credentials.
    type: raw
  context:
    description:
      - Name of the kubeconfig context to use instead of the file's current context. Falls back to
        E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the API server, to connect without a kubeconfig (with O(api_key) or client certificates).
        Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token sent to the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for HTTP basic authentication, which only clusters configured for it accept. Falls back to
        E(K8S_AUTH_USERNAME).
    type: str
  password:
    description:
      - Password for HTTP basic authentication (see O(username)). Falls back to E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether the API server's TLS certificate is verified. Falls back to E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - File with the certificate authority (the whole chain) that signed the API server's certificate. Falls back
        to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - File with the client certificate that authenticates to the API server. Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - File with the private key of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy for API requests. E(HTTP_PROXY) and similar variables are not read. Falls back to
        E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IP addresses or CIDR ranges reached without O(proxy). Falls back to
        E(K8S_AUTH_NO_PROXY). Needs kubernetes Python client 19.15.0 or later.
    type: str
  proxy_headers:
    description:
      - Headers sent to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - V(user:password) for the proxy's basic authentication. Falls back to E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH).
        type: str
      basic_auth:
        description:
          - V(user:password) sent as a basic authorization header. Falls back to E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH).
        type: str
      user_agent:
        description:
          - User-Agent header value. Falls back to E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
        type: str
  persist_config:
    description:
      - Write a refreshed OAuth token back to the kubeconfig file, so the next run does not use an expired refresh
        token. Falls back to E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description:
      - User name to act as (the caller needs the C(impersonate) permission). Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Groups to act as, together with O(impersonate_user). Falls back to E(K8S_AUTH_IMPERSONATE_GROUPS).
    type: list
    elements: str
notes:
  - The connection options are resolved by kubernetes.core (installed as a dependency of this collection) exactly as
    for M(kubernetes.core.k8s_info), so AWX/AAP OpenShift or Kubernetes credentials work unchanged.
"""
