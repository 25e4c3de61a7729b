"""The installed playbooks: the shipped ones plus ``<id>.yaml`` files in ``COACH_PLAYBOOK_DIR``.

Clients of the server (the live stream, uploads) choose a playbook by id from here and never name a
file: an unknown id is answered with the list of ids, without touching the file system, so nothing
tells whether some path exists on the server. The command line, run by a local user, may still give a
path (:func:`coach.playbook.loader.resolve_playbook_path`).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from coach.config import Settings, get_settings
from coach.errors import PlaybookError
from coach.playbook.loader import builtin_playbooks, load_playbook, parse_playbook
from coach.playbook.schema import PLAYBOOK_ID

log = logging.getLogger(__name__)
_ID = re.compile(PLAYBOOK_ID)
#: Uploaded playbooks a server keeps: each is parsed and kept in memory once read (listing them,
#: filtering calls by rule), and an engine is fitted for each one a call uses.
MAX_INSTALLED = 50


class UnknownPlaybookError(PlaybookError):
    """A playbook id that is not installed."""


class ShippedPlaybookError(PlaybookError):
    """An upload that would replace a shipped playbook."""


class VersionTakenError(PlaybookError):
    """An upload that would change an installed playbook without changing its version: calls already
    reviewed name ``<id>@<version>`` as where their hints and findings came from."""


@dataclass(frozen=True)
class InstalledPlaybook:
    id: str
    version: str
    language: str
    locale: str
    name: str
    #: Shipped with the product (read-only) or installed in the playbook folder.
    shipped: bool


class PlaybookRegistry:
    """The playbooks this installation offers, by id."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> PlaybookRegistry:
        return cls((settings or get_settings()).playbook_folder())

    def shipped(self) -> dict[str, Path]:
        return builtin_playbooks()

    def local(self) -> dict[str, Path]:
        """``<id>.yaml`` files of the playbook folder (a shipped id there is ignored)."""
        if self.directory is None or not self.directory.is_dir():
            return {}
        shipped = self.shipped()
        found = {}
        for path in sorted(self.directory.glob("*.yaml")):
            if path.stem in shipped:
                log.warning("%s: ignored, the id %r is a shipped playbook's", path, path.stem)
            elif _ID.match(path.stem) and path.is_file():
                found[path.stem] = path
        return found

    def paths(self) -> dict[str, Path]:
        return {**self.shipped(), **self.local()}

    def ids(self) -> list[str]:
        return sorted(self.paths())

    def path(self, playbook_id: str) -> Path:
        """The file of an installed playbook; :class:`UnknownPlaybookError` (listing the ids) otherwise."""
        paths = self.paths()
        if playbook_id not in paths:
            # a path is not quoted back: the server's error handler cuts folders out of what it quotes
            path_like = "/" in playbook_id or "\\" in playbook_id
            named = ": a playbook is named by its id, never a path" if path_like else f" {playbook_id[:100]!r}"
            raise UnknownPlaybookError(f"unknown playbook{named}; installed playbooks: {', '.join(sorted(paths)) or '(none)'}")
        return paths[playbook_id]

    def reference(self, playbook_id: str | None) -> str | None:
        """What to hand the engine for a client's choice: None (the language's default), a shipped id,
        or an installed file. Raises :class:`UnknownPlaybookError` for anything else."""
        if not playbook_id:
            return None
        path = self.path(playbook_id)
        return playbook_id if playbook_id in self.shipped() else str(path)

    def entries(self) -> list[InstalledPlaybook]:
        """Every installed playbook that loads (an invalid file in the folder is logged and skipped)."""
        shipped = self.shipped()
        out = []
        for playbook_id, path in sorted(self.paths().items()):
            try:
                book = load_playbook(path)
            except PlaybookError as exc:
                log.warning("installed playbook %s does not load: %s", path, exc)
                continue
            if book.id != playbook_id:
                log.warning("%s: ignored, its id is %r; name the file after its id", path, book.id)
                continue
            out.append(InstalledPlaybook(id=book.id, version=book.version, language=book.language, locale=book.locale,
                                         name=book.name, shipped=playbook_id in shipped))
        return out

    def rule_ids(self) -> set[str]:
        """The rule ids of every installed playbook (what list filters accept)."""
        ids: set[str] = set()
        for path in self.paths().values():
            try:
                ids.update(rule.id for rule in load_playbook(path).rules)
            except PlaybookError:
                continue
        return ids

    def install(self, raw: bytes) -> tuple[InstalledPlaybook, bool]:
        """Validate a playbook and store it as ``<id>.yaml`` (replacing an older upload of that id).
        Returns the entry and whether it is new. Shipped ids cannot be replaced."""
        book = parse_playbook(raw, "the playbook")
        if book.id in self.shipped():
            raise ShippedPlaybookError(f"{book.id!r} is a shipped playbook and cannot be replaced",
                                       hint="give your playbook its own id (and file name)")
        if self.directory is None:
            raise PlaybookError("no playbook folder is configured (COACH_PLAYBOOK_DIR)")
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{book.id}.yaml"
        created = not target.exists()
        if not created:
            if target.read_bytes() == raw:  # the same file again: nothing to do
                return self._entry(book), False
            if _installed_version(target) == book.version:
                raise VersionTakenError(
                    f"version {book.version} of {book.id!r} is installed with other content; stored calls name "
                    f"{book.id}@{book.version} as the source of their hints",
                    hint="raise the playbook's version (e.g. 1.0.1) and upload it again")
        if created and len(self.local()) >= MAX_INSTALLED:
            raise PlaybookError(f"{MAX_INSTALLED} playbooks are installed, the most a server keeps",
                                hint=f"replace one (upload it again under its id), or remove an unused <id>.yaml "
                                     f"from {self.directory.name}/ (COACH_PLAYBOOK_DIR)")
        handle, partial = tempfile.mkstemp(dir=self.directory, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(raw)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        return self._entry(book), created

    @staticmethod
    def _entry(book) -> InstalledPlaybook:
        return InstalledPlaybook(id=book.id, version=book.version, language=book.language, locale=book.locale,
                                 name=book.name, shipped=False)


def _installed_version(path: Path) -> str | None:
    """The version of the playbook installed at ``path`` (None when it no longer loads)."""
    try:
        return load_playbook(path).version
    except PlaybookError:
        return None
