#!/usr/bin/env python
"""Generate docs/reference from the collection's own documentation.

Modules and plugins come from ansible-doc (one process for every plugin type), roles from
roles/*/meta/argument_specs.yml, playbooks from their leading comment block and the variables they
read. Pages are rendered with the Jinja2 templates in templates/docs/. Output is deterministic (sorted,
no timestamps, no absolute paths) so CI can regenerate and compare byte for byte:

    scripts/gen_docs.py                 # write docs/reference
    scripts/gen_docs.py --check         # exit 1 and list the stale files, write nothing
    scripts/gen_docs.py --output DIR    # write (or --check) another directory

Why not antsibull-docs itself: it renders reStructuredText for a Sphinx site, and documents neither
playbooks (this collection's main entry points) nor the variables they read; docs/reference is Markdown
that GitHub and Automation Hub readers open directly. The part antsibull does serve, parsing Ansible
markup, comes from its parser library (antsibull-docs-parser); only the page layout is ours.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import jinja2.nodes
import yaml
from antsibull_docs_parser.format import Formatter, LinkProvider, format_paragraphs
from antsibull_docs_parser.parser import Context, parse

ROOT = Path(__file__).resolve().parent.parent
COLLECTION = "aiops.k8s"
TEMPLATE_DIR = ROOT / "templates" / "docs"
DEFAULT_OUTPUT = ROOT / "docs" / "reference"

# ansible-doc plugin types we publish, and the folder each goes to under docs/reference.
PLUGIN_TYPES = ("module", "callback", "filter", "inventory", "lookup", "test", "connection", "become",
                "cache", "strategy", "vars")
SECTIONS = {"module": "modules", "role": "roles", "playbook": "playbooks"}

# Variables a playbook can read without anyone passing them (Ansible magic and connection vars).
_MAGIC_VARS = {
    "ansible_check_mode", "ansible_diff_mode", "ansible_play_hosts", "ansible_play_batch", "ansible_facts",
    "ansible_playbook_python", "ansible_version", "ansible_run_tags", "ansible_skip_tags", "ansible_loop",
    "ansible_loop_var", "ansible_index_var", "ansible_parent_role_names", "ansible_role_name",
    "ansible_collection_name", "ansible_play_name", "ansible_config_file", "ansible_forks",
    "ansible_inventory_sources", "ansible_limit", "ansible_verbosity", "ansible_local",
    "group_names", "groups", "hostvars", "inventory_hostname", "inventory_hostname_short", "inventory_dir",
    "inventory_file", "omit", "ansible_failed_result", "ansible_failed_task", "play_hosts", "playbook_dir", "role_name", "role_path", "item",
    "ansible_play_role_names", "ansible_role_names", "ansible_dependent_role_names", "lookup", "query", "q",
    "now", "range", "dict", "lipsum", "cycler", "joiner", "undef", "true", "false", "none",
    "True", "False", "None",
}
# Keys whose string value is a bare Jinja expression rather than a template.
_CONDITIONAL_KEYS = {"when", "that", "failed_when", "changed_when", "until"}


class DocsError(Exception):
    """A problem the user must fix before docs can be generated (one line)."""


# --------------------------------------------------------------------------------------------------
# Ansible markup -> Markdown


class _Links(LinkProvider):
    """Links to the pages this run generates (``pages``: (type, fqcn) -> path under the output root)."""

    def __init__(self, pages, here):
        self.pages, self.here = pages, here

    def plugin_link(self, plugin):
        return _page_link(plugin.fqcn, plugin.type, self.pages, self.here)

    def plugin_option_like_link(self, plugin, entrypoint, what, name, current_plugin):
        return None if current_plugin else _page_link(plugin.fqcn, plugin.type, self.pages, self.here)


class _Markdown(Formatter):
    """GitHub-readable Markdown: backticks for code, links only to pages that exist, plain text left as
    written (the library's own MDFormatter escapes every punctuation mark, which makes the raw files hard
    to read in a diff)."""

    @staticmethod
    def _linked(label, url):
        return "[%s](%s)" % (label, url) if url else label

    def _option_like(self, part, url):
        text = "`%s`" % (part.name if part.value is None else "%s=%s" % (part.name, part.value))
        if part.plugin is None:  # an option of the page's own plugin
            return text
        return "%s of %s" % (text, self._linked("`%s`" % part.plugin.fqcn, url))

    def format_error(self, part):
        raise DocsError("Ansible markup error: %s" % part.message)

    def format_bold(self, part):
        return "**%s**" % part.text

    def format_code(self, part):
        return "`%s`" % part.text

    def format_horizontal_line(self, part):
        return "\n\n---\n\n"

    def format_italic(self, part):
        return "*%s*" % part.text

    def format_link(self, part):
        return "[%s](%s)" % (part.text, part.url)

    def format_module(self, part, url):
        return self._linked("`%s`" % part.fqcn, url)

    def format_rst_ref(self, part):
        return part.text

    def format_url(self, part):
        return "<%s>" % part.url

    def format_text(self, part):
        return part.text

    def format_env_variable(self, part):
        return "`%s`" % part.name

    def format_option_name(self, part, url):
        return self._option_like(part, url)

    def format_option_value(self, part):
        return "`%s`" % part.value

    def format_plugin(self, part, url):
        return self._linked("`%s`" % part.plugin.fqcn, url)

    def format_return_value(self, part, url):
        return self._option_like(part, url)


def _page_link(fqcn, plugin_type, pages, here):
    """Relative Markdown link to a generated page, or None when there is no such page."""
    target = pages.get((plugin_type, fqcn))
    if target is None:
        return None
    return os.path.relpath(target, os.path.dirname(here) or ".").replace(os.sep, "/")


def markup(text, pages=None, here=""):
    """Convert Ansible doc markup (C(), O(), M(), P(), L(), ...) to Markdown.

    antsibull-docs-parser does the parsing (escapes, nesting, semantic markup, errors); this file only
    chooses the Markdown. ``pages`` maps (type, fqcn) to a page path relative to the output root, so
    M()/P()/O() references to the collection's own plugins become relative links from ``here``.
    """
    if text is None:
        return ""
    paragraphs = [str(part) for part in text] if isinstance(text, (list, tuple)) else [str(text)]
    try:
        parsed = parse(paragraphs, Context(), errors="exception")
    except ValueError as exc:
        raise DocsError("Ansible markup error in %r: %s" % (paragraphs[0][:80], exc))
    # The library's paragraph post-processing strips and joins lines, which a Markdown table cell wants.
    return format_paragraphs(parsed, formatter=_Markdown(), link_provider=_Links(pages or {}, here),
                             par_start="", par_end="", par_sep="\n\n", par_empty="",
                             postprocess_paragraph=lambda par: par.strip()).strip()


def cell(text):
    """Make Markdown safe inside one table cell: no newlines, pipes escaped."""
    text = str(text).strip()
    text = re.sub(r"\n\s*\n", "<br>", text)
    return text.replace("\n", " ").replace("|", "\\|")


def literal(value):
    """A default/sample/choice value as it would be written in YAML, compact and stable."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------------------------------
