"""Local stand-in for release download sites (GitHub releases, get.helm.sh, a mirror).

Serves a directory over HTTP on 127.0.0.1 only and logs every request path, so role tests can
download archives they built themselves and assert which URL was used.

    python -m tests.support.artifact_server build-kubectl-ai --out DIR --version 0.0.29
    python -m tests.support.artifact_server build-helm --out DIR --version 3.18.4
    python -m tests.support.artifact_server serve --dir DIR --port 0 --pidfile F --port-file F

`build-*` print a JSON object {asset_name: sha256} (also written to DIR/checksums.json).
`serve` writes the chosen port to --port-file and the request log to DIR/requests.log.
"""

import argparse
import hashlib
import http.server
import io
import json
import os
import platform
import signal
import sys
import tarfile
import threading

HOST = "127.0.0.1"


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_tar_gz(path, members):
    """Write a .tar.gz whose members are {name: (text, mode)}; returns its sha256."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, (text, mode) in sorted(members.items()):
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return sha256_file(path)


def kubectl_ai_script(version):
    """A kubectl-ai stand-in that reports ``version``."""
    return ("#!/bin/sh\n"
            "if [ \"$1\" = version ]; then\n"
            "  printf 'version: %s\\ncommit: test\\ndate: unknown\\n'\n"
            "  exit 0\n"
            "fi\n"
            "echo 'kubectl-ai stand-in'\n") % version


HELM_STANDIN = r"""#!/usr/bin/env python3
# helm stand-in (test archive): keeps releases as JSON files under $HELM_STANDIN_STATE and appends
# every argv to $HELM_STANDIN_LOG, enough for kubernetes.core.helm's install/upgrade/uninstall flow.
import json, os, shlex, sys
VERSION = "%s"
args = sys.argv[1:]
log = os.environ.get("HELM_STANDIN_LOG")
if log:
    with open(log, "a") as handle:
        handle.write(json.dumps(args) + "\n")
state = os.environ.get("HELM_STANDIN_STATE") or os.path.expanduser("~/.helm-standin")
os.makedirs(state, exist_ok=True)

def opt(names):
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(n + "="):
                return a.split("=", 1)[1]
    return None

def positional():
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-n", "--namespace", "--version", "-f", "--values", "--timeout", "--filter", "--kubeconfig", "--kube-context"):
            skip = True
            continue
        if not a.startswith("-"):
            out.append(a.strip("'"))
    return out

def release_file(name):
    return os.path.join(state, name + ".json")

words = positional()
cmd = words[:1]
if cmd == ["version"]:
    if "--short" in args:
        print("v%%s+gstandin" %% VERSION)
    else:
        print('version.BuildInfo{Version:"v%%s", GitCommit:"standin", GitTreeState:"clean", GoVersion:"go1.22"}' %% VERSION)
elif words[:2] == ["plugin", "list"]:
    print("NAME\tVERSION\tDESCRIPTION")
elif words[:2] == ["show", "chart"]:
    ref = words[2]
    version = opt(["--version"]) or "0.0.0"
    print("apiVersion: v2\nname: %%s\nversion: %%s\nappVersion: %%s" %% (ref.rstrip("/").split("/")[-1], version, version))
elif cmd == ["list"]:
    name = opt(["--filter"])
    releases = []
    for fname in sorted(os.listdir(state)):
        with open(os.path.join(state, fname)) as handle:
            rel = json.load(handle)
        if name is None or rel["name"] == name:
            releases.append(dict((k, v) for k, v in rel.items() if k != "values"))
    print(json.dumps(releases))
elif words[:2] == ["get", "values"]:
    name = words[-1]
    if not os.path.exists(release_file(name)):
        sys.stderr.write("Error: release: not found\n")
        sys.exit(1)
    with open(release_file(name)) as handle:
        values = json.load(handle)["values"]
    print(json.dumps(values) if values else "null")
elif cmd == ["upgrade"] or cmd == ["install"]:
    name, ref = words[1], words[2]
    version = opt(["--version"]) or "0.0.0"
    values = {}
    for i, a in enumerate(args):
        path = None
        if a.startswith("-f=") or a.startswith("--values="):
            path = a.split("=", 1)[1]
        elif a in ("-f", "--values") and i + 1 < len(args):
            path = args[i + 1]
        if path:
            import yaml
            with open(path) as handle:
                values.update(yaml.safe_load(handle) or {})
    chart = ref.rstrip("/").split("/")[-1]
    with open(release_file(name), "w") as handle:
        json.dump({"name": name, "namespace": opt(["-n", "--namespace"]) or os.environ.get("HELM_NAMESPACE") or "default", "revision": "1",
                   "status": "deployed", "chart": "%%s-%%s" %% (chart, version), "app_version": version,
                   "values": values}, handle)
    print("Release \"%%s\" has been upgraded. Happy Helming!" %% name)
