# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one time parser and the one timestamp format of the collection.

Every stage reads Kubernetes timestamps (RFC 3339, fractions up to nanoseconds) and writes UTC with a
trailing ``Z``; keeping both here means a record, a plan and a diagnosis always agree on an instant.
Pure functions; the clock is passed in by callers that need "now" (``utcnow`` is for the edges only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

UTC = datetime.timezone.utc


def utcnow():
    """The wall clock in UTC (call at the edges only; decision code takes ``now`` as an argument)."""
    return datetime.datetime.now(UTC)


def parse_time(value):
    """Aware datetime from RFC 3339 / ISO 8601 text or a datetime; None when missing or unparseable.

    Accepts ``Z``/``z`` or an offset, a space instead of ``T`` and fractions of any length (Kubernetes
    writes nanoseconds; Python before 3.11 takes at most 6 digits). Naive values are taken as UTC.
    Evidence is messy: a bad timestamp must give "unknown", never an exception.
    """
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) > 10 and text[10] == " ":
        text = text[:10] + "T" + text[11:]
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _dot, rest = text.partition(".")
        digits = ""
        for char in rest:
            if not char.isdigit():
                break
            digits += char
        text = head + "." + digits[:6].ljust(6, "0") + rest[len(digits):]
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def isoformat(when, micro=False):
    """``2026-11-25T19:00:00Z`` for a datetime or timestamp text; None stays None.

    Whole seconds unless ``micro`` (records keep sub-second durations as numbers, not in timestamps).
    Text that does not parse is returned unchanged, so a caller never loses what it was given.
    """
    if when is None:
        return None
    parsed = parse_time(when)
    if parsed is None:
        return when if isinstance(when, str) else None
    parsed = parsed.astimezone(UTC)
    if not micro:
        parsed = parsed.replace(microsecond=0)
    text = parsed.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def compact(when):
    """``20261125190000``: the UTC stamp inside operation and record ids."""
    return parse_time(when).astimezone(UTC).strftime("%Y%m%d%H%M%S")


def age_seconds(timestamp, as_of):
    """Seconds from ``timestamp`` (text or datetime) to ``as_of``; None when either is unknown."""
    when = parse_time(timestamp)
    now = parse_time(as_of)
    if when is None or now is None:
        return None
    return (now - when).total_seconds()


def seconds_between(start, end):
    """Seconds from start to end, rounded to milliseconds; None if either is unknown."""
    seconds = age_seconds(start, end)
    return None if seconds is None else round(seconds, 3)


def human_duration(seconds):
    """42s, 4m 12s, 2h 05m, 3d 04h; "n/a" when unknown."""
    if seconds is None:
        return "n/a"
    sign = "-" if seconds < 0 else ""
    total = int(round(abs(seconds)))
    if total < 60:
        return "%s%ds" % (sign, total)
    if total < 3600:
        return "%s%dm %02ds" % (sign, total // 60, total % 60)
    if total < 86400:
        return "%s%dh %02dm" % (sign, total // 3600, (total % 3600) // 60)
    return "%s%dd %02dh" % (sign, total // 86400, (total % 86400) // 3600)
