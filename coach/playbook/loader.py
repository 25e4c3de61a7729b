"""Finding, reading and validating playbooks, with errors that name the file and the field.

Errors never quote the file's content: a YAML error gives its line, column and the problem, a field
error the field's path and what is wrong with it. A file that is not a playbook at all (a path typed
by mistake) is described, never shown.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from coach.errors import InvalidPlaybookError, PlaybookError
from coach.playbook.schema import Playbook
from coach.resources import data_dir

#: libyaml's parser when PyYAML was built with it (several times faster on the shipped playbooks).
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_BASE_LOADER):
    """Refuses a key given twice in one mapping: YAML keeps the last silently, so a second
    ``unless:`` under a trigger would drop the first one's patterns without a word."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base constructor reports it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {str(key)[:60]!r} is given twice in one mapping (the first would be ignored)",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

DEFAULT_PLAYBOOKS = {"en": "en-US-collections", "zh": "zh-CN-bank-collections"}
#: Largest playbook file read (the shipped ones are under 200 kB).
MAX_PLAYBOOK_BYTES = 2_000_000
#: Largest a playbook may grow when its YAML aliases are expanded (characters of text): ten times the
#: largest file read.
MAX_EXPANDED_CHARACTERS = 10 * MAX_PLAYBOOK_BYTES
#: Problems listed before "... and N more".
_MAX_PROBLEMS = 50


def builtin_playbooks() -> dict[str, Path]:
    """Built-in playbook ids and their files."""
    return {path.stem: path for path in sorted(data_dir("playbooks").glob("*.yaml"))}


def resolve_playbook_path(ref: str | Path) -> Path:
    """An installed playbook's id (shipped, or in ``COACH_PLAYBOOK_DIR``) or, for local users (the
    command line), a path to a YAML file. Servers take ids only: see :mod:`coach.playbook.registry`."""
    from coach.playbook.registry import PlaybookRegistry

    registry = PlaybookRegistry.from_settings()
    if isinstance(ref, str) and ref in registry.paths():
        return registry.paths()[ref]
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise PlaybookError(f"{path}: playbook file not found")
        return path
    raise PlaybookError(
        f"unknown playbook {str(ref)[:100]!r}",
        hint=f"use a path to a YAML file or one of: {', '.join(registry.ids()) or '(none installed)'}",
    )


def load_playbook(ref: str | Path) -> Playbook:
    """Read and validate a playbook; cached per resolved file and modification time in this process,
    and on disk by its content (:func:`_validated`)."""
    path = resolve_playbook_path(ref).resolve()
    return _load(path, path.stat().st_mtime_ns)


def default_playbook_id(language: str) -> str:
    return DEFAULT_PLAYBOOKS[language]


#: Playbooks kept parsed in a process: more than the shipped ones and all that may be installed
#: (coach.playbook.registry.MAX_INSTALLED), so listing them never reads them all from disk again.
LOADED_PLAYBOOKS = 64


@lru_cache(maxsize=LOADED_PLAYBOOKS)
def _load(path: Path, _mtime: int) -> Playbook:
    try:
        size = path.stat().st_size
        if size > MAX_PLAYBOOK_BYTES:
            raise PlaybookError(f"{path}: {size:,} bytes is too large for a playbook (at most {MAX_PLAYBOOK_BYTES:,})")
        raw = path.read_bytes()
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read playbook: {exc.strerror or type(exc).__name__}") from None
    return _validated(raw, str(path))


#: Name prefix of the cached validated playbooks (one name per file path).
VALIDATED = "validated-"


def _validated(raw: bytes, source: str) -> Playbook:
    """The playbook in ``raw``, from the cache when the same bytes were validated by the same code
    before. Validating a shipped playbook (every field, every regex checked for catastrophic
    backtracking) takes most of a second, at every start of `coach analyze` and of the server; a
    playbook that fails validation is never stored, so it is rejected again every time."""
    from coach import engine_cache  # it imports the schema: not at this module's import
    from coach.config import get_settings

    cache_dir = get_settings().cache_dir
    key = engine_cache.validation_key(raw)
    # named by the file's path, hashed (any length and character a path holds); the newest few dozen
    # files of all paths together are kept
    name = f"{VALIDATED}{hashlib.sha256(source.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}"
    stored = engine_cache.load(cache_dir, name, key)
    if stored is not None and isinstance(stored.get("playbook"), Playbook):
        return stored["playbook"]
    playbook = parse_playbook(raw, source)
    engine_cache.store(cache_dir, name, key, {"playbook": playbook}, family=VALIDATED)
    return playbook


def parse_playbook(raw: bytes | str, source: str) -> Playbook:
    """Validate a playbook's text. ``source`` names it in errors (a file, or "the upload").

    Raises :class:`InvalidPlaybookError`, whose ``problems`` are ``(field, message)`` pairs."""
    if isinstance(raw, bytes):
        if b"\x00" in raw[:4096]:
            raise InvalidPlaybookError(source, [("(file)", "a binary file, not a YAML playbook")])
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidPlaybookError(source, [("(file)", f"not UTF-8 text (byte {exc.start})")]) from None
    try:
        _refuse_alias_bombs(raw, source)
        data = yaml.load(raw, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        # The problem only (e.g. "found unexpected end of stream"): str(exc) would quote the line.
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InvalidPlaybookError(source, [(where, f"not valid YAML: {problem}")]) from None
    if not isinstance(data, dict):
        raise InvalidPlaybookError(source, [("(file)", "not a playbook: a playbook is a YAML mapping with id, version, "
                                                        "intents, ...")])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise InvalidPlaybookError(source, validation_problems(exc)) from None


def _refuse_alias_bombs(raw: str, source: str) -> None:
    """Refuse a playbook whose YAML aliases (``*name``) expand it past :data:`MAX_EXPANDED_CHARACTERS`:
    aliases of aliases ("billion laughs") turn a few kilobytes into gigabytes once anything walks the
    playbook (its cache key, its export). A few aliases of a shared block stay allowed."""
    if "&" not in raw or "*" not in raw:  # no alias without an anchor and a "*": most playbooks skip the second parse
        return
    sizes: dict[str, int] = {}  # each anchored node's expanded size (characters)
    open_nodes: list[tuple[str | None, int]] = [(None, 0)]  # (anchor, size so far) of each open collection
    for event in yaml.parse(raw, Loader=_UniqueKeyLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append((event.anchor, 0))
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, size = open_nodes.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, len(event.value) + 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor, 1)
        else:
            continue
        if anchor is not None:
            sizes[anchor] = size
        parent_anchor, parent_size = open_nodes[-1]
        open_nodes[-1] = (parent_anchor, parent_size + size)
        if parent_size + size > MAX_EXPANDED_CHARACTERS:
            mark = event.start_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
            raise InvalidPlaybookError(source, [(where, "its YAML aliases (*name) expand the playbook past "
                                                        f"{MAX_EXPANDED_CHARACTERS:,} characters")])


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, message)`` for each problem; never the offending value itself."""
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        loc = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (a typo?)"
        if not loc and ": " in message:
            # the cross-reference check reports several "field: problem" at once
            for part in message.split("; "):
                field, _, text = part.partition(": ")
                problems.append((field, text) if text else ("(top level)", part))
        else:
            problems.append((loc or "(top level)", message))
    return problems[:_MAX_PROBLEMS] + ([("...", f"and {len(problems) - _MAX_PROBLEMS} more")]
                                        if len(problems) > _MAX_PROBLEMS else [])
