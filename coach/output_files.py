"""Files the command line writes for the user (reports): a clear error for a path that cannot be
written, checked before the work that fills it, never a traceback."""

from __future__ import annotations

from pathlib import Path

from coach.errors import InputError


def check_writable(path: str | Path) -> Path:
    """``path`` if a file can be written there: its folder exists and it is not a folder itself.
    Checked before a review or a mining run, so a typo costs nothing."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{path} is a folder; give the report a file name (e.g. {path / 'report.html'})")
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {str(path.parent)!r} does not exist",
                         hint="create it first, or write the report somewhere else")
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8); what goes wrong (a folder removed meanwhile, no permission, a full disk)
    is an :class:`InputError` that names the file."""
    path = check_writable(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the report {path}: {exc.strerror or type(exc).__name__}") from None
    return path
