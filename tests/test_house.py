"""Architecture guards: the rules of the layout, checked on the source text (fast, no imports run).

- pyx12 is imported only under ``edi/validate/`` (product, bench and tests alike; tests that compare
  with plain pyx12 use the baseline helpers of :mod:`edi.validate.pyx12`);
- no module imports a private (underscore) name of another package or subpackage; product code
  does not reach one through a module attribute or ``getattr`` either. A test folder is a
  white-box test of the package it mirrors (``tests/edi/x835`` of ``edi.x835``) and may use its
  private names, no one else's;
- layering: ``coding`` <- ``edi`` <- ``reconcile`` <- ``dripline``, never the other way;
- comments and docstrings of product code say what the code does, not how it came to be written;
- every product package's ``__init__`` has a docstring and an ``__all__`` (or says it exports nothing).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("coding", "edi", "reconcile", "dripline")
OURS = (*PRODUCT, "tests", "bench")
LAYER = {name: rank for rank, name in enumerate(PRODUCT)}


@cache
def _files(tops: tuple[str, ...]) -> tuple[Path, ...]:
    return tuple(
        p for top in tops for p in sorted((REPO / top).rglob("*.py")) if "__pycache__" not in p.parts and p.is_file()
    )


_PARSED: dict[Path, ast.Module] = {}


def _tree(path: Path) -> ast.Module:
    tree = _PARSED.get(path)
    if tree is None:
        tree = _PARSED[path] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return tree


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _package(path: Path) -> str:
    """The package a file belongs to (for ``a/b/__init__.py`` and ``a/b/c.py`` alike: ``a.b``)."""
    return ".".join(path.relative_to(REPO).parent.parts)


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _imports(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line, module, imported name or None) for every absolute import, also inside functions,
    and for ``importlib.import_module("...")`` / ``__import__("...")`` with a constant name."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                for a in node.names:
                    yield node.lineno, node.module, a.name
            elif node.level:
                base = _package(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                for a in node.names:
                    yield node.lineno, mod, a.name
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value, None


def _owner(module: str) -> str:
    """The package a dotted module or name belongs to, as a file path would give it."""
    parts = module.split(".")
    target = REPO.joinpath(*parts)
    if target.is_dir():
        return module
    return ".".join(parts[:-1])


def _allowed_owners(path: Path) -> set[str]:
    """Packages whose private names ``path`` may use: its own, and for a test the one it mirrors."""
    here = _package(path)
    allowed = {here}
    if here.startswith("tests."):
        allowed.add(here.removeprefix("tests."))
    return allowed


def _offenders_private(path: Path) -> list[str]:
    allowed = _allowed_owners(path)
    out: list[str] = []
    for line, module, name in _imports(path):
        if module.split(".")[0] not in OURS:
            continue
        parts = module.split(".")
        for i, part in enumerate(parts):
            if _private(part):
                owner = ".".join(parts[:i])  # the package holding the private module
                if owner not in allowed:
                    out.append(f"{_rel(path)}:{line}: imports private module {module}")
                break
        else:
            if name and _private(name) and _owner(module) not in allowed:
                out.append(f"{_rel(path)}:{line}: imports {name} from {module}")
    return out


def _offenders_private_attribute(path: Path) -> list[str]:
    """``mod._name`` or ``getattr(mod, "_name")`` where ``mod`` is a module of another package."""
    allowed = _allowed_owners(path)
    modules: dict[str, str] = {}
    tree = _tree(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in OURS and a.asname:
                    modules[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if node.module.split(".")[0] in OURS and (REPO / Path(*full.split("."))).with_suffix(".py").is_file():
                    modules[a.asname or a.name] = full
    out: list[str] = []
    for node in ast.walk(tree):
        target: ast.expr | None = None
        attr = ""
        if isinstance(node, ast.Attribute):
            target, attr = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            target, attr = node.args[0], node.args[1].value
        if isinstance(target, ast.Name) and target.id in modules and _private(attr):
            module = modules[target.id]
            if _owner(module) not in allowed:
                out.append(f"{_rel(path)}:{target.lineno}: uses {module}.{attr}")
    return out


def test_pyx12_is_imported_only_under_edi_validate() -> None:
    allowed = REPO / "edi" / "validate"
    bad = [
        f"{_rel(p)}:{line}: {module}"
        for p in _files(OURS)
        if allowed not in p.parents
        for line, module, _name in _imports(p)
        if module.split(".")[0] == "pyx12"
    ]
    assert not bad, "pyx12 imported outside edi/validate/:\n" + "\n".join(bad)


def test_no_private_name_of_another_package_is_imported() -> None:
    bad = [msg for p in _files(OURS) for msg in _offenders_private(p)]
    bad += [msg for p in _files(PRODUCT) for msg in _offenders_private_attribute(p)]
    assert not bad, "private names used across packages:\n" + "\n".join(bad)


def test_private_name_check_sees_what_it_should() -> None:
    # the checker itself, on a source parsed for it as if it lived in edi/x835/
    assert _owner("edi.x12.tokenizer") == "edi.x12" and _owner("edi.x12") == "edi.x12"
    assert _package(REPO / "edi" / "x835" / "reader.py") == "edi.x835"
    assert _package(REPO / "edi" / "x835" / "__init__.py") == "edi.x835"
    assert _allowed_owners(REPO / "tests" / "edi" / "x835" / "test_x.py") == {"tests.edi.x835", "edi.x835"}
    probe = REPO / "edi" / "x835" / "_house_probe.py"  # never written: its parse is given to the checker
    _PARSED[probe] = ast.parse(
        "from edi.x12.tokenizer import _WS\n"
        "from edi.x835.segments import _amt\n"
        "from edi.x12 import tokenizer\n"
        "tokenizer._detect\n"
        "getattr(tokenizer, '_detect')\n"
    )
    try:
        assert _offenders_private(probe) == ["edi/x835/_house_probe.py:1: imports _WS from edi.x12.tokenizer"]
        assert [m.split(": ", 1)[1] for m in _offenders_private_attribute(probe)] == [
            "uses edi.x12.tokenizer._detect",
            "uses edi.x12.tokenizer._detect",
        ]
    finally:
        del _PARSED[probe]


def _offenders_layer(path: Path) -> list[str]:
    mine = LAYER[_rel(path).split("/")[0]]
    return [
        f"{_rel(path)}:{line}: imports {module}"
        for line, module, _name in _imports(path)
        if LAYER.get(module.split(".")[0], -1) > mine
    ]


def test_layers_point_one_way() -> None:
    bad = [msg for p in _files(PRODUCT) for msg in _offenders_layer(p)]
    assert not bad, "a lower layer imports a higher one (coding <- edi <- reconcile <- dripline):\n" + "\n".join(bad)


def test_layer_check_sees_imports_inside_functions_and_by_name() -> None:
    probe = REPO / "coding" / "_house_probe.py"  # never written: its parse is given to the checker
    _PARSED[probe] = ast.parse(
        "import importlib\n"
        "from coding.model import Encounter\n"
        "def f():\n"
        "    from reconcile.ledger import store\n"
        "    return importlib.import_module('edi.x12.tokenizer')\n"
    )
    try:
        assert _offenders_layer(probe) == [
            "coding/_house_probe.py:4: imports reconcile.ledger",
            "coding/_house_probe.py:5: imports edi.x12.tokenizer",
        ]
    finally:
        del _PARSED[probe]


# How the code came to be written, rather than what it does: issue numbers and references, the
# people or programs that wrote it, work sessions and their stops.
HISTORY = re.compile(
    r"(?i:\bissues?\b|\bsessions?\b|\bsub-?agents?\b|\bstop\s+\d+\b|\bround\s+\d+\b)"
    r"|\bhelpers?\s+[A-Z]\b(?!\.)|\bhelper\s+\d+\b|\bhelper\s+[A-Z]'s\b"
)


def _comments_and_docstrings(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(_tree(path)):
        # docstrings, and bare strings used as comments
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            yield node.lineno, node.value.value


def _c_comments(path: Path) -> Iterator[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*", text, re.S):
        yield text.count("\n", 0, m.start()) + 1, m.group(0)


def test_comments_say_what_the_code_does_not_who_wrote_it() -> None:
    bad = []
    for p in _files(PRODUCT):
        for line, text in _comments_and_docstrings(p):
            for m in HISTORY.finditer(text):
                bad.append(f"{_rel(p)}:{line}: {m.group(0)!r} in {text.strip()[:80]!r}")
    for top in PRODUCT:
        for p in sorted((REPO / top).rglob("*.c")):
            for line, text in _c_comments(p):
                for m in HISTORY.finditer(text):
                    bad.append(f"{_rel(p)}:{line}: {m.group(0)!r}")
    assert not bad, "comments about the history of the code:\n" + "\n".join(bad)


def test_comments_cite_the_performance_notes_of_this_repository() -> None:
    # docs/performance.md is ours; notes kept outside the repository are not there for a reader
    bad = [
        f"{_rel(p)}:{line}"
        for p in _files(PRODUCT)
        for line, text in _comments_and_docstrings(p)
        if "performance-notes.md" in text
    ]
    assert not bad, "cite docs/performance.md instead:\n" + "\n".join(bad)
    assert (REPO / "docs" / "performance.md").is_file() and (REPO / "docs" / "architecture.md").is_file()


def test_history_pattern() -> None:
    for text in ("rules (issue 3)", "helper A's module", "ships with the home-infusion issue", "a later session"):
        assert HISTORY.search(text), text
    for text in ("Shared helpers for the CLI commands", "ISO 7812 issuer prefix", "no stop time", "Helpers."):
        assert not HISTORY.search(text), text


def test_every_package_says_what_it_exports() -> None:
    bad = []
    for p in _files(PRODUCT):
        if p.name != "__init__.py":
            continue
        tree = _tree(p)
        doc = ast.get_docstring(tree)
        if not doc:
            bad.append(f"{_rel(p)}: no docstring")
            continue
        has_all = any(
            isinstance(n, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
            )
            for n in tree.body
        )
        if not has_all and "exports nothing" not in " ".join(doc.split()):
            bad.append(f"{_rel(p)}: neither __all__ nor 'exports nothing' in its docstring")
    assert not bad, "\n".join(bad)
