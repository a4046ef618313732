"""Every text of ours is marked for translation and has its Spanish (issue 25, ask 4).

Three scanners, each shown catching a bad sample below:
- templates: Django's own lexer; any text with a word outside {% translate %} / {% blocktranslate %} fails (the
  words of HTML attributes people read too: title, placeholder, alt, aria-label, label, a button's value);
- Python (qa/, heifyadmin/): a bare string handed to a place that shows text to people (messages, ValidationError,
  PermissionDenied, the admin's and the models' labels, choices' labels, a page's title);
- JavaScript (qa/static/qa/*.js, not vendor/): a bare string put on the screen (textContent, title, placeholder,
  aria-label, alert, confirm, a text node) instead of gettext()'s.
And the catalogue: every msgid of locale/es/LC_MESSAGES/*.po has a Spanish msgstr, none fuzzy, and makemessages run
on a copy of the code finds no msgid the committed catalogue lacks.

PENDING: the files the other helpers of issue 25 are marking on their branches; skipped until each lands (the
coordinator removes their lines then). Nothing else is skipped.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.base import DebugLexer, TokenType

ROOT = Path(__file__).resolve().parents[1]

PENDING: list[str] = []

# Words that are the same in every language: names and acronyms, never sentences.
NOT_WORDS = {"Heify", "API", "CSV", "JSON", "xlsx", "Excel", "URL", "UUID", "ID", "OK"}


def pending(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative == entry or relative.startswith(entry) for entry in PENDING)


def words(text: str) -> list[str]:
    text = re.sub(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", " ", text)
    text = re.sub(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])", " ", text)  # qa-decided: a class, an id
    return [word for word in re.findall(r"[^\W\d_]+", text) if word not in NOT_WORDS]


# --- templates -------------------------------------------------------------------------------------------------

TEMPLATE_DIRS = [ROOT / "templates",
                 *(d for app in ("qa", "syncer", "heifyadmin") for d in (ROOT / app).rglob("templates") if d.is_dir())]
HUMAN_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label", "label", "aria-description")
BUTTON_VALUE = re.compile(r"""^<input\b.*\btype\s*=\s*["']?(submit|button|reset)""", re.I | re.S)  # shown as its text
ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*')""")


def _masked(source: str) -> str:
    """The template with everything but its plain text blanked (same length, same lines): variables and tags,
    comments, and whatever lies inside {% blocktranslate %} or {% comment %} become spaces."""
    chars = list(source)
    inside: list[str] = []  # the closing tag we are inside of, if any

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "

    for token in DebugLexer(source).tokenize():
        start, end = token.position
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if inside and name == inside[-1]:
                inside.pop()
            elif name in ("blocktranslate", "blocktrans"):
                inside.append("end" + name)
            elif name in ("comment", "verbatim"):
                inside.append("end" + name)
        if token.token_type != TokenType.TEXT or inside:
            blank(start, end)
    masked = "".join(chars)
    # Scripts and styles are code (scripts' texts are the JavaScript scan's); HTML comments are not shown.
    for pattern in (r"<script\b.*?</script>", r"<style\b.*?</style>", r"<!--.*?-->"):
        masked = re.sub(pattern, lambda m: re.sub(r"[^\n]", " ", m.group()), masked, flags=re.S | re.I)
    return masked


def template_offenders(source: str, name: str = "<template>") -> list[str]:
    masked = _masked(source)
    found = []

    def report(position: int, text: str) -> None:
        if words(text):
            position += len(text) - len(text.lstrip())
            line = masked.count("\n", 0, position) + 1
            found.append(f"{name}:{line}: {' '.join(text.split())[:80]!r}")

    def attributes(start: int, body: str, tag: bool) -> str:
        """Reports the attributes people read; returns `body` without its attributes (a block of a child template
        may hold a few of its parent's tag: ` tabindex="-1" aria-label="..."`)."""
        for attribute in ATTRIBUTE.finditer(body):
            key, value = attribute.group(1).lower(), attribute.group(2)[1:-1]
            if key in HUMAN_ATTRIBUTES or (tag and key == "value" and BUTTON_VALUE.search(body)):
                report(start + attribute.start(), value)
        return ATTRIBUTE.sub(lambda m: " " * len(m.group()), body)

    position = 0
    for tag in re.finditer(r"<[^>]*>", masked):
        report(position, attributes(position, masked[position:tag.start()], tag=False))
        position = tag.end()
        attributes(tag.start(), tag.group(), tag=True)
    report(position, attributes(position, masked[position:], tag=False))
    return found


