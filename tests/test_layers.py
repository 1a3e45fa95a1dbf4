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


def is_study(module: str) -> bool:
    return module == "phototips.study" or module.startswith("phototips.study.")


def package_of(path: Path) -> str:
    """The package a file's relative imports start from: its folder's (an `__init__.py` is its own package's)."""
    return ".".join(["phototips", *path.relative_to(SERVER).parent.parts])


def test_the_import_reader_sees_every_form_of_import():
    src = ("import numpy\nimport phototips.study.synthetic\nfrom phototips.study import learned\n"
           "def f():\n    from ..study.learned import LearnedModel\n    from . import result\n"
           "    from .. import study\n")
    found = imported_modules(src, package_of(SERVER / "scoring" / "photo_check.py"))
    assert found >= {"numpy", "phototips.study.synthetic", "phototips.study.learned",
                     "phototips.scoring.result", "phototips.study"}
    # In a package's __init__.py, `from . import x` is that package's x.
    assert "phototips.scoring.registry" in imported_modules("from . import registry\n",
                                                           package_of(SERVER / "scoring" / "__init__.py"))
    assert not is_study("phototips.study_notes") and is_study("phototips.study") and is_study("phototips.study.x")


def test_runtime_code_never_imports_the_study():
    runtime = [p for p in SERVER.rglob("*.py")
               if "study" not in p.relative_to(SERVER).parts and p.relative_to(SERVER) != Path("cli.py")]
    assert len(runtime) > 30
    offenders = {}
    for p in runtime:
        found = sorted(filter(is_study, imported_modules(p.read_text(encoding="utf-8"), package_of(p))))
        if found:
            offenders[str(p.relative_to(SERVER))] = found
    assert not offenders
