# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one redactor every output path uses (results, logs, records, AI input).

Nothing else in the collection decides what is secret. Patterns keep the key or scheme and mask
only the value, so a reader still sees *that* a password was logged. Speed matters (logs are
redacted on every run): case-insensitive rules locate their keywords with str.find and only then
run an anchored regex; case-sensitive token rules start with a literal so ``re`` searches them at
C speed. 1 MB of ordinary log text takes about 25 ms of CPU.

Imports nothing from the collection (errors imports this module).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import functools
import re

MASK = "[REDACTED]"

# Key FAMILIES whose value is secret (not a list of known names): a key ending in one of these stems is
# secret whatever its prefix (DB_PASS, X_AUTH, sessionid, oauth). Matched at the END of a key, so
# "tokenizer", "secretName", "password_policy" or "passthrough" survive. A bare "key" is too common in
# Kubernetes (tolerations, selectors, configMapKeyRef) and is secret only with a qualifier (api_key, ...).
_FAMILY = r"pass(?:word|wd|phrase)?|pwd|secret|token|auth|credentials?|cookie|session(?:[_-]?id)?|sessid|private"
_KEY_WORDS = (
    _FAMILY + r"|api[_-]?key|apikey|"
    r"(?:access|secret|private|account|shared[_-]?access|encryption|signing|master|client|session|auth|ssh|tls|"
    r"license|storage)[_.-]?key|client[_-]?key[_-]?data|key[_-]?data"
)

# Words that explain a failure, not values: "passwd: Authentication token manipulation error" keeps its
# explanation. Only an unquoted single word from this set is spared; anything else after "key:" is masked.
_PROSE = frozenset((
    "a", "an", "the", "is", "was", "are", "has", "have", "had", "be", "been", "must", "should", "does", "did",
    "not", "no", "none", "null", "nil", "empty", "unset", "missing", "required", "invalid", "incorrect", "wrong",
    "bad", "denied", "rejected", "refused", "expired", "revoked", "unknown", "failed", "failure", "fail", "error",
    "errors", "cannot", "can't", "unable", "could", "couldn't", "mismatch", "too", "changed", "unchanged",
    "updated", "authentication", "authorization", "manipulation", "for", "of", "in", "on", "to", "from", "with",
    "by", "at", "and", "or", "if", "when", "while", "because", "true", "false", "yes", "ok", "okay", "check",
    "checking", "verify", "verification", "verified", "reading", "read", "loading", "loaded", "found", "set",
    "ignored", "redacted", "hidden", "masked", "omitted", "see", "use", "using", "please", "retry", "retrying",
    "closed", "opened", "started", "ended", "timeout", "timed", "new", "old", "current", "enter", "prompt",
    "unexpected", "unauthorized", "forbidden", "malformed", "mismatched", "unsupported", "status", "request",
    "response", "server", "client", "provided", "supplied", "specified", "configured", "given", "received",
))
# Bare words after "Bearer" that are prose, not a credential ("bearer tokens are rotated").
_BEARER_PROSE = _PROSE | frozenset(("token", "tokens", "auth", "scheme", "realm", "header", "headers",
                                    "credential", "credentials", "authentication", "authorization"))

# A quoted value (JSON/YAML, possibly with escaped quotes inside a log line) or a bare word.
_VALUE = r"(?:\[REDACTED\]|\\\"[^\"\n]*?\\\"|\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'<>)}\]]+)"


# The rest of an assignment after its key word: the key must end there ("tokenizer" is not a token).
_ASSIGN = r"(?![A-Za-z0-9_\-.])(?:\\?[\"'])?[ \t]*[:=][ \t]*)(?P<value>" + _VALUE + r")"


def _mask_value(value):
    """Keep the quoting of a value, mask its content."""
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote + MASK + quote
    return MASK


