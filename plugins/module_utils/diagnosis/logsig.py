# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fatal signatures in a crashed container's log tail, quoted (redacted) as evidence.

Only the tail is scanned, newest line first, so the signature found is the one that ended the
process. Patterns follow what the JVM, CPython, the Go runtime, runc and common client libraries print.
"""

from __future__ import annotations

import re

_MAX_SCAN_LINES = 200

_JAVA_OOM = re.compile(r"java\.lang\.OutOfMemoryError(?::\s*(.*))?")
_GO_PANIC = re.compile(r"^(?:panic: .+|fatal error: .+)")
_EXEC_FORMAT = re.compile(r"exec format error", re.I)
_ADDR_IN_USE = re.compile(r"address already in use|EADDRINUSE|Only one usage of each socket address", re.I)
_CONN_REFUSED = re.compile(r"connection refused|ECONNREFUSED|Connection refused", re.I)
_HOSTPORT = re.compile(r"(?:(?:[A-Za-z0-9_-]+\.)*[A-Za-z0-9_-]+|\[[0-9a-fA-F:]+\]):\d{2,5}\b")
_NOT_HOSTPORT = re.compile(r"^\d{1,2}:\d{2}$|\d{4}-\d{2}-\d{2}|:0\d")
_PG_HOST = re.compile(r'(?:on host|server at) "([^"]+)".*?port (\d+)', re.I | re.S)
_ENV_PATTERNS = (
    re.compile(r"(?:environment variable|env var(?:iable)?|env)\s+['\"`]?([A-Za-z_][A-Za-z0-9_]*)['\"`]?"
               r"\s+(?:is\s+)?(?:not set|not defined|missing|required|must be set|is required|undefined|empty)", re.I),
    re.compile(r"missing (?:required )?env(?:ironment)?(?: var(?:iable)?s?)?:?\s+['\"`]?([A-Z_][A-Z0-9_]*)", re.I),
    re.compile(r"KeyError: ['\"]([A-Z_][A-Z0-9_]{2,})['\"]"),
    re.compile(r"\b([A-Z][A-Z0-9_]{2,})\s+(?:is not set|must be set|is required|not set|is missing|is undefined)"),
    re.compile(r"(?:required|missing) (?:key|variable) ['\"]?([A-Z][A-Z0-9_]{2,})['\"]?"),
)
_PY_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|KeyError|NotFound)\b.*")
_GENERIC_FATAL = re.compile(r"\b(?:FATAL|Fatal|fatal|panic|PANIC|Exception|ERROR|Error|error)\b")
# Lines that carry the answer without an error keyword (glibc/Go/musl resolver, POSIX shells, TLS stacks).
_DNS = re.compile(r"(?:lookup ([\w.-]+)(?: on [\d.:\[\]a-f]+)?: no such host|could not resolve host:? ([\w.-]+)|"
                  r"(?:getaddrinfo|name resolution)[^\n]*?(?:ENOTFOUND|EAI_AGAIN|failed)[^\n]*?([\w-]+\.[\w.-]+)?|"
                  r"temporary failure in name resolution|name or service not known|nodename nor servname|"
                  r"unknown host ([\w.-]+)|UnknownHostException:? ?([\w.-]+)?|bad address '([\w.-]+)')", re.I)
_SHELL_SYNTAX = re.compile(r"(?:^|\s|:)(?:line (\d+): )?syntax error(?: near unexpected token [`'\"]?([^'\"`]+)|"
                           r": unexpected (?:end of file|\"?[\w()]+\"?)|[^\n]*)", re.I)
_CERT_EXPIRED = re.compile(r"certificate has expired|x509: certificate has expired or is not yet valid|"
                           r"certificate (?:is )?(?:expired|not yet valid)|CERT_HAS_EXPIRED|certificate verify failed: "
                           r"certificate has expired", re.I)
_PERMISSION = re.compile(r"permission denied|EACCES|operation not permitted", re.I)
_NO_SUCH_FILE = re.compile(r"exec [^:]+: no such file or directory|exec: \"[^\"]+\": (?:executable file not found|"
                           r"stat [^:]+: no such file)|: not found$", re.I)


def _lines(text):
    lines = [line.rstrip() for line in text.splitlines()[-_MAX_SCAN_LINES:]]
    return [line for line in lines if line.strip()]


def find_signature(text):
    """The fatal signature in a log tail.

    Returns {"kind", "line", "explanation", "facts"} or None. `line` is the raw line (the caller
    redacts it before quoting).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    lines = _lines(text)
    if not lines:
        return None
    # Python: the last line of the last traceback is the exception that killed the process.
    tb_index = None
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].lstrip().startswith("Traceback (most recent call last)"):
            tb_index = index
            break
    for line in reversed(lines):
        match = _JAVA_OOM.search(line)
        if match:
            return {"kind": "java_oom", "line": line.strip(),
                    "explanation": "the JVM ran out of %s" % (match.group(1) or "memory").strip().lower(),
                    "facts": {"detail": (match.group(1) or "").strip()}}
    if tb_index is not None:
        for line in lines[tb_index + 1:]:
            if not line.startswith((" ", "\t")) and _PY_EXC_LINE.match(line.strip()):
                exc = line.strip()
                env = _env_var(exc)
                facts = {"exception": exc.split(":", 1)[0]}
                if env:
                    facts["env_var"] = env
                    return {"kind": "missing_env", "line": exc,
                            "explanation": "environment variable %s is not set" % env, "facts": facts}
                refused = _refused(exc, lines) or _keyless(exc)
                if refused:
                    return refused
                return {"kind": "python_exception", "line": exc,
                        "explanation": "uncaught Python exception %s" % facts["exception"], "facts": facts}
    for line in reversed(lines):
        stripped = line.strip()
        if _EXEC_FORMAT.search(stripped):
            return {"kind": "exec_format", "line": stripped,
                    "explanation": "exec format error: the image was built for another CPU architecture",
                    "facts": {}}
        if _GO_PANIC.match(stripped):
            return {"kind": "go_panic", "line": stripped, "explanation": "the Go program panicked", "facts": {}}
        if _ADDR_IN_USE.search(stripped):
            port = re.search(r":(\d{2,5})\b", stripped)
            return {"kind": "address_in_use", "line": stripped,
                    "explanation": "the port%s is already in use (another process or container binds it)"
                                   % (" " + port.group(1) if port else ""),
                    "facts": {"port": port.group(1)} if port else {}}
        env = _env_var(stripped)
        if env:
            return {"kind": "missing_env", "line": stripped,
                    "explanation": "environment variable %s is not set" % env, "facts": {"env_var": env}}
    for line in reversed(lines):
        keyless = _keyless(line.strip())
        if keyless:
            return keyless
    for line in reversed(lines):
        if _CONN_REFUSED.search(line):
            return _refused(line, lines)
        if _NO_SUCH_FILE.search(line.strip()):
            return {"kind": "exec_not_found", "line": line.strip(),
                    "explanation": "the entrypoint or command does not exist in the image", "facts": {}}
    for line in reversed(lines):
        if _GENERIC_FATAL.search(line):
            return {"kind": "error_line", "line": line.strip(), "explanation": "last error logged", "facts": {}}
    return None