def our_templates():
    for directory in TEMPLATE_DIRS:
        yield from sorted(p for p in directory.rglob("*") if p.suffix in (".html", ".txt"))


def test_every_text_of_our_templates_is_marked():
    offenders = []
    for path in our_templates():
        if not pending(path):
            offenders += template_offenders(path.read_text(), path.relative_to(ROOT).as_posix())
    assert offenders == [], "wrap these in {% translate %} or {% blocktranslate %}:\n" + "\n".join(offenders)


def test_every_template_of_ours_compiles():
    """A {% blocktranslate %} with a wrong argument fails only when its page is drawn: here, at once, for all."""
    from django.template.loader import get_template

    for directory in TEMPLATE_DIRS:
        for path in sorted(p for p in directory.rglob("*") if p.suffix in (".html", ".txt")):
            get_template(path.relative_to(directory).as_posix())


def test_the_template_scan_catches_unmarked_text_and_passes_marked_text():
    bad = ('{% load i18n %}\n<h2>Review queues</h2>\n<p>{{ n }} calls</p>\n'
           '<a href="{% url "x" %}" title="Open the call">→</a>\n<input type="submit" value="Save">\n'
           '<p>{% translate "Saved" %} {% blocktranslate %}Only {{ n }} left{% endblocktranslate %}</p>\n'
           '{% block attrs %} aria-label="Close the panel"{% endblock %}\n')
    found = template_offenders(bad, "bad.html")
    assert [entry.split(":")[1] for entry in found] == ["2", "3", "4", "5", "7"]
    good = ('{% load i18n %}{# a note #}{% comment %}Why: anything.{% endcomment %}<h2>{% translate "Review queues" %}'
            '</h2><p class="qa-num" data-x="abc">{{ n|floatformat:1 }}% · {{ a }} → {{ b }} — 12&nbsp;345</p>'
            '<script>const x = "code";</script><style>.a { color: red }</style><!-- Heify API -->'
            '{% translate "Open the call" as open %}<a title="{{ open }}">Heify API</a>'
            '<button type="submit" name="then" value="next">{% translate "Next" %}</button>'
            '{% block row_class %} qa-decided{% endblock %}'
            '{% block row_attrs %} tabindex="-1" data-x="a-b"{% endblock %}')
    assert template_offenders(good) == []


# --- Python ----------------------------------------------------------------------------------------------------

MESSAGE_FUNCTIONS = {"success", "info", "warning", "error", "debug", "add_message"}
EXCEPTIONS = {"ValidationError", "PermissionDenied", "NotFound", "ParseError", "AuthenticationFailed",
              "NotAuthenticated", "APIException", "Conflict", "PreconditionFailed"}
LABEL_KEYWORDS = {"verbose_name", "verbose_name_plural", "help_text", "label", "empty_label"}
RELATION_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField", "ForeignObject", "GenericForeignKey"}
CHOICES_BASES = {"TextChoices", "IntegerChoices", "Choices"}