elif cmd == ["uninstall"]:
    name = words[-1]
    if os.path.exists(release_file(name)):
        os.remove(release_file(name))
    print('release "%%s" uninstalled' %% name)
else:
    sys.stderr.write("helm stand-in: unsupported %%s\n" %% " ".join(shlex.quote(a) for a in args))
    sys.exit(1)
"""


def helm_script(version):
    """A helm stand-in that reports ``version``, records argv and keeps release state in files."""
    return HELM_STANDIN % version


def current_os_arch():
    system = platform.system()
    machine = platform.machine().lower()
    arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return system, arch


def build_kubectl_ai(out, version):
    """Release assets named like GoogleCloudPlatform/kubectl-ai's, under v<version>/."""
    sums = {}
    for system in ("Linux", "Darwin"):
        for arch in ("x86_64", "arm64"):
            asset = "kubectl-ai_%s_%s.tar.gz" % (system, arch)
            path = os.path.join(out, "v%s" % version, asset)
            sums[asset] = build_tar_gz(path, {"kubectl-ai": (kubectl_ai_script(version), 0o755),
                                              "LICENSE": ("Apache-2.0 (test archive)\n", 0o644)})
    _write_sums(os.path.join(out, "v%s" % version), sums)
    return sums


def build_helm(out, version):
    """Archives named like get.helm.sh's: helm-v<version>-<os>-<arch>.tar.gz with <os>-<arch>/helm."""
    sums = {}
    for system in ("linux", "darwin"):
        for arch in ("amd64", "arm64"):
            asset = "helm-v%s-%s-%s.tar.gz" % (version, system, arch)
            sums[asset] = build_tar_gz(os.path.join(out, asset), {
                "%s-%s/helm" % (system, arch): (helm_script(version), 0o755),
                "%s-%s/LICENSE" % (system, arch): ("Apache-2.0 (test archive)\n", 0o644)})
    _write_sums(out, sums)
    return sums


def _write_sums(directory, sums):
    path = os.path.join(directory, "checksums.json")
    existing = {}
    if os.path.exists(path):
        with open(path) as handle:
            existing = json.load(handle)
    existing.update(sums)
    with open(path, "w") as handle:
        json.dump(existing, handle, indent=1, sort_keys=True)
    with open(os.path.join(directory, "checksums.txt"), "w") as handle:
        for name, digest in sorted(existing.items()):
            handle.write("%s  %s\n" % (digest, name))


class _Handler(http.server.SimpleHTTPRequestHandler):
    log_path = None

    def log_message(self, fmt, *args):  # quiet on stderr, but keep a request log
        if self.log_path:
            with open(self.log_path, "a") as handle:
                handle.write("%s %s\n" % (self.command, self.path))


class ArtifactServer(object):
    """In-process server for pytest: ``with ArtifactServer(dir) as srv: srv.url``."""

    def __init__(self, directory, port=0):
        handler = type("Handler", (_Handler,), {"log_path": os.path.join(directory, "requests.log")})
        self.directory = directory
        self.httpd = http.server.ThreadingHTTPServer(
            (HOST, port), lambda *a, **k: handler(*a, directory=directory, **k))
        self.port = self.httpd.server_address[1]
        self.url = "http://%s:%d" % (HOST, self.port)
        self._thread = None

    def requests(self):
        path = os.path.join(self.directory, "requests.log")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [line.rstrip("\n") for line in handle]

    def __enter__(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _serve(args):
    server = ArtifactServer(os.path.abspath(args.dir), args.port)
    if args.port_file:
        with open(args.port_file, "w") as handle:
            handle.write(str(server.port))
    if args.pidfile:
        with open(args.pidfile, "w") as handle:
            handle.write(str(os.getpid()))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.httpd.serve_forever()
    finally:
        server.httpd.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--dir", required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--pidfile")
    serve.add_argument("--port-file")
    for name in ("build-kubectl-ai", "build-helm"):
        build = sub.add_parser(name)
        build.add_argument("--out", required=True)
        build.add_argument("--version", required=True)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        _serve(args)
    elif args.cmd == "build-kubectl-ai":
        print(json.dumps(build_kubectl_ai(args.out, args.version)))
    else:
        print(json.dumps(build_helm(args.out, args.version)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
