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
import re

MASK = "[REDACTED]"

# Endings of assignment keys whose value is secret. Matched at the END of a key, so "tokenizer",
# "secretName" or "password_policy" survive while "DB_PASSWORD" or "access_token" do not.
_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|auth[_-]?key|"
    r"(?:access|secret|private|account|shared[_-]?access|encryption|signing|master|client|session)[_-]?key|"
    r"client[_-]?key[_-]?data|credentials?|private[_-]?key"
)

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
    return match.group(1) + _mask_value(match.group("value"))


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

    __slots__ = ("regex", "replace", "bounded")

    def __init__(self, regex, replace, bounded=True):
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
    _Scan(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", _pem,
          bounded=False),
    # Authorization headers: keep the header name and scheme, mask the credentials.
    _Rule(("authorization",),
          r"(?i)(authorization(?:\\?[\"'])?[ \t]*[:=][ \t]*(?:\\?[\"'])?(?:(?:bearer|basic|token|digest|negotiate|"
          r"apikey|sso-key|aws4-hmac-sha256)[ \t]+)?)(\[REDACTED\]|[^\s\"',;\\]+)", _keep_group1),
    _Rule(("bearer",), r"(?i)" + _NOT_WORD_BEFORE + r"(bearer[ \t]+)(?=[A-Za-z\-._~+/]*[0-9])([A-Za-z0-9\-._~+/]{8,}=*)",
          _keep_group1),
    _Rule(("basic",), r"(?i)" + _NOT_WORD_BEFORE + r"(basic[ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])", _basic),
    _Rule(("cookie",), r"(?i)(cookie[ \t]*:[ \t]*)(\S[^\n]*)", _keep_group1),
    # JSON Web Tokens (service-account tokens, OIDC id-tokens).
    _Scan(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", MASK),
    # Cloud and SaaS tokens with a recognisable prefix.
    _Scan(r"A(?:KIA|SIA|GPA|IDA|ROA|IPA|NPA|NVA|BIA|CCA)[A-Z0-9]{16}(?![A-Za-z0-9])", MASK),
    _Scan(r"gh[pousr]_[A-Za-z0-9]{30,255}", MASK),
    _Scan(r"github_pat_[A-Za-z0-9_]{22,255}", MASK),
    _Scan(r"gl(?:pat|rt|dt|ptt|oas|soat|cbt)-[A-Za-z0-9_\-]{20,}", MASK),
    _Scan(r"xox[abposr]-[A-Za-z0-9-]{10,}", MASK),
    _Scan(r"(hooks\.slack\.com/services/)[A-Za-z0-9/_-]+", _keep_group1, bounded=False),
    _Scan(r"AIza[0-9A-Za-z_\-]{35}", MASK),
    _Scan(r"ya29\.[0-9A-Za-z_\-]{20,}", MASK),
    _Scan(r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}", MASK),
    _Rule(("sk_live_", "sk_test_", "rk_live_", "rk_test_"),
          _NOT_WORD_BEFORE + r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", MASK),
    _Scan(r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])", MASK),
    # Credentials in URLs: scheme://user:password@host (user kept; redis://:password@host too).
    _Scan(r"://([^/\s:@\"']{0,256}):([^/\s@\"']{1,256})@", _url, bounded=False),
    # CLI flags: --password xyz / --db-password=xyz / --token abc.
    _Rule(("--",), r"(?i)(--(?:[a-z0-9]+-)*(?:password|passwd|token|secret|api-key|client-secret)(?:[ \t]+|=))"
                   r"(?!-)(" + _VALUE + r")", _keep_group1),
    # Generic assignments: password=.., passwd: .., "token": "..", DB_PASSWORD=.., AccountKey=..;
    # connection strings (Password=..;) and kubeconfig fields (client-key-data:, token:, id-token:).
    _Rule(("password", "passwd", "passphrase", "pwd", "secret", "token", "credential", "credentials"),
          r"(?i)((?:password|passwd|passphrase|pwd|secret|token|credentials?)" + _ASSIGN, _assignment,
          follow=_ASSIGN_FOLLOW),
    _Rule(("key", "key_data", "key-data", "keydata"), r"(?i)((?:key(?:[_-]?data)?)" + _ASSIGN, _assignment,
          precheck=_qualified_key, follow=_ASSIGN_FOLLOW),
)

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
    for rule in _RULES:
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
_SECRET_KEY = re.compile(r"(?i)(?:" + _KEY_WORDS + r"|authorization|cookie|api[_-]?token|dsn|"
                         r"connection[_-]?string)$")
# Keys that look secret but name things, not values (pod specs say secretName: db-creds).
_SAFE_KEY = re.compile(r"(?i)(?:name|ref|path|file|type|count|length|policy|id)$")


def is_secret_key(key):
    """True when a mapping key names a secret value ("password", "apiKey", "Authorization", ...)."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key.replace(" ", ""))) and not _SAFE_KEY.search(key)


def redact_obj(obj, extra_patterns=None):
    """Deep copy of ``obj`` with every string redacted and scalar values of secret-named keys masked.

    Lists of ``{"name": "DB_PASSWORD", "value": ".."}`` (container env) mask the value too.
    Nested dicts under a secret-named key are walked, not dropped: ``secret: {secretName: x}`` in a pod
    spec stays readable.
    """
    patterns = compile_patterns(extra_patterns)
    return _walk(obj, patterns)


def _walk(obj, patterns):
    if isinstance(obj, str):
        return redact(obj, patterns)
    if isinstance(obj, dict):
        out = {}
        env_secret = is_secret_key(obj.get("name")) and "value" in obj
        for key, value in obj.items():
            if (is_secret_key(key) or (env_secret and key == "value")) and _is_scalar(value):
                out[key] = MASK if value not in (None, "") else value
            else:
                out[key] = _walk(value, patterns)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_walk(item, patterns) for item in obj) if isinstance(obj, list) else \
            tuple(_walk(item, patterns) for item in obj)
    return obj


def _is_scalar(value):
    return isinstance(value, (str, bytes, int, float)) and not isinstance(value, bool)