def _is_bare_text(node: ast.AST | None) -> bool:
    """A literal people would read as it is: a string with a word, an f-string, "..." % x, "...".format(...), or a
    container of them (a ValidationError's dict or list)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(words(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and words(str(v.value)) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _is_bare_text(node.left) or _is_bare_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        return _is_bare_text(node.func.value) and node.func.attr == "format"
    if isinstance(node, ast.Dict):
        return any(_is_bare_text(v) for v in node.values)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_is_bare_text(v) for v in node.elts)
    return False


def _name(func: ast.AST) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def python_offenders(source: str, name: str = "<module>") -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{name}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            owner = _name(node.func.value) if isinstance(node.func, ast.Attribute) else ""
            if owner == "messages" and called in MESSAGE_FUNCTIONS:
                message = node.args[2] if called == "add_message" and len(node.args) > 2 else (
                    node.args[1] if len(node.args) > 1 else None)
                if _is_bare_text(message) or any(k.arg == "message" and _is_bare_text(k.value) for k in node.keywords):
                    report(node, f"messages.{called} with a bare string")
            elif called == "message_user" and len(node.args) > 1 and _is_bare_text(node.args[1]):
                report(node, "message_user with a bare string")
            elif called in EXCEPTIONS and (any(_is_bare_text(a) for a in node.args[:1])
                                            or any(k.arg in ("message", "detail") and _is_bare_text(k.value)
                                                   for k in node.keywords)):
                report(node, f"{called} with a bare string")
            if called.endswith("Field") and called not in RELATION_FIELDS and node.args \
                    and _is_bare_text(node.args[0]):
                report(node, f"{called}'s verbose name is a bare string")
            for keyword in node.keywords:
                if keyword.arg in LABEL_KEYWORDS and _is_bare_text(keyword.value):
                    report(node, f"{keyword.arg}= is a bare string")
                if keyword.arg == "description" and called in ("display", "action") and _is_bare_text(keyword.value):
                    report(node, f"@admin.{called}(description=) is a bare string")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                attribute = target.attr if isinstance(target, ast.Attribute) else \
                    target.id if isinstance(target, ast.Name) else ""
                if attribute in ("short_description", "verbose_name", "verbose_name_plural", "title", "site_header",
                                 "site_title", "index_title") and _is_bare_text(node.value):
                    report(node, f"{attribute} is a bare string")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("title", "subtitle") and _is_bare_text(value):
                    report(value, f"a page's {key.value!r} is a bare string")
        elif isinstance(node, ast.ClassDef) and {_name(b) for b in node.bases} & CHOICES_BASES:
            for item in node.body:
                if not isinstance(item, ast.Assign) or not all(isinstance(t, ast.Name) for t in item.targets):
                    continue
                if any(t.id.startswith("_") or t.id.islower() for t in item.targets):
                    continue
                value = item.value
                if isinstance(value, ast.Tuple) and len(value.elts) > 1:
                    if _is_bare_text(value.elts[-1]):
                        report(item, f"{node.name}.{item.targets[0].id}'s label is a bare string")
                elif isinstance(value, ast.Constant):
                    report(item, f"{node.name}.{item.targets[0].id} has no translated label (its name would show)")
    return found


def our_python():
    for package in ("qa", "heifyadmin"):
        yield from sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def test_every_text_our_python_shows_people_is_marked():
    offenders = []
    for path in our_python():
        if not pending(path):
            offenders += python_offenders(path.read_text(), path.relative_to(ROOT).as_posix())
    assert offenders == [], "wrap these in gettext/gettext_lazy (_):\n" + "\n".join(offenders)


def test_the_python_scan_catches_each_kind_of_bare_text():
    bad = '''
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from rest_framework import serializers

def view(request, n):
    messages.success(request, "Saved.")
    messages.error(request, f"{n} calls failed")
    raise ValidationError({"name": "Too long."})

def other(request):
    raise serializers.ValidationError("Bad value %s" % 1)

def third(request):
    raise PermissionDenied("Agents only.")

class Thing(models.Model):
    name = models.CharField("who", max_length=5, help_text="The name.")
    owner = models.ForeignKey("auth.User", on_delete=models.CASCADE, verbose_name="owner")

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SHUT = "shut"

    class Meta:
        verbose_name_plural = "things"

class ThingAdmin(admin.ModelAdmin):
    @admin.display(description="Score")
    def score(self, obj):
        return 1

    def changelist_view(self, request):
        self.message_user(request, "Done.")
        return {"title": "My things"}

ThingAdmin.score.short_description = "Score"
'''
    found = [entry.split(": ", 1)[1] for entry in python_offenders(bad)]
    assert found.count("messages.success with a bare string") == 1
    assert "messages.error with a bare string" in found
    assert found.count("ValidationError with a bare string") == 2
    assert "PermissionDenied with a bare string" in found
    assert "CharField's verbose name is a bare string" in found and "help_text= is a bare string" in found
    assert "verbose_name= is a bare string" in found  # the ForeignKey's
    assert "Status.OPEN's label is a bare string" in found
    assert "Status.SHUT has no translated label (its name would show)" in found
    assert "verbose_name_plural is a bare string" in found
    assert "@admin.display(description=) is a bare string" in found
    assert "message_user with a bare string" in found and "a page's 'title' is a bare string" in found
    assert "short_description is a bare string" in found
    good = '''
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _, gettext_lazy

def view(request, n, exc):
    messages.success(request, _("Saved."))
    messages.error(request, " ".join(exc.messages))
    raise ValidationError({"name": _("Too long: %(n)s.") % {"n": n}}, code="long")

class Thing(models.Model):
    name = models.CharField(gettext_lazy("who"), max_length=5, help_text=gettext_lazy("The name."))
    code = models.CharField(max_length=5, choices=[("a", "a")], default="a")

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")

@admin.display(description=gettext_lazy("Score"), ordering="score")
def score(obj):
    return {"title": obj.title, "status": "ok"}
'''
    assert python_offenders(good) == []


# --- JavaScript ------------------------------------------------------------------------------------------------

# Where a script puts text on the screen; the expression that follows each is what is checked.
JS_SINKS = [
    re.compile(r"\.(?:textContent|innerText|title|placeholder|ariaLabel)\s*\+?=\s*"),
    re.compile(r"""\.setAttribute\(\s*["'](?:aria-label|title|placeholder|alt)["']\s*,\s*"""),
    re.compile(r"\b(?:alert|confirm|createTextNode)\(\s*"),
    re.compile(r"\.(?:append|prepend|replaceChildren|before|after)\(\s*(?=[\"'`])"),
    # The scripts' own ways to the screen: text(tag, content), say(row, message); Chart.js' labels and titles, an
    # error's message, as object properties.
    re.compile(r"\b(?:text|say)\(\s*[^,()]+,\s*"),
    re.compile(r"(?<![\"'\w-])(?:label|message|title|text)\s*:\s*"),
]
GETTEXT_CALL = re.compile(r"\b(?:n|p|np)?gettext\(")
CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _expression(code: str, start: int) -> str:
    """The JavaScript expression starting at `start`: up to a comma, closing bracket, semicolon or line end at its
    own depth (strings and template literals skipped whole, as their ${...} may hold brackets)."""
    depth, i = 0, start
    while i < len(code):
        char = code[i]
        if char in "\"'`":
            end = i + 1
            while end < len(code) and code[end] != char:
                end += 2 if code[end] == "\\" else 1
            i = end + 1
            continue
        if char in CLOSERS:
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (char in ",;" or (char == "\n" and not code[start:i].rstrip().endswith("+"))):
            break
        i += 1
    return code[start:i]


def _without_gettext_calls(code: str) -> str:
    """`code` with each gettext(...) / ngettext(...) call, parentheses balanced, cut out."""
    while (match := GETTEXT_CALL.search(code)) is not None:
        depth, i = 1, match.end()
        while i < len(code) and depth:
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            i += 1
        code = code[:match.start()] + "_" + code[i:]
    return code


def js_offenders(source: str, name: str = "<script>") -> list[str]:
    found = []
    for sink in JS_SINKS:
        for match in sink.finditer(source):
            expression = _expression(source, match.end())
            if expression.lstrip().startswith("{"):
                continue  # an object (Chart.js' title: {...}): its own properties are looked at one by one
            code = _without_gettext_calls(expression)
            code = re.sub(r"\$\{[^}]*\}", "", code)  # a template literal's ${...} is code, not text
            literals = re.findall(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`""", code)
            if any(words("".join(parts)) for parts in literals):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {' '.join((match.group() + expression).split())[:80]!r}")
    return found


def our_scripts():
    return sorted((ROOT / "qa" / "static" / "qa").glob("*.js"))


def test_every_text_our_scripts_put_on_the_screen_is_marked():
    offenders = []
    for path in our_scripts():
        if not pending(path):
            offenders += js_offenders(path.read_text(), path.relative_to(ROOT).as_posix())
    assert offenders == [], "wrap these in gettext() (the djangojs catalogue):\n" + "\n".join(offenders)


def test_the_script_scan_catches_bare_text_and_passes_gettext():
    bad = ('button.textContent = "Saving…";\nbox.title = `${n} calls`;\nnote.textContent = n + " calls left";\n'
           'el.setAttribute("aria-label", "Close");\nif (confirm("Really archive?")) {}\n'
           'row.append(document.createTextNode("none"));\nbox.append(text("p", `${n} call(s) would go`));\n'
           'say(row, "Saving…", false);\nconst sets = [{ label: "Before", data: [] }];\n'
           'const error = { message: "The preview failed." };\nbox.append("No calls.");\n')
    assert sorted({int(entry.split(":")[1]) for entry in js_offenders(bad)}) == list(range(1, 12))
    good = ('button.textContent = gettext("Saving…");\nbox.title = interpolate(ngettext("%s call", "%s calls", n), '
            '[n]);\nnote.textContent = `${n} ${gettext("calls left")}`;\nel.textContent = "";\n'
            'el.setAttribute("aria-label", gettext("Close"));\ncell.textContent = value.toFixed(1) + "%";\n'
            'box.append(text("p", gettext("Rescoring…"), { class: "help" }));\nsay(row, "", false);\n'
            'const sets = [{ label: gettext("Before"), data: [], backgroundColor: "#79aec8" }];\n'
            'const headers = { "Content-Type": "application/json" }; const o = { text: "" };\n')
    assert js_offenders(good) == []


# --- the catalogue ---------------------------------------------------------------------------------------------

CATALOGUES = sorted((ROOT / "locale" / "es" / "LC_MESSAGES").glob("*.po"))
MAKEMESSAGES = ["makemessages", "-l", "es", "--no-location", "--no-obsolete", "--ignore=.venv",
                "--ignore=staticfiles", "--ignore=var", "--ignore=tests", "--ignore=benchmarks"]


PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def po_entries(text: str) -> list[dict]:
    """The entries of a .po as written by msgcat --no-wrap: msgctxt, msgid, msgid_plural, msgstr (a list), fuzzy.
    The header (msgid "") is left out; so are obsolete entries (#~)."""
    entries, entry, key = [], None, None

    def unquote(s: str) -> str:
        return re.sub(r"\\(.)", lambda m: PO_ESCAPES.get(m.group(1), m.group(1)), s.strip()[1:-1])

    for line in text.splitlines() + [""]:
        if not line.strip():
            if entry is not None and entry["msgid"]:
                entries.append(entry)
            entry, key = None, None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": [], "fuzzy": False}
        if line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ")):
            key, value = line.split(" ", 1)
            entry[key] = unquote(value)
        elif line.startswith("msgstr"):
            key = "msgstr"
            entry["msgstr"].append(unquote(line.split(" ", 1)[1]))
        elif line.startswith('"') and key:
            if key == "msgstr":
                entry["msgstr"][-1] += unquote(line)
            else:
                entry[key] += unquote(line)
    return entries


def read_po(path: Path) -> list[dict]:
    done = subprocess.run(["msgcat", "--no-wrap", str(path)], capture_output=True, text=True, check=True)
    return po_entries(done.stdout)


def untranslated(entries: list[dict]) -> list[str]:
    return [entry["msgid"] for entry in entries
            if entry["fuzzy"] or not entry["msgstr"] or not all(s.strip() for s in entry["msgstr"])]


def missing(committed: list[dict], made: list[dict]) -> list[str]:
    have = {(entry["msgctxt"], entry["msgid"]) for entry in committed}
    return [entry["msgid"] for entry in made if (entry["msgctxt"], entry["msgid"]) not in have]


def test_every_msgid_of_the_catalogue_has_its_spanish():
    assert CATALOGUES, "locale/es/LC_MESSAGES/django.po is missing"
    for path in CATALOGUES:
        left = untranslated(read_po(path))
        assert left == [], f"{path.relative_to(ROOT)}: no Spanish (or fuzzy) for:\n" + "\n".join(left)


@pytest.fixture(scope="module")
def made_catalogues(tmp_path_factory) -> dict[str, Path]:
    """makemessages run on a copy of the code and its catalogues (the repository's are left as they are)."""
    copy = tmp_path_factory.mktemp("makemessages") / "code"
    skip = shutil.ignore_patterns(".git", ".venv", "var", "staticfiles", "tests", "benchmarks", "__pycache__",
                                  "*.mo", "node_modules", "bench-results")
    shutil.copytree(ROOT, copy, ignore=skip, symlinks=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "heifyadmin.settings_test", "HEIFY_VAR_DIR": str(copy / "var"),
           "DATABASE_URL": f"sqlite:///{copy / 'var' / 'db.sqlite3'}", "PYTHONPATH": str(copy)}
    for domain in ("django", "djangojs"):
        done = subprocess.run([sys.executable, "manage.py", *MAKEMESSAGES, "-d", domain], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return {path.name: path for path in (copy / "locale" / "es" / "LC_MESSAGES").glob("*.po")}


def test_makemessages_finds_no_text_the_catalogue_lacks(made_catalogues):
    for name, made in made_catalogues.items():
        committed_path = ROOT / "locale" / "es" / "LC_MESSAGES" / name
        committed = read_po(committed_path) if committed_path.exists() else []
        new = missing(committed, read_po(made))
        assert new == [], (f"locale/es/LC_MESSAGES/{name} lacks these marked texts: run makemessages (README, "
                           "Languages) and write their Spanish:\n" + "\n".join(new))


def test_the_catalogue_checks_catch_a_missing_an_empty_and_a_fuzzy_translation():
    po = ('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
          'msgid "Saved"\nmsgstr "Guardado"\n\n'
          'msgid "Review queues"\nmsgstr ""\n\n'
          '#, fuzzy\nmsgid "Reviewer"\nmsgstr "Revisor"\n\n'
          'msgid "%(n)s call"\nmsgid_plural "%(n)s calls"\nmsgstr[0] "%(n)s llamada"\nmsgstr[1] ""\n\n'
          'msgctxt "verb"\nmsgid "Claim"\nmsgstr "Reclamar"\n\n'
          'msgid "Say \\"hi\\""\nmsgstr "Di \\"hola\\" — ñ"\n')
    entries = po_entries(po)
    assert [e["msgid"] for e in entries] == ["Saved", "Review queues", "Reviewer", "%(n)s call", "Claim", 'Say "hi"']
    assert entries[-1]["msgstr"] == ['Di "hola" — ñ']
    assert untranslated(entries) == ["Review queues", "Reviewer", "%(n)s call"]
    made = po_entries('msgid "Saved"\nmsgstr ""\n\nmsgid "Archived"\nmsgstr ""\n\n'
                      'msgctxt "noun"\nmsgid "Claim"\nmsgstr ""\n')
    assert missing(entries, made) == ["Archived", "Claim"]  # a new text, and the same text in a new context
