"""The project rules that matter most, checked on the source (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "channels", "crypto", "routing")
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _log_calls(tree: ast.Module) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"log", "logger", "LOG"}
        ):
            yield node


def test_log_calls_take_one_constant_message() -> None:
    offenders = []
    for path, tree in _modules():
        for call in _log_calls(tree):
            message = call.args[0] if call.args else None
            constant = isinstance(message, ast.Constant) and isinstance(message.value, str)
            if len(call.args) != 1 or not constant:
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert offenders == [], "log calls must be log.info('event', extra={...}): " + ", ".join(
        offenders
    )


def test_no_print_outside_the_command_output_helpers() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "print"
    ]
    assert offenders == []


def test_no_commit_inside_services() -> None:
    """Services flush; the use case (api, commands, pipeline, worker) commits."""
    offenders = []
    for path, tree in _modules():
        if path.name != "service.py":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
