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


# Application-level failures on a path (a volume's state, not the code): the line names the path, often with no
# error keyword, and the fix is a change to the volume or the start-up step, not to hand to the app's owner.
# initdb/pg_basebackup: 'directory "/var/lib/postgresql/data" exists but is not empty'; rm/rmdir/mv ENOTEMPTY.
_NOT_EMPTY = re.compile(r"directory [\"'\u2018\u201c]?(/?[^\s\"'\u2019\u201d]+)[\"'\u2019\u201d]? exists but is not empty|"
                        r"(?:rmdir|rm|mv|rename)[^\n]*?[\"'\u2018\u201c]?(/[^\s\"'\u2019\u201d:]+)[\"'\u2019\u201d]?: Directory not empty", re.I)
# InnoDB 'Unable to lock ./ibdata1 error: 11'; flock/pidfile wordings of other daemons.
_LOCK = re.compile(r"Unable to lock (\S+?)(?:,| error|$)|(?:could not|cannot|unable to|failed to) (?:acquire|obtain|get|"
                   r"take) (?:the |a )?(?:exclusive )?lock(?: (?:on|for) [\"'\u2018\u201c]?([^\s\"'\u2019\u201d]+))?|"
                   r"lock (?:file )?[\"'\u2018\u201c]?(/[^\s\"'\u2019\u201d]+)[\"'\u2019\u201d]? (?:is )?(?:held|already (?:exists|locked|in use))|"
                   r"is locked by another process|another (?:instance|process) is (?:already )?running", re.I)
# ln/mkdir/cp of coreutils and busybox, Python FileExistsError, Node EEXIST.
_EXISTS = re.compile(r"[\"'\u2018\u201c]?(/?[\w.@+/-]+)[\"'\u2019\u201d]?: File exists|File exists: [\"'\u2018\u201c]?(/?[\w.@+/-]+)|"
                     r"EEXIST: file already exists, \w+ [\"'\u2018\u201c]?(/?[\w.@+/-]+)", re.I)
# mkdir/touch/open on a path the container's user may not write ('exec ...: permission denied' is not this).
_PATH_DENIED = re.compile(r"(?:cannot create (?:directory|regular file)|can't create|cannot open|cannot touch|"
                          r"could not (?:create|open|write)[\w ]*?|EACCES: permission denied, \w+|"
                          r"PermissionError: \[Errno 13\] Permission denied:)\s*[\"'\u2018\u201c]?(/?[\w.@+/-]+)[\"'\u2019\u201d]?"
                          r"(?::\s*Permission denied)?", re.I)


def _path_signature(line):
    """A volume/start-up state failure naming its path: not empty, locked, already exists, not writable."""
    match = _NOT_EMPTY.search(line)
    if match:
        path = match.group(1) or match.group(2)
        return {"kind": "dir_not_empty", "line": line, "facts": {"path": path},
                "explanation": "the directory %s is not empty, so initialisation refuses to write there (a volume's "
                               "lost+found or files from an earlier run)" % path}
    match = _LOCK.search(line)
    if match:
        path = next((g for g in match.groups() if g), None)
        return {"kind": "lock_held", "line": line, "facts": {"path": path} if path else {},
                "explanation": "%s is locked by another process (a second instance on the same volume, or a stale "
                               "lock left by an unclean stop)" % (path or "its lock")}
    match = _EXISTS.search(line)
    if match:
        path = next((g for g in match.groups() if g), None)
        return {"kind": "file_exists", "line": line, "facts": {"path": path},
                "explanation": "%s already exists from an earlier run (a restarted container keeps its volume), and "
                               "the start-up step does not allow for it" % path}
    if "permission denied" in line.lower() and not re.search(r"\bexec\b", line):
        match = _PATH_DENIED.search(line)
        if match:
            return {"kind": "path_permission", "line": line, "facts": {"path": match.group(1)},
                    "explanation": "the container's user may not write %s (a volume owned by another uid/gid)"
                                   % match.group(1)}
    return None


def _keyless(line):
    """Signatures that explain a failure without any error keyword on the line."""
    path = _path_signature(line)
    if path:
        return path
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
