"""Legacy discovery documents and a skeleton OpenAPI v3."""

from __future__ import annotations

from tests.support.emulator.api import SUBRESOURCE_INFO


class DiscoveryMixin(object):
    """Discovery is built once from the catalogue (self.resources)."""

    def _build_discovery(self):
        groups = {}
        for res in self.resources:
            groups.setdefault((res.group, res.version), []).append(res)
        docs = {}
        for (group, version), resources in groups.items():
            entries = []
            for res in resources:
                entry = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
                         "kind": res.kind, "verbs": list(res.verbs)}
                if res.short:
                    entry["shortNames"] = res.short
                if res.categories:
                    entry["categories"] = res.categories
                entries.append(entry)
                for sub in res.subresources:
                    kind, sgroup, sversion, verbs = SUBRESOURCE_INFO[sub]
                    item = {"name": "%s/%s" % (res.plural, sub), "singularName": "", "namespaced": res.namespaced,
                            "kind": kind or res.kind, "verbs": list(verbs)}
                    if sgroup:
                        item["group"] = sgroup
                        item["version"] = sversion
                    entries.append(item)
            group_version = version if not group else "%s/%s" % (group, version)
            docs[(group, version)] = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                                      "resources": entries}
        self._group_versions = groups
        return docs

    def _api_group(self, group):
        versions = sorted({v for (g, v) in self._group_versions if g == group})
        entries = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    def _discovery_doc(self, parts):
        if parts == ["version"]:
            return {"major": "1", "minor": "32", "gitVersion": "v1.32.0-aiops-emulator",
                    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
                    "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "32"}
        if parts == ["api"]:
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": "%s:%d" % (self.host, self.port)}]}
        if parts == ["api", "v1"]:
            return self._discovery[("", "v1")]
        if parts == ["apis"]:
            names = []
            for (group, _version) in self._group_versions:
                if group and group not in names:
                    names.append(group)
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._api_group(g) for g in names]}
        if len(parts) == 2 and parts[0] == "apis":
            if any(g == parts[1] for (g, _v) in self._group_versions):
                doc = self._api_group(parts[1])
                doc.update({"kind": "APIGroup", "apiVersion": "v1"})
                return doc
        if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in self._discovery:
            return self._discovery[(parts[1], parts[2])]
        return None

    def _openapi_v3(self, rest):
        """A skeleton OpenAPI v3: only enough for kubectl to see that every kind accepts the
        ``fieldValidation`` query parameter, so ``kubectl apply`` validates server-side (we accept
        and ignore it) instead of demanding schemas we do not serve."""
        if not rest:
            paths = ["api/v1" if not g else "apis/%s/%s" % (g, v) for (g, v) in self._group_versions]
            return {"paths": {path: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (path, "0" * 16)}
                              for path in paths}}
        if rest[:2] == ["api", "v1"] and len(rest) == 2:
            group, version = "", "v1"
        elif rest[:1] == ["apis"] and len(rest) == 3:
            group, version = rest[1], rest[2]
        else:
            return None
        resources = self._group_versions.get((group, version))
        if resources is None:
            return None
        prefix = "/api/v1" if not group else "/apis/%s/%s" % (group, version)
        parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        paths = {}
        for res in resources:
            gvk = {"group": group, "version": version, "kind": res.kind}
            base = prefix + ("/namespaces/{namespace}" if res.namespaced else "") + "/" + res.plural
            operation = {"x-kubernetes-group-version-kind": gvk, "parameters": [parameter],
                         "responses": {"200": {"description": "OK"}}}
            paths[base] = {"post": dict(operation, operationId="create" + res.kind)}
            paths[base + "/{name}"] = {"patch": dict(operation, operationId="patch" + res.kind),
                                       "put": dict(operation, operationId="replace" + res.kind)}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
                "components": {"schemas": {}}}