def _basic(match):
    """Mask ``Basic <base64>`` only when it decodes to ``user:password`` ("Basic authentication" survives)."""
    candidate = match.group(2)
    try:
        decoded = base64.b64decode(candidate + "=" * (-len(candidate) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return match.group(0)
    if ":" in text and text.isprintable():
        return match.group(1) + MASK
    return match.group(0)


def _pem(match):
    return match.group(1) + "\n" + MASK + "\n" + (match.group(2) or "")


def _assignment(match):
    value = match.group("value")
    if value.lower() in _PROSE and value.isalpha():
        return None  # "passwd: Authentication token manipulation error": an explanation, not a value
    return match.group(1) + _mask_value(value)


def _bearer(match):
    if match.group(2).lower() in _BEARER_PROSE:
        return None
    return match.group(1) + MASK


def _env_pair(match):
    """``"name": "DB_PASS", "value": "x"`` inside JSON/YAML text (last-applied-configuration, logs)."""
    if not is_secret_key(match.group("key")):
        return None
    return match.group(0)[:match.start("value") - match.start(0)] + _mask_value(match.group("value"))


_IDENT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")


def _not_a_path(lowered, pos):
    """The key is not the last segment of an image reference or path ("acme/private:1.0", "/etc/secret:ro")."""
    start = pos
    while start > 0 and lowered[start - 1] in _IDENT:
        start -= 1
    return start == 0 or lowered[start - 1] not in "/@"


def _not_kubectl(lowered, pos):
    """``-p`` is a password flag for database clients, but "previous" for kubectl logs."""
    line_start = lowered.rfind("\n", 0, pos) + 1
    before = lowered[max(line_start, pos - 80):pos]
    return "kubectl" not in before and " logs" not in before and (pos == 0 or lowered[pos - 1] in " \t\"'=")


def _url(match):
    return "://" + match.group(1) + ":" + MASK + "@"


# A bare "key" is only secret with a qualifier in front (api_key, AccountKey, client-key-data, ...).
_KEY_QUALIFIERS = tuple(
    word + sep
    for word in ("api", "access", "secret", "private", "account", "sharedaccess", "shared_access", "shared-access",
                 "encryption", "signing", "master", "client", "session", "auth", "storage", "license")
    for sep in ("", "_", "-", "."))


def _qualified_key(lowered, pos):
    return lowered.endswith(_KEY_QUALIFIERS, max(0, pos - 24), pos)


# Characters that may follow a key word in an assignment (quote, space, separator).
_ASSIGN_FOLLOW = ("\"", "'", "\\", " ", "\t", ":", "=")

_NOT_WORD_BEFORE = r"(?<![A-Za-z0-9_])"


def _keep_group1(match):
    """Keep the key or scheme (group 1), mask the rest of the match."""
    return match.group(1) + MASK


class _Rule(object):
    """Find each (lowercase) keyword with str.find, then match ``regex`` anchored at that position.

    str.find is an order of magnitude faster than letting ``re`` scan 1 MB for a case-insensitive
    alternation, and ordinary logs contain few keyword hits. ``replace(match)`` returns the new text
    for the match, or None to leave it.
    """

    __slots__ = ("keywords", "regex", "replace", "precheck", "follow")

    def __init__(self, keywords, regex, replace, precheck=None, follow=None):
        self.keywords = keywords
        self.precheck = precheck
        self.follow = follow
        self.regex = re.compile(regex)
        self.replace = replace if callable(replace) else (lambda m, _text=replace: _text)

    def _positions(self, lowered):
        follow = self.follow
        positions = []
        for keyword in self.keywords:
            size = len(keyword)
            found = lowered.find(keyword)
            while found != -1:
                # Cheap rejection of "token_count"/"tokenizer" before any regex or call.
                if follow is None or lowered[found + size:found + size + 1] in follow:
                    positions.append(found)
                found = lowered.find(keyword, found + 1)
        if len(self.keywords) > 1:
            positions.sort()
        return positions

    def apply(self, text, lowered):
        pieces = []
        last = 0
        precheck = self.precheck
        for pos in self._positions(lowered):
            if pos < last or (precheck is not None and not precheck(lowered, pos)):
                continue
            match = self.regex.match(text, pos)
            if match is None:
                continue
            replacement = self.replace(match)
            if replacement is None:
                continue
            pieces.append(text[last:match.start()])
            pieces.append(replacement)
            last = match.end()
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)


class _Scan(object):
    """A case-sensitive rule whose regex starts with a literal, so ``re`` searches it at C speed.

    Word boundaries are checked here (a leading lookbehind would disable re's literal-prefix search).
    """

    __slots__ = ("regex", "replace", "bounded", "trigger")

    def __init__(self, regex, replace, trigger, bounded=True):
        # trigger: a lower-case regex every match contains (in the lowered text); see _TRIGGER.
        self.trigger = trigger
        self.regex = re.compile(regex)
        self.replace = replace if callable(replace) else (lambda m, _text=replace: _text)
        self.bounded = bounded

    def apply(self, text, lowered):
        pieces = []
        last = 0
        for match in self.regex.finditer(text):
            start = match.start()
            if self.bounded and start and (text[start - 1].isalnum() or text[start - 1] in "_-"):
                continue
            replacement = self.replace(match)
            if replacement is None:
                continue
            pieces.append(text[last:start])
            pieces.append(replacement)
            last = match.end()
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)


