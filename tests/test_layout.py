"""The dependency rules: syncer imports qa, never the reverse; syncer never imports heifyadmin; inside qa,
the domains read downward only (alerts -> insights -> reviews -> mirror, scorecards -> reviews -> mirror).

qa (the domain) reaches Heify only through qa/heify.py, which syncer connects
when the apps are ready. An import of syncer anywhere under qa, at the top of
a module or inside a function, and any dynamic import (importlib,
__import__) in either app, which could hide one, fails here.

And the dialects' rule: which database a query runs on is asked of qa/db.py only. A module anywhere in the
project (tests and benchmarks included) that reads a connection's `.vendor` itself fails here; migrations are
left out, as they ask their own schema editor's connection.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DYNAMIC = {"importlib", "import_module", "__import__", "import_string"}


def modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        yield path.relative_to(ROOT), ast.parse(path.read_text(), filename=str(path))


def imported(tree) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module or ""))
    return found


def test_qa_never_imports_syncer():
    offenders = [
        f"{path}:{line} imports {name}"
        for path, tree in modules("qa")
        for line, name in imported(tree)
        if name == "syncer" or name.startswith("syncer.")
    ]
    assert offenders == [], "qa must reach Heify through qa/heify.py only"


def dynamic_imports(tree) -> list[int]:
    lines = [line for line, name in imported(tree) if name.split(".")[0] == "importlib"]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id in DYNAMIC) or (
                isinstance(node, ast.Attribute) and node.attr in DYNAMIC):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_dynamic_imports_in_either_app():
    offenders = [
        f"{path}:{line}" for app in ("qa", "syncer") for path, tree in modules(app) for line in dynamic_imports(tree)
    ]
    assert offenders == [], "a dynamic import could hide a cycle between qa and syncer"


def test_the_rules_catch_imports_inside_a_function_and_dynamic_ones():
    tree = ast.parse("def f():\n    from syncer import push\n    import syncer.client\n")
    assert [name for _, name in imported(tree)] == ["syncer", "syncer.client"]
    tree = ast.parse("import importlib\ndef f():\n    return importlib.import_module('syncer.push')\n")
    assert dynamic_imports(tree) == [1, 3]


# Inside qa: which domains each domain may read (besides itself and the ground floor: qa/db.py, heify.py, jobs.py,
# limits.py, spreadsheets.py, policy.py and the like, which read no domain). The edges (qa/api/, qa/admin.py,
# qa/models.py, qa/apps.py, qa/management/, qa/templatetags/) may read every domain.
DOMAINS = {
    "mirror": set(),
    "reviews": {"mirror"},
    "scorecards": {"mirror", "reviews"},
    "insights": {"mirror", "reviews"},
    "alerts": {"mirror", "reviews", "insights"},
    "agents": {"mirror", "reviews", "insights"},
}
GROUND = {"audit", "date_inputs", "db", "heify", "jobs", "limits", "spreadsheets", "policy", "preferences"}


def qa_parts(tree) -> list[tuple[int, str]]:
    """Each import of qa as (line, the part of qa it reaches: a domain, a ground module, or an edge)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "qa":
                continue
            found += [(node.lineno, parts[1])] if len(parts) > 1 else [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split(".")[1]) for a in node.names
                      if a.name.startswith("qa.") and "." in a.name]
    return found


def part_of(path: Path) -> str:
    return path.parts[1].removesuffix(".py")


def test_the_domains_read_downward_only():
    offenders = []
    for path, tree in modules("qa"):
        here = part_of(path)
        if here in DOMAINS:
            allowed = DOMAINS[here] | {here}
            offenders += [f"{path}:{line} reads qa.{there}" for line, there in qa_parts(tree)
                          if there in DOMAINS and there not in allowed]
        elif here in GROUND:
            offenders += [f"{path}:{line} reads qa.{there}" for line, there in qa_parts(tree)
                          if there in DOMAINS or there in {"api", "admin", "models"}]
    assert offenders == [], "a domain reads only the domains below it (DOMAINS); the ground floor reads none"


def test_neither_app_imports_the_site():
    offenders = [f"{path}:{line} imports {name}" for app in ("qa", "syncer") for path, tree in modules(app)
                 for line, name in imported(tree) if name == "heifyadmin" or name.startswith("heifyadmin.")]
    assert offenders == [], "heifyadmin is the site: it plugs into qa and syncer (job hooks, the audit's request id)"


def test_the_domain_rule_sees_every_form_of_import():
    tree = ast.parse("from qa.insights import analytics\nfrom qa import jobs, limits\n"
                     "def f():\n    import qa.alerts.services\n")
    assert sorted(qa_parts(tree)) == [(1, "insights"), (2, "jobs"), (2, "limits"), (4, "alerts")]


# --- the dialects: one place reads the vendor -------------------------------------------------------------


def project_modules():
    """Every Python module of the project, but its migrations (hidden folders, such as .venv, left out)."""
    for top in sorted(ROOT.iterdir()):
        if top.name.startswith("."):
            continue
        for path in [top] if top.suffix == ".py" else sorted(top.rglob("*.py")) if top.is_dir() else []:
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT), ast.parse(path.read_text(), filename=str(path))


def vendor_reads(tree) -> list[int]:
    """Where a module reads a connection's vendor: `x.vendor`, or getattr(x, "vendor")."""
    return sorted(
        node.lineno for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr == "vendor")
        or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and any(isinstance(arg, ast.Constant) and arg.value == "vendor" for arg in node.args))
    )


def test_only_qa_db_reads_which_database_it_is():
    offenders = [
        f"{path}:{line}" for path, tree in project_modules() if path != Path("qa/db.py") for line in vendor_reads(tree)
    ]
    assert offenders == [], "ask qa.db.on_postgresql() (or dialect()), and keep both forms of the query side by side"


def test_the_vendor_rule_catches_an_attribute_not_a_word():
    tree = ast.parse(
        'def f(c):\n    if connections["default"].vendor == "sqlite":\n        return getattr(c, "vendor")\n'
        'STATIC = "qa/vendor/chart.js"\nvendor = 1\n'
    )
    assert vendor_reads(tree) == [2, 3]
    assert Path("qa/db.py") in {path for path, _ in project_modules()}
    assert not any("migrations" in path.parts for path, _ in project_modules())
