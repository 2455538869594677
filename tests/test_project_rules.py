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


# --- the layout (CONTRIBUTING.md "The map") ------------------------------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
MAX_ROOT_MODULES = 14  # intake/ root: the application's shared modules only
SESSION_BEGIN_OWNERS = {"intake/db.py", "intake/reports/writer.py"}


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every module a file imports (absolute names; `from x import y` gives x and x.y)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _is_core(path: Path) -> bool:
    rel = _rel(path)
    return rel.startswith("intake/") and not rel.startswith("intake/commands/")


def test_the_core_never_imports_a_channel() -> None:
    offenders = [
        f"{_rel(path)}:{line} imports {name}"
        for path, tree in _modules()
        if _is_core(path)
        for line, name in _imports(path, tree)
        if name == "channels" or name.startswith("channels.")
    ]
    assert offenders == []


def test_the_core_never_branches_on_a_channel_name() -> None:
    from intake.vocab import CHANNELS

    offenders = []
    for path, tree in _modules():
        if not _is_core(path) or _rel(path) == "intake/vocab.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) and o.value in CHANNELS for o in operands):
                    offenders.append(f"{_rel(path)}:{node.lineno}")
            elif (
                isinstance(node, ast.MatchValue)
                and isinstance(node.value, ast.Constant)
                and node.value.value in CHANNELS
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []


def test_pynacl_is_imported_only_inside_crypto() -> None:
    offenders = [
        f"{_rel(path)}:{line}"
        for path, tree in _modules()
        if not _rel(path).startswith("crypto/")
        for line, name in _imports(path, tree)
        if name == "nacl" or name.startswith("nacl.")
    ]
    assert offenders == []


def test_session_begin_appears_only_in_the_transaction_helper_and_the_writer() -> None:
    offenders = [
        f"{_rel(path)}:{node.lineno}"
        for path, tree in _modules()
        if _rel(path) not in SESSION_BEGIN_OWNERS
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "begin"
        and isinstance(node.func.value, ast.Name)
        and "session" in node.func.value.id
    ]
    assert offenders == []


def test_no_commit_anywhere_but_the_transaction_owners() -> None:
    """Services flush; `transaction()` and the group-commit writer commit."""
    offenders = [
        f"{_rel(path)}:{node.lineno}"
        for path, tree in _modules()
        if _rel(path) not in SESSION_BEGIN_OWNERS
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]
    assert offenders == []


def _string_sets(tree: ast.Module) -> Iterator[tuple[int, frozenset[str]]]:
    """Every tuple, list, set or Literal[...] made only of string constants."""
    for node in ast.walk(tree):
        elements: list[ast.expr] | None = None
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            elements = list(node.elts)
        elif isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "Literal":
            inner = node.slice
            elements = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if elements and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elements
        ):
            yield node.lineno, frozenset(e.value for e in elements)  # type: ignore[attr-defined]


def test_each_vocabulary_is_spelled_out_once() -> None:
    from intake.vocab import CATEGORIES, CHANNELS, OUTCOMES, STATUSES

    vocabularies = {frozenset(v) for v in (CATEGORIES, CHANNELS, OUTCOMES, STATUSES)}
    homes = {"intake/vocab.py", "routing/constants.py"}
    offenders = [
        f"{_rel(path)}:{line}"
        for path, tree in _modules()
        if _rel(path) not in homes
        for line, values in _string_sets(tree)
        if values in vocabularies
    ]
    assert offenders == []


def test_outbox_kinds_are_named_constants_never_literals() -> None:
    offenders = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "enqueue"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []


def _constant_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_problem_json_is_spelled_only_by_the_error_module() -> None:
    offenders = [
        f"{_rel(path)}:{line}"
        for path, tree in _modules()
        if _rel(path) != "intake/errors.py"
        for line, value in _constant_strings(tree)
        if "problem+json" in value
    ]
    assert offenders == []


def test_kid_and_unicode_safety_have_one_home_each() -> None:
    """BLAKE2b-16 of a key (`kid`) only in crypto/envelope.py; catching
    UnicodeEncodeError (which holds the secret text) only in crypto/text.py."""
    offenders = []
    for path, tree in _modules():
        rel = _rel(path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "digest_size"
                and rel != "crypto/envelope.py"
                and getattr(node.value, "value", None) == 16
            ):
                offenders.append(f"{rel}: kid")
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {getattr(n, "id", None) for n in ast.walk(node.type)}
                if "UnicodeEncodeError" in names and rel != "crypto/text.py":
                    offenders.append(f"{rel}:{node.lineno}: UnicodeEncodeError")
    assert offenders == []


def test_the_notification_payload_is_built_in_one_place() -> None:
    offenders = []
    for path, tree in _modules():
        if _rel(path) == "intake/outbox/notifications.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"case_ref", "focal_point", "address", "event"} <= keys:
                    offenders.append(f"{_rel(path)}:{node.lineno}")
    assert offenders == []


def test_modules_and_functions_stay_small() -> None:
    offenders = []
    for path, tree in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{_rel(path)}: {lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(f"{_rel(path)}:{node.lineno} {node.name}: {length} lines")
    assert offenders == []


def test_the_intake_root_holds_only_shared_modules() -> None:
    root_modules = sorted(p.name for p in (ROOT / "intake").glob("*.py") if p.name != "__init__.py")
    assert len(root_modules) <= MAX_ROOT_MODULES, root_modules


def test_the_layer_order_holds() -> None:
    """crypto imports nothing of ours; routing only crypto; the core no channel."""
    allowed = {
        "crypto": {"crypto"},
        "routing": {"crypto", "routing"},
        "intake": {"crypto", "routing", "intake", "channels"},  # channels: commands only
        "channels": {"crypto", "routing", "intake", "channels"},
    }
    offenders = []
    for path, tree in _modules():
        package = _rel(path).split("/")[0]
        for line, name in _imports(path, tree):
            top = name.split(".")[0]
            if top in PACKAGES and top not in allowed[package]:
                offenders.append(f"{_rel(path)}:{line} imports {name}")
    assert offenders == []