def _env_var(line):
    for pattern in _ENV_PATTERNS:
        match = pattern.search(line)
        if match:
            return match.group(1)
    return None


def _refused(line, lines):
    """Connection refused, naming host:port when the line (or a nearby psql hint) says it."""
    if not _CONN_REFUSED.search(line):
        return None
    target = None
    candidates = [m.group(0) for m in _HOSTPORT.finditer(line)]
    candidates = [c for c in candidates if not _NOT_HOSTPORT.search(c)]
    if candidates:
        target = candidates[-1]
    else:
        joined = "\n".join(lines[-10:])
        match = _PG_HOST.search(joined)
        if match:
            target = "%s:%s" % (match.group(1), match.group(2))
    explanation = "connection refused by %s (a dependency is down or not reachable yet)" % target if target \
        else "a connection was refused (a dependency is down or not reachable yet)"
    return {"kind": "connection_refused", "line": line.strip(), "explanation": explanation,
            "facts": {"target": target} if target else {}}


def _keyless(line):
    """Signatures that explain a failure without any error keyword on the line."""
    match = _CERT_EXPIRED.search(line)
    if match:
        return {"kind": "certificate_expired", "line": line,
                "explanation": "a TLS certificate it uses or checks has expired (or is not yet valid: check the clock)",
                "facts": {}}
    match = _DNS.search(line)
    if match:
        host = next((g for g in match.groups() if g), None)
        return {"kind": "dns_failure", "line": line,
                "explanation": "DNS resolution of %s failed (wrong service name/namespace, or cluster DNS is down)"
                               % (host or "a host name"), "facts": {"host": host} if host else {}}
    match = _SHELL_SYNTAX.search(line)
    if match and ("sh:" in line or "bash" in line or match.group(1) or "unexpected" in line.lower()):
        where = " at line %s" % match.group(1) if match.group(1) else ""
        return {"kind": "shell_syntax", "line": line,
                "explanation": "the container's shell script has a syntax error%s (a quoting or line-ending problem "
                               "in its command/args or script)" % where,
                "facts": {"script_line": match.group(1)} if match.group(1) else {}}
    return None
