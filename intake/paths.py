"""Where the shipped data folders (`alembic/`, `locales/`) are.

In a wheel they live inside the package (`intake/_data/`), because a top-level
`alembic/` in site-packages would shadow the Alembic library; in a source
checkout they are at the top of the repository (SPEC section 1).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_folder(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"data folder {name!r} is missing from this installation")


def package_folder(name: str) -> Path:
    """A folder shipped inside the `intake` package (templates, static files)."""
    return _PACKAGE / name
