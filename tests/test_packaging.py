"""Our generic top-level names resolve to our files, not to PyPI namesakes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["intake", "channels", "crypto", "routing"])
def test_top_level_packages_are_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent.parent == ROOT


def test_alembic_is_the_library_not_our_folder() -> None:
    import alembic

    assert alembic.__file__ is not None
    assert "site-packages" in alembic.__file__
    assert not (ROOT / "alembic" / "__init__.py").exists()
    assert not (ROOT / "locales" / "__init__.py").exists()
