"""Tiny misbehaving HTTP servers for deadline tests, bound to 127.0.0.1 and stopping by themselves.

- StallServer: accepts connections, reads the request, never answers (a hung API server).
- TrickleServer: answers a valid JSON response one byte every ``interval`` seconds (a read timeout
  never fires, only an overall deadline does).
- ThrottleServer: answers 429 with ``Retry-After`` to the first ``throttled`` requests, then 200.
- ReadOnlyGate: a reverse proxy in front of the emulator (which has no RBAC) that plays the API server's
  authorizer for the read-only role: requests by a read-only token or an impersonated read-only user may
  get/list, anything else they send is answered 403 like RBAC would; other callers pass through.

Each runs in daemon threads and shuts down after ``lifetime`` seconds even if a test forgets to stop
it, so a failed test cannot leave a listener behind. Usable as context managers.

    python -m tests.support.bad_servers stall --lifetime 60   # prints the URL, serves until the lifetime ends
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time

NAMESPACES = {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
              "items": [{"metadata": {"name": "default"}}]}


def _read_request(conn):
    """Read one request's head (and a Content-Length body); b"" when the client went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _sep, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _colon, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


def response_bytes(status, reason, body, headers=None):
    payload = json.dumps(body).encode()
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: application/json",
             "Content-Length: %d" % len(payload)]
    lines += ["%s: %s" % item for item in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class BadServer:
    """Accept loop + one thread per connection; subclasses implement ``handle(conn)``."""

    def __init__(self, lifetime=120.0):
        self.lifetime = lifetime
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.requests = []  # (monotonic time, request line)
        self._conns = []
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def start(self):
        threading.Thread(target=self._accept, daemon=True, name="bad-server-accept").start()
        timer = threading.Timer(self.lifetime, self.stop)
        timer.daemon = True
        timer.start()
        return self

    def _accept(self):
        while not self._stopped.is_set():
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass

    def note(self, head):
        with self._lock:
            self.requests.append((time.monotonic(), head.split(b"\r\n", 1)[0].decode("latin-1")))

    def handle(self, conn):
        raise NotImplementedError

    def wait_stopped(self, seconds):
        """Sleep up to ``seconds`` unless the server is stopped first (True when stopped)."""
        return self._stopped.wait(seconds)

    def stop(self):
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._sock.close()
        except OSError:
            pass
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class StallServer(BadServer):
    """Accepts and reads the request, then never answers until stopped."""

    def handle(self, conn):
        head = _read_request(conn)
        if head:
            self.note(head)
        self._stopped.wait()


class TrickleServer(BadServer):
    """A correct 200 JSON answer, sent one byte every ``interval`` seconds."""

    def __init__(self, interval=1.0, lifetime=120.0):
        super().__init__(lifetime)
        self.interval = interval

    def handle(self, conn):
        while not self._stopped.is_set():
            head = _read_request(conn)
            if not head:
                return
            self.note(head)
            for byte in response_bytes(200, "OK", NAMESPACES):
                conn.sendall(bytes([byte]))
                if self.wait_stopped(self.interval):
                    return


class ThrottleServer(BadServer):
    """429 Too Many Requests with ``Retry-After: retry_after`` for the first ``throttled`` requests, then 200."""

    def __init__(self, throttled=2, retry_after="1", lifetime=120.0):
        super().__init__(lifetime)
        self.throttled = throttled
        self.retry_after = retry_after

    def handle(self, conn):
        while not self._stopped.is_set():
            head = _read_request(conn)
            if not head:
                return
            self.note(head)
            if len(self.requests) <= self.throttled:
                body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 429,
                        "reason": "TooManyRequests", "message": "Too many requests, please try again later."}
                conn.sendall(response_bytes(429, "Too Many Requests", body, {"Retry-After": self.retry_after}))
            else:
                conn.sendall(response_bytes(200, "OK", NAMESPACES))


class ReadOnlyGate(BadServer):
    """RBAC stand-in: read-only identities (tokens or Impersonate-User names) may only GET/HEAD.

    Allowed requests are forwarded to ``upstream`` with ``upstream_token``; ``decisions`` keeps
    (method, path, identity, status) for each request.
    """

    def __init__(self, upstream, upstream_token=None, readonly_tokens=(), readonly_users=(), writer_tokens=(),
                 lifetime=120.0):
        super().__init__(lifetime)
        self.upstream = upstream.rstrip("/")
        self.upstream_token = upstream_token
        self.readonly_tokens = set(readonly_tokens)
        self.readonly_users = set(readonly_users)
        self.writer_tokens = set(writer_tokens)
        self.decisions = []

    def handle(self, conn):
        import urllib.error
        import urllib.request

        while not self._stopped.is_set():
            head, body = self._read_with_body(conn)
            if not head:
                return
            self.note(head)
            lines = head.split(b"\r\n")
            method, path = lines[0].decode("latin-1").split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                name, _colon, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            token = headers.get("authorization", "")[len("Bearer "):]
            user = headers.get("impersonate-user")
            if token not in self.readonly_tokens | self.writer_tokens:
                identity, status = token or "anonymous", 401
            else:
                identity = user or token
                readonly = token in self.readonly_tokens or user in self.readonly_users
                status = 403 if readonly and method not in ("GET", "HEAD") else None
            if status:
                self.decisions.append((method, path, identity, status))
                reason = "Forbidden" if status == 403 else "Unauthorized"
                conn.sendall(response_bytes(status, reason, {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": status, "reason": reason,
                    "message": 'User "%s" cannot %s this resource' % (identity, method.lower())}))
                continue
            forward = {"Content-Type": headers.get("content-type", "application/json"),
                       "Accept": headers.get("accept", "application/json")}
            if self.upstream_token:
                forward["Authorization"] = "Bearer " + self.upstream_token
            request = urllib.request.Request(self.upstream + path, method=method, headers=forward,
                                             data=body or None)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    code, payload = response.status, response.read()
            except urllib.error.HTTPError as exc:
                code, payload = exc.code, exc.read()
            self.decisions.append((method, path, identity, code))
            conn.sendall(("HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % (code, len(payload))).encode() + payload)

    @staticmethod
    def _read_with_body(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return b"", b""
            data += chunk
        head, _sep, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _colon, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head, rest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=("stall", "trickle", "throttle"))
    parser.add_argument("--lifetime", type=float, default=120.0)
    args = parser.parse_args()
    server = {"stall": StallServer, "trickle": TrickleServer, "throttle": ThrottleServer}[args.kind](
        lifetime=args.lifetime).start()
    print(server.url, flush=True)
    server.wait_stopped(args.lifetime)


if __name__ == "__main__":
    main()
