# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Escaping of cluster-provided text for the Markdown reports and records.

Event messages, log lines, annotations and names come from whoever can write to the cluster. Rendered raw,
a message could add a link, an image, an HTML tag or a table row to a report an auditor trusts. These
helpers keep such text literal: Markdown punctuation is backslash-escaped, HTML is entity-escaped, and in
table cells and list items line breaks become spaces so one value cannot start a new row or heading.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# Characters CommonMark treats as punctuation that can start markup inline. `.`, `-`, `+`, `!`, `(`, `)` only
# matter at a line start (lists, headings) or after `]`; escaping them everywhere would make plain prose
# unreadable in the raw file, so they are handled by _LINE_START below instead.
_INLINE = re.compile(r"([\\`*_\[\]{}|~])")
_LINE_START = re.compile(r"^(\s*)([#>+\-=])", re.MULTILINE)
_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)
_BREAKS = re.compile(r"[\r\n\u2028\u2029]+\s*")


def _text(value):
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def md_escape(value):
    """Text shown literally in Markdown: markup punctuation escaped, HTML tags as entities, lines kept."""
    text = _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return _ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def md_inline(value):
    """md_escape on one line: for table cells, list items and headings (line breaks become spaces)."""
    return md_escape(_BREAKS.sub(" ", _text(value)).strip())


def md_code(value):
    """Text inside an inline code span: a backtick fence longer than any backtick run in the value."""
    text = _BREAKS.sub(" ", _text(value)).strip()
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)
