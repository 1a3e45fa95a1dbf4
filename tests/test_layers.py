"""Import arrows point down: the service, scorers and photo check never import the study (study/), whose
tools (calibration, training, synthetic data) sit on top of them; only the CLI, an interface, runs those."""

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parent.parent / "server"


def imported_modules(source: str, package: str) -> set[str]:
    """Every module the source of a module in `package` imports, anywhere in it (function bodies too), as an
    absolute dotted name."""
    parts = package.split(".")
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            out.add(name)
            out |= {f"{name}.{alias.name}" for alias in node.names}
    return out


def test_the_import_reader_sees_relative_and_nested_imports():
    src = "import numpy\ndef f():\n    from ..study.learned import LearnedModel\n    from . import result\n"
    assert imported_modules(src, "phototips.scoring") >= {
        "numpy", "phototips.study.learned", "phototips.scoring.result"}


def test_runtime_code_never_imports_the_study():
    runtime = [p for p in SERVER.rglob("*.py") if "study" not in p.relative_to(SERVER).parts and p.name != "cli.py"]
    assert len(runtime) > 30
    offenders = {}
    for p in runtime:
        package = ".".join(["phototips", *p.relative_to(SERVER).parent.parts])
        found = sorted(m for m in imported_modules(p.read_text(encoding="utf-8"), package)
                       if m.startswith("phototips.study"))
        if found:
            offenders[str(p.relative_to(SERVER))] = found
    assert not offenders