# Options and return values (nested) -> flat rows


def option_rows(options, pages=None, here="", prefix="", depth=0):
    """Flatten options (with suboptions, any depth) into sorted table rows."""
    rows = []
    for name in sorted(options or {}):
        spec = options[name] or {}
        path = prefix + name
        notes = []
        if spec.get("aliases"):
            notes.append("Aliases: %s." % ", ".join("`%s`" % a for a in spec["aliases"]))
        for env in spec.get("env") or []:
            notes.append("Environment: `%s`." % env.get("name"))
        for ini in spec.get("ini") or []:
            notes.append("ini: `[%s] %s`." % (ini.get("section"), ini.get("key")))
        for var in spec.get("vars") or []:
            notes.append("Variable: `%s`." % var.get("name"))
        if spec.get("no_log"):
            notes.append("Never logged.")
        if spec.get("version_added"):
            notes.append("Added in %s." % spec["version_added"])
        ptype = spec.get("type") or "str"
        if spec.get("elements"):
            ptype = "%s / elements=%s" % (ptype, spec["elements"])
        description = markup(spec.get("description"), pages, here)
        if notes:
            description = (description + "\n\n" if description else "") + " ".join(notes)
        rows.append({
            "name": path,
            "depth": depth,
            "type": ptype,
            "required": bool(spec.get("required")),
            "default": literal(spec["default"]) if "default" in spec and spec["default"] is not None else "",
            "choices": [literal(choice) for choice in (spec.get("choices") or [])],
            "description": description,
        })
        sub = spec.get("suboptions") or spec.get("options")
        if sub:
            rows.extend(option_rows(sub, pages, here, path + ".", depth + 1))
    return rows


