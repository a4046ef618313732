"""The dependency rule between the two apps: syncer imports qa, never the reverse.

qa (the domain) reaches Heify only through qa/heify.py, which syncer connects
when the apps are ready. An import of syncer anywhere under qa, at the top of
a module or inside a function, and any dynamic import (importlib,
__import__) in either app, which could hide one, fails here.
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
