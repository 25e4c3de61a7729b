"""Finding, reading and validating playbooks, with errors that name the file and the field."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from coach.errors import PlaybookError, describe_validation_error
from coach.playbook.schema import Playbook
from coach.resources import data_dir

DEFAULT_PLAYBOOKS = {"en": "en-US-collections", "zh": "zh-CN-bank-collections"}


def builtin_playbooks() -> dict[str, Path]:
    """Built-in playbook ids and their files."""
    return {path.stem: path for path in sorted(data_dir("playbooks").glob("*.yaml"))}


def resolve_playbook_path(ref: str | Path) -> Path:
    """A playbook id (``en-US-collections``) or a path to a YAML file."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise PlaybookError(f"{path}: playbook file not found")
        return path
    builtins = builtin_playbooks()
    if str(ref) in builtins:
        return builtins[str(ref)]
    raise PlaybookError(
        f"unknown playbook {str(ref)!r}",
        hint=f"use a path to a YAML file or one of: {', '.join(builtins) or '(none installed)'}",
    )


def load_playbook(ref: str | Path) -> Playbook:
    """Read and validate a playbook; cached per resolved file and modification time."""
    path = resolve_playbook_path(ref).resolve()
    return _load(path, path.stat().st_mtime_ns)


def default_playbook_id(language: str) -> str:
    return DEFAULT_PLAYBOOKS[language]


@lru_cache(maxsize=32)
def _load(path: Path, _mtime: int) -> Playbook:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"{path}: cannot read playbook: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(f"{path}:{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise PlaybookError(f"{path}: a playbook is a YAML mapping with id, version, intents, ...")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(f"{path}: invalid playbook:\n{describe_validation_error(exc)}") from None
