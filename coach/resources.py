"""Where the built-in playbooks and prompts live.

After a non-editable ``pip install .`` they are packaged inside ``coach/_data``; in a checkout (or an
editable install) they are the top-level ``playbooks/`` and ``prompts/`` folders.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder holding the built-in ``name`` files (``playbooks`` or ``prompts``)."""
    packaged = _PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / name