def return_rows(returns, pages=None, here="", prefix="", depth=0):
    """Flatten return values (``contains`` at any depth) into sorted table rows."""
    rows = []
    for name in sorted(returns or {}):
        spec = returns[name] or {}
        path = prefix + name
        sample = ""
        if "sample" in spec and spec["sample"] is not None:
            sample = literal(spec["sample"])
            if len(sample) > 120:  # long samples bloat the table; the module page has the examples
                sample = ""
        ptype = spec.get("type") or ""
        if spec.get("elements"):
            ptype = "%s / elements=%s" % (ptype, spec["elements"])
        rows.append({
            "name": path,
            "depth": depth,
            "type": ptype,
            "returned": markup(spec.get("returned"), pages, here),
            "description": markup(spec.get("description"), pages, here),
            "sample": sample,
        })
        if spec.get("contains"):
            rows.extend(return_rows(spec["contains"], pages, here, path + ".", depth + 1))
    return rows


# --------------------------------------------------------------------------------------------------
# Collecting: ansible-doc, roles, playbooks


def ansible_doc_binary():
    """ansible-doc next to the running interpreter (the venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "ansible-doc"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("ansible-doc")
    if not found:
        raise DocsError("ansible-doc not found: run make setup (or activate .venv) first")
    return found


def run_ansible_doc(root=ROOT):
    """One ansible-doc call for every plugin type of the collection: {type: {fqcn: entry}}."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(root / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_DEPRECATION_WARNINGS="0")
    cmd = [ansible_doc_binary(), "--metadata-dump", "--no-fail-on-errors", COLLECTION]
    proc = subprocess.run(cmd, cwd=str(root), env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise DocsError("ansible-doc failed (exit %d): %s" % (proc.returncode, last))
    try:
        dump = json.loads(proc.stdout)["all"]
    except (ValueError, KeyError) as exc:
        raise DocsError("ansible-doc returned unreadable JSON: %s" % exc)
    return {ptype: dump.get(ptype) or {} for ptype in PLUGIN_TYPES}


def plugin_entries(dump):
    """Validate the ansible-doc dump: a plugin whose documentation does not parse stops generation."""
    broken = []
    entries = []
    for ptype in PLUGIN_TYPES:
        for fqcn in sorted(dump.get(ptype) or {}):
            if not fqcn.startswith(COLLECTION + "."):
                continue
            entry = dump[ptype][fqcn] or {}
            if entry.get("error") or not entry.get("doc"):
                reason = " ".join((entry.get("error") or "no documentation").split())
                broken.append("%s %s: %s" % (ptype, fqcn, reason))
                continue
            entries.append((ptype, fqcn, entry))
    if broken:
        raise DocsError("cannot document %d plugin(s); fix their DOCUMENTATION: %s"
                        % (len(broken), " | ".join(broken)))
    return entries


def load_roles(root=ROOT):
    """[(role name, argument_specs dict)] read from roles/*/meta/argument_specs.yml."""
    roles = []
    for spec_file in sorted((root / "roles").glob("*/meta/argument_specs.y*ml")):
        name = spec_file.parent.parent.name
        try:
            data = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise DocsError("%s is not valid YAML: %s" % (spec_file.relative_to(root), str(exc).splitlines()[0]))
        roles.append((name, data.get("argument_specs") or {}))
    return roles


def header_comment(text):
    """The leading comment block of a YAML file, without the '# ' markers (blank comment lines kept)."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("---", "") and not lines:
            continue
        if not stripped.startswith("#"):
            break
        body = stripped[1:]
        lines.append(body[1:] if body.startswith(" ") else body)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_header(lines):
    """Header lines -> prose paragraphs and command examples (lines that run ansible-playbook etc.).

    Example blocks are the indented lines (two spaces or more) of the header, which is how every
    playbook writes its command lines; everything else is prose.
    """
    blocks = []
    for line in lines:
        kind = "code" if line.startswith("  ") else ("blank" if not line.strip() else "text")
        if kind == "blank":
            blocks.append(("blank", ""))
        elif blocks and blocks[-1][0] == kind:
            blocks[-1] = (kind, blocks[-1][1] + "\n" + line)
        else:
            blocks.append((kind, line))
    out = []
    for kind, body in blocks:
        if kind == "code":
            out.append({"kind": "code", "text": _dedent(body)})
        elif kind == "text":
            out.append({"kind": "text", "text": body})
    return out


def _dedent(text):
    lines = text.split("\n")
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


def _walk(node, key=None):
    """Yield (key, string) for every string in a YAML tree, with the key that holds it."""
    if isinstance(node, dict):
        for sub_key, value in node.items():
            yield from _walk(value, sub_key)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)
    elif isinstance(node, str):
        yield key, node


def _defined_names(node, defined):
    """Names a playbook defines itself: play/task/block vars, register, set_fact, loop_var."""
    if isinstance(node, dict):
        for key in ("vars",):
            if isinstance(node.get(key), dict):
                defined.update(node[key])
        if isinstance(node.get("register"), str):
            defined.add(node["register"])
        for module in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(module), dict):
                defined.update(k for k in node[module] if k != "cacheable")
        loop_control = node.get("loop_control")
        if isinstance(loop_control, dict):
            for key in ("loop_var", "index_var"):
                if isinstance(loop_control.get(key), str):
                    defined.add(loop_control[key])
        for value in node.values():
            _defined_names(value, defined)
    elif isinstance(node, list):
        for value in node:
            _defined_names(value, defined)


_JINJA_ENV = jinja2.Environment()


def _expressions(key, text):
    """Jinja sources inside one YAML string: templates, or the whole string for conditionals."""
    if "{{" in text or "{%" in text:
        return [text]
    if key in _CONDITIONAL_KEYS:
        return ["{{ %s }}" % text]
    return []


def _loaded_names(ast):
    """Names a template reads but does not bind itself (loop targets, set, macro params).

    jinja2.meta.find_undeclared_variables would compile the template and reject Ansible's filters.
    """
    loaded, bound = set(), set()
    for node in ast.find_all(jinja2.nodes.Name):
        (loaded if node.ctx == "load" else bound).add(node.name)
    return loaded - bound


def _defaults_of(name, sources):
    """Every distinct ``name | default(X)`` in the playbook, as written (X), in order of appearance."""
    pattern = re.compile(r"(?<![\w.])%s\s*\|\s*default\(" % re.escape(name))
    found = []
    for source in sources:
        for match in pattern.finditer(source):
            depth, start = 1, match.end()
            for index in range(start, len(source)):
                if source[index] == "(":
                    depth += 1
                elif source[index] == ")":
                    depth -= 1
                    if depth == 0:
                        value = " ".join(source[start:index].split())
                        # default(X, true) only says "blank counts as unset": the default is still X.
                        value = re.sub(r",\s*(?:boolean\s*=\s*)?(?:true|True)$", "", value)
                        if value not in found:
                            found.append(value)
                        break
    return found


def playbook_variables(play_tree, vars_files_names, header_lines):
    """Variables a playbook reads that it does not set itself: [{name, default, description}], sorted.

    The playbook's own comment header may describe a variable on a line of the form
    ``name   description`` (two spaces or more between); that becomes its description.
    """
    defined = set(vars_files_names)
    _defined_names(play_tree, defined)
    used, sources = set(), []
    for key, text in _walk(play_tree):
        for source in _expressions(key, text):
            sources.append(source)
            try:
                ast = _JINJA_ENV.parse(source)
            except jinja2.TemplateSyntaxError:
                continue
            used.update(_loaded_names(ast))
    described = {}
    for line in header_lines:
        match = re.match(r"^\s+(\w+)\s{2,}(\S.*)$", line)
        if match:
            described[match.group(1)] = match.group(2).strip()
    inputs = sorted(name for name in used if name not in defined and name not in _MAGIC_VARS)
    return [{"name": name, "defaults": _defaults_of(name, sources), "description": described.get(name, "")}
            for name in inputs]


# Play vars that are plumbing rather than settings (every API-only play sets the interpreter).
_PLUMBING_VARS = {"ansible_python_interpreter"}


def _compact(value, limit=100):
    """A play var's value on one line (YAML flow style), capped so a long template stays readable."""
    if isinstance(value, str):
        text = " ".join(value.split()) or '""'
    else:
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=True, width=10 ** 6).strip()
        if text.endswith("\n..."):
            text = text[:-4].strip()
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def load_playbooks(root=ROOT):
    """[{name, file, header, variables, imports}] for playbooks/*.yml."""
    books = []
    for path in sorted((root / "playbooks").glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        try:
            tree = yaml.safe_load(text) or []
        except yaml.YAMLError as exc:
            raise DocsError("%s is not valid YAML: %s" % (path.relative_to(root), str(exc).splitlines()[0]))
        if not isinstance(tree, list):
            continue  # not a playbook
        vars_file_names, imports, plays, play_vars = set(), [], [], {}
        for play in tree:
            if not isinstance(play, dict):
                continue
            for module in ("ansible.builtin.import_playbook", "import_playbook"):
                if isinstance(play.get(module), str):
                    imports.append(Path(play[module]).stem)
            if "hosts" in play:
                plays.append(play.get("name") or "")
            for name, value in (play.get("vars") or {}).items():
                if name not in _PLUMBING_VARS and name not in play_vars:
                    play_vars[name] = _compact(value)
            for vars_file in play.get("vars_files") or []:
                vars_path = path.parent / str(vars_file)
                if "{{" not in str(vars_file) and vars_path.is_file():
                    data = yaml.safe_load(vars_path.read_text(encoding="utf-8")) or {}
                    if isinstance(data, dict):
                        vars_file_names.update(data)
        header = header_comment(text)
        books.append({
            "name": path.stem,
            "file": path.relative_to(root).as_posix(),
            "header": header,
            "blocks": split_header(header),
            "plays": plays,
            "imports": imports,
            "variables": playbook_variables(tree, vars_file_names, header),
            "play_vars": [{"name": name, "value": play_vars[name]} for name in sorted(play_vars)],
        })
    return books


# --------------------------------------------------------------------------------------------------
# Rendering


def page_path(ptype, name):
    """Path of a page relative to the output root, e.g. modules/pod_diagnose.md."""
    section = SECTIONS.get(ptype, ptype)
    return "%s/%s.md" % (section, name.split(".")[-1])


def _source_path(filename):
    """Collection-relative source file (ansible-doc reports an absolute path)."""
    marker = "ansible_collections/aiops/k8s/"
    filename = str(filename or "")
    return filename.split(marker, 1)[1] if marker in filename else os.path.basename(filename)


def environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["cell"] = cell
    env.filters["literal"] = literal
    return env


def render_all(entries, roles, playbooks):
    """{relative path: Markdown text} for every page, index included."""
    pages = {}
    for ptype, fqcn, _entry in entries:
        pages[(ptype, fqcn)] = page_path(ptype, fqcn)
    for name, _spec in roles:
        pages[("role", "%s.%s" % (COLLECTION, name))] = page_path("role", name)
    for book in playbooks:
        pages[("playbook", "%s.%s" % (COLLECTION, book["name"]))] = page_path("playbook", book["name"])

    env = environment()
    out = {}
    index = []
    for ptype, fqcn, entry in entries:
        here = pages[(ptype, fqcn)]
        doc = entry["doc"]
        attributes = []
        for name in sorted(doc.get("attributes") or {}):
            attr = doc["attributes"][name] or {}
            attributes.append({"name": name, "support": attr.get("support", ""),
                               "description": markup(attr.get("description"), pages, here)})
        context = {
            "fqcn": fqcn,
            "type": ptype,
            "short_description": markup(doc.get("short_description"), pages, here),
            "description": [markup(p, pages, here) for p in _as_list(doc.get("description"))],
            "source": _source_path(doc.get("filename")),
            "version_added": doc.get("version_added") or "",
            "requirements": [markup(r, pages, here) for r in _as_list(doc.get("requirements"))],
            "options": option_rows(doc.get("options"), pages, here),
            "positional": doc.get("positional") or "",
            "attributes": attributes,
            "notes": [markup(n, pages, here) for n in _as_list(doc.get("notes"))],
            "seealso": _seealso(doc.get("seealso"), pages, here),
            "examples": (entry.get("examples") or "").strip("\n"),
            "returns": return_rows(entry.get("return"), pages, here),
            "return_is_value": ptype in ("filter", "test", "lookup"),
            "authors": _as_list(doc.get("author")),
        }
        out[here] = env.get_template("plugin.md.j2").render(**context)
        index.append({"section": ptype, "name": fqcn, "path": here,
                      "summary": cell(context["short_description"])})

    for name, spec in roles:
        fqcn = "%s.%s" % (COLLECTION, name)
        here = pages[("role", fqcn)]
        entry_points = []
        for entry_name in sorted(spec):
            point = spec[entry_name] or {}
            entry_points.append({
                "name": entry_name,
                "short_description": markup(point.get("short_description"), pages, here),
                "description": [markup(p, pages, here) for p in _as_list(point.get("description"))],
                "options": option_rows(point.get("options"), pages, here),
            })
        main = spec.get("main") or {}
        out[here] = env.get_template("role.md.j2").render(
            fqcn=fqcn, name=name, entry_points=entry_points, source="roles/%s" % name)
        index.append({"section": "role", "name": fqcn, "path": here,
                      "summary": cell(markup(main.get("short_description"), pages, here))})

    for book in playbooks:
        fqcn = "%s.%s" % (COLLECTION, book["name"])
        here = pages[("playbook", fqcn)]
        imports = [{"name": name, "link": _page_link("%s.%s" % (COLLECTION, name), "playbook", pages, here)}
                   for name in book["imports"]]
        out[here] = env.get_template("playbook.md.j2").render(
            fqcn=fqcn, book=book, imports=imports, collection=COLLECTION)
        summary = book["header"][0] if book["header"] else ""
        index.append({"section": "playbook", "name": fqcn, "path": here, "summary": cell(summary)})

    order = {name: rank for rank, name in enumerate(("module",) + PLUGIN_TYPES[1:] + ("role", "playbook"))}
    index.sort(key=lambda item: (order.get(item["section"], 99), item["name"]))
    out["README.md"] = env.get_template("index.md.j2").render(items=index)
    return {rel: tidy(out[rel]) for rel in sorted(out)}


def tidy(text):
    """At most one blank line in a row outside code blocks' content, and exactly one final newline."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _seealso(items, pages, here):
    rows = []
    for item in items or []:
        if item.get("module"):
            rows.append(markup("M(%s)" % item["module"], pages, here) + (
                ": " + markup(item.get("description"), pages, here) if item.get("description") else ""))
        elif item.get("plugin"):
            rows.append(markup("P(%s#%s)" % (item["plugin"], item.get("plugin_type") or "module"), pages, here) + (
                ": " + markup(item.get("description"), pages, here) if item.get("description") else ""))
        elif item.get("link"):
            rows.append("[%s](%s)" % (item.get("name") or item["link"], item["link"]) + (
                ": " + markup(item.get("description"), pages, here) if item.get("description") else ""))
        elif item.get("ref"):
            rows.append("%s: %s" % (item.get("name") or item["ref"], markup(item.get("description"), pages, here)))
    return rows


def generate(root=ROOT):
    """Collect everything and render it: {relative path: text}."""
    entries = plugin_entries(run_ansible_doc(root))
    return render_all(entries, load_roles(root), load_playbooks(root))


# --------------------------------------------------------------------------------------------------
# Writing and checking


def stale_files(files, output):
    """Relative paths under ``output`` that differ from ``files``: changed, missing or extra."""
    output = Path(output)
    stale = []
    for rel, text in files.items():
        path = output / rel
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            stale.append(rel)
    if output.is_dir():
        for path in output.rglob("*"):
            rel = path.relative_to(output).as_posix()
            if path.is_file() and rel not in files:
                stale.append(rel)
    return sorted(stale)


def write_files(files, output):
    """Write every page and remove pages of plugins that no longer exist."""
    output = Path(output)
    for rel in stale_files(files, output):
        path = output / rel
        if rel in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[rel].encode("utf-8"))
        else:
            path.unlink()
    for directory in sorted((p for p in output.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Generate docs/reference from the collection's documentation.")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="output directory (default: docs/reference)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 listing stale files")
    args = parser.parse_args(argv)
    try:
        files = generate()
    except DocsError as exc:
        print("gen_docs: %s" % exc, file=sys.stderr)
        return 2
    if args.check:
        stale = stale_files(files, args.output)
        if stale:
            print("docs/reference is stale: run make docs", file=sys.stderr)
            for rel in stale:
                print("  %s" % rel, file=sys.stderr)
            return 1
        print("docs up to date: %d pages" % len(files))
        return 0
    changed = stale_files(files, args.output)
    write_files(files, args.output)
    print("wrote %d pages (%d changed) to %s" % (len(files), len(changed), args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
