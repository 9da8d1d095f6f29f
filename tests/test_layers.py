"""The package's layers, read from its source: what each part may import, and that the engine opens no file."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "inceptionism"


def imported(folder):
    """``(file, module)`` for every ``inceptionism.*`` module imported by a file under ``folder``."""
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield path.name, node.module
            elif isinstance(node, ast.Import):
                yield from ((path.name, alias.name) for alias in node.names)


ABOVE = {  # what each part of the package must not import: the layers above it
    "engine": ("io", "render", "distributed", "web", "cli"),
    "distributed": ("render", "web", "cli"),
    "models": ("engine", "render", "web", "cli"),
    "objectives": ("engine", "render", "io", "web", "cli"),
    "io": ("models", "engine", "render", "web", "cli"),
    "render": ("web", "cli"),
}


@pytest.mark.parametrize("folder", sorted(ABOVE))
def test_no_layer_reaches_up(folder):
    forbidden = tuple(f"inceptionism.{part}" for part in ABOVE[folder])
    found = [(name, module) for name, module in imported(folder) if module.startswith(forbidden)]
    assert found == []


def test_the_engine_opens_no_file():
    calls = []
    for path in sorted((PACKAGE / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name in ("open", "Image.open", "torch.load", "torch.save") or name.endswith(
                    (".read_bytes", ".read_text", ".write_bytes", ".write_text")
                ):
                    calls.append((path.name, node.lineno, name))
    assert calls == []
