# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities: the one parser and the human formats.

``kubernetes.utils.parse_quantity`` implements the same grammar, but importing it loads the whole
kubernetes client (~0.4 s), which the offline (dump) path and the module payloads must not pay. This
follows the apimachinery grammar exactly (binary/decimal SI suffixes and decimal exponents such as
``1e3``), computes with Decimal, and returns None instead of raising on anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import decimal
import re

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"), "m": decimal.Decimal("1e-3"), "": 1,
            "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
                       r"(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|n|u|m|k|M|G|T|P|E)?$")
_MI = 2 ** 20
_GI = 2 ** 30


def parse_decimal(value):
    """Decimal value of a quantity (``"1.5Gi"``, ``"250m"``, ``"1e3"``, 134217728); None when invalid."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return None
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value.strip())
    if not match:
        return None
    number, suffix = decimal.Decimal(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * decimal.Decimal(_DECIMAL[suffix])
    try:
        return number.scaleb(int(suffix[1:]))
    except (ValueError, decimal.InvalidOperation):
        return None


def parse_quantity(value):
    """Float of a quantity (bytes for memory, cores for CPU); None when unparseable."""
    parsed = parse_decimal(value)
    if parsed is None:
        return None
    try:
        return float(parsed)
    except (OverflowError, ValueError):
        return None


def format_memory(num_bytes):
    """Bytes as people write a limit: whole Gi when exact, else Mi rounded up (``384Mi``, ``2Gi``)."""
    num_bytes = int(num_bytes)
    if num_bytes and num_bytes % _GI == 0:
        return "%dGi" % (num_bytes // _GI)
    return "%dMi" % -(-num_bytes // _MI)


def human_bytes(value):
    """A quantity or byte count for reading: ``1.4Gi``, ``126Mi``, ``512Ki``, ``900B``; the input when unparseable."""
    number = parse_quantity(value)
    if number is None:
        return value
    sign = "-" if number < 0 else ""
    number = abs(number)
    for suffix, factor in (("Ei", 2 ** 60), ("Pi", 2 ** 50), ("Ti", 2 ** 40), ("Gi", _GI), ("Mi", _MI),
                           ("Ki", 2 ** 10)):
        if number >= factor:
            scaled = number / factor
            text = ("%.1f" % scaled).rstrip("0").rstrip(".") if scaled < 10 else "%d" % round(scaled)
            return "%s%s%s" % (sign, text, suffix)
    return "%s%dB" % (sign, round(number))


def human_cpu(value):
    """CPU for reading: ``250m``, ``1.5`` cores; the input when unparseable."""
    number = parse_quantity(value)
    if number is None:
        return value
    if abs(number) < 1:
        return "%dm" % round(number * 1000)
    return ("%.2f" % number).rstrip("0").rstrip(".")


def percent(part, whole):
    """Whole-number percentage of two quantities; None when either is unknown or whole is zero."""
    used, total = parse_quantity(part), parse_quantity(whole)
    if used is None or not total:
        return None
    return int(round(100.0 * used / total))