# Order matters: whole blocks and headers before generic assignments, so a header's scheme
# ("Bearer") is kept rather than masked as a value.
_RULES = (
    # PEM private keys (multi-line); a key cut off by a log tail is masked to the end of the text.
    _Scan(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", _pem, "-----begin",
          bounded=False),
    # Authorization headers: keep the header name and scheme, mask the credentials.
    _Rule(("authorization",),
          r"(?i)(authorization(?:\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?(?:(?:bearer|basic|token|digest|negotiate|"
          r"apikey|sso-key|aws4-hmac-sha256)[ \t]+)?)(\[REDACTED\]|[^\s\"',;\\]+)", _keep_group1),
    # A bare "Bearer <token>", digits or not; prose after it ("bearer tokens are ...") stays.
    _Rule(("bearer",), r"(?i)" + _NOT_WORD_BEFORE + r"(bearer[ \t]+)([A-Za-z0-9\-._~+/]{3,}=*)(?![A-Za-z0-9\-._~+/=])",
          _bearer),
    _Rule(("basic",), r"(?i)" + _NOT_WORD_BEFORE + r"(basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", _basic),
    _Rule(("cookie",), r"(?i)(cookie[ \t]*:[ \t]*)(\S[^\n]*)", _keep_group1),
    # JSON Web Tokens (service-account tokens, OIDC id-tokens).
    _Scan(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", MASK, "eyj"),
    # Cloud and SaaS tokens with a recognisable prefix.
    _Scan(r"A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])", MASK,
          "a(?:kia|sia|gpa|ida|roa|ipa|npa|nva|bia|cca)"),
    _Scan(r"gh[pousr]_[A-Za-z0-9]{30,255}", MASK, "gh[pousr]_"),
    _Scan(r"github_pat_[A-Za-z0-9_]{22,255}", MASK, "github_pat_"),
    _Scan(r"gl(?:pat|rt|dt|ptt|oas|soat|cbt)-[A-Za-z0-9_\-]{20,}", MASK, "gl(?:pat|rt|dt|ptt|oas|soat|cbt)-"),
    _Scan(r"xox[abposr]-[A-Za-z0-9-]{10,}", MASK, "xox[abposr]-"),
    _Scan(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+", _keep_group1, r"hooks\.slack\.com/services/",
          bounded=False),
    _Scan(r"AIza[0-9A-Za-z_\-]{35}", MASK, "aiza"),
    _Scan(r"ya29\.[0-9A-Za-z_\-]{20,}", MASK, r"ya29\."),
    _Scan(r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}", MASK, "sk-"),
    _Rule(("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
          _NOT_WORD_BEFORE + r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", MASK),
    _Scan(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", MASK, "npm_"),
    # Credentials in URLs: scheme://user:password@host (user kept; redis://:password@host too).
    _Scan(r"://([^/\s:@\"']{0,256}):([^/\s@\"']{1,256})@", _url, "://", bounded=False),
    # CLI flags: --password xyz / --pass x / --db-password=xyz / --auth-token abc; "-p x" (database clients).
    _Rule(("--",), r"(?i)(--(?:[a-z0-9]+-)*(?:" + _FAMILY + r"|api-key|private-key)"
                   r"(?:[ \t]+|=))(?!-)(" + _VALUE + r")", _keep_group1),
    _Rule(("-p ", "-p\t"), r"(-p[ \t]+)(?!-)(" + _VALUE + r")", _keep_group1, precheck=_not_kubectl),
    # Container env written as text (JSON in last-applied-configuration, YAML): the value of a secret-named var.
    _Scan(r"name(?:\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?(?P<key>[A-Za-z0-9_.\-]+)(?:\\?[\"'])?[ \t]*,?[ \t]*"
          r"(?:\r?\n[ \t]*)?(?:\\?[\"'])?value(?:\\?[\"'])?[ \t]*[:=][ \t]*(?P<value>" + _VALUE + r")", _env_pair,
          "value"),
    # Generic assignments by key family: password=.., DB_PASS=.., X_AUTH: .., "token": "..", sessionid=..;
    # connection strings (Password=..;) and kubeconfig fields (client-key-data:, token:, id-token:).
    _Rule(("pass", "pwd", "secret", "token", "credential", "auth", "cookie", "session", "sessid", "private"),
          r"(?i)((?:" + _FAMILY + r")" + _ASSIGN, _assignment, precheck=_not_a_path,
          follow=_ASSIGN_FOLLOW + ("w", "p", "i", "_", "-", "s")),
    _Rule(("key", "key_data", "key-data", "keydata"), r"(?i)((?:key(?:[_-]?data)?)" + _ASSIGN, _assignment,
          precheck=_qualified_key, follow=_ASSIGN_FOLLOW),
)

# Every rule changes text only where its trigger occurs in the lowered text (a _Rule's keywords, a _Scan's
# literal): one C-level search skips all the rules for the strings that cannot hold a secret, which is most
# strings of a Kubernetes object (names, uids, timestamps, images).
_TRIGGER = re.compile("|".join(
    rule.trigger if isinstance(rule, _Scan) else "|".join(re.escape(keyword) for keyword in rule.keywords)
    for rule in _RULES))

# ASCII-only lowering keeps positions aligned when str.lower() changes a string's length ("İ").
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def compile_patterns(patterns):
    """Compile user-supplied regular expressions for ``extra_patterns``.

    A pattern with capture groups masks only its first group (keep the key, mask the value);
    without groups the whole match is masked. Raises ValueError naming the bad pattern.
    """
    compiled = []
    for pattern in patterns or ():
        if hasattr(pattern, "sub"):
            compiled.append(pattern)
            continue
        try:
            compiled.append(re.compile(pattern))
        except (re.error, TypeError) as exc:
            raise ValueError("Invalid redaction pattern %r: %s; fix or remove it" % (pattern, exc))
    return compiled


def _extra_sub(regex):
    def replace(match):
        if regex.groups:
            start, end = match.span(1)
            if start < 0:
                return match.group(0)
            base = match.start(0)
            whole = match.group(0)
            return whole[:start - base] + MASK + whole[end - base:]
        return MASK
    return replace


def redact(text, extra_patterns=None):
    """Return ``text`` with credentials, tokens and keys masked as ``[REDACTED]``.

    ``extra_patterns``: regex strings or compiled patterns (see compile_patterns) for site-specific secrets.
    Non-strings are returned unchanged.
    """
    if not isinstance(text, str) or not text:
        return text
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.translate(_ASCII_LOWER)
    for rule in _RULES if _TRIGGER.search(lowered) else ():
        # Keyword positions come from ``lowered``: refresh it whenever a rule changed the text.
        new_text = rule.apply(text, lowered)
        if new_text is not text:
            text = new_text
            lowered = text.lower()
            if len(lowered) != len(text):
                lowered = text.translate(_ASCII_LOWER)
    for regex in compile_patterns(extra_patterns):
        text = regex.sub(_extra_sub(regex), text)
    return text


# Keys whose (scalar) value is secret in structured data. Also matched at the end of the key.
_SECRET_KEY = re.compile(r"(?i)(?:" + _KEY_WORDS + r"|authorization|dsn|connection[_-]?string)$")
# Keys that look secret but name things, not values (pod specs say secretName: db-creds).
_SAFE_KEY = re.compile(r"(?i)(?:name|ref|path|file|type|count|length|policy|seconds|mode|enabled|provider)$")

# Never useful downstream and full of secrets: kubectl's copy of the applied object (env values in clear)
# and server-side-apply bookkeeping. They never reach a result, record, sink, AI input or console.
DROPPED_KEYS = frozenset(("managedFields", "kubectl.kubernetes.io/last-applied-configuration"))


def is_secret_key(key):
    """True when a mapping key names a secret value by its family ("DB_PASS", "X_AUTH", "apiKey", "sessionid")."""
    if not isinstance(key, str):
        return False
    compact = key.replace(" ", "")
    return bool(_SECRET_KEY.search(compact)) and not _SAFE_KEY.search(compact)


@functools.lru_cache(maxsize=4096)
def _secret_key_cached(key):
    """is_secret_key for the keys of structured data, which repeat in every object of a list."""
    return is_secret_key(key)


def redact_obj(obj, extra_patterns=None):
    """Deep copy of ``obj`` with every string redacted and scalar values of secret-named keys masked.

    Lists of ``{"name": "DB_PASS", "value": ".."}`` (container env) mask the value too; ``managedFields``
    and the last-applied-configuration annotation are dropped (see DROPPED_KEYS).
    Nested dicts under a secret-named key are walked, not dropped: ``secret: {secretName: x}`` in a pod
    spec stays readable.
    """
    patterns = compile_patterns(extra_patterns)
    return _walk(obj, patterns, {})


def _walk(obj, patterns, seen):
    """``seen`` maps each string already redacted in this call to its result: objects repeat the same
    names, images, timestamps and messages many times, and redact() is deterministic for fixed patterns."""
    if isinstance(obj, str):
        if type(obj) is not str:  # pylint: disable=unidiomatic-typecheck
            # ansible-core 2.19's tagged strings (origin, trust): never hand one string's tags to an equal one.
            return redact(obj, patterns)
        done = seen.get(obj)
        if done is None:
            done = seen[obj] = redact(obj, patterns)
        return done
    if isinstance(obj, dict):
        out = {}
        name = obj.get("name")
        env_secret = "value" in obj and isinstance(name, str) and _secret_key_cached(name)
        for key, value in obj.items():
            if key in DROPPED_KEYS:
                continue
            secret = (isinstance(key, str) and _secret_key_cached(key)) or (env_secret and key == "value")
            if secret and _is_scalar(value):
                out[key] = MASK if value not in (None, "") else value
            else:
                out[key] = _walk(value, patterns, seen)
        return out
    # Plain list/tuple, never type(obj)(...): ansible-core 2.19 hands filters lazy list subclasses that
    # refuse direct construction ("Direct construction of lazy containers is not supported").
    if isinstance(obj, list):
        return [_walk(item, patterns, seen) for item in obj]
    if isinstance(obj, tuple):
        return tuple(_walk(item, patterns, seen) for item in obj)
    return obj


def _is_scalar(value):
    return isinstance(value, (str, bytes, int, float)) and not isinstance(value, bool)
