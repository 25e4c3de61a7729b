"""The playbook registry: shipped playbooks plus a configured folder, chosen by id only."""

from __future__ import annotations

import time

import pytest

from coach.errors import InvalidPlaybookError, PlaybookError
from coach.playbook import PlaybookRegistry, builtin_playbooks
from coach.playbook.registry import ShippedPlaybookError, UnknownPlaybookError
from tests import yaml_io

SHIPPED = ["en-US-collections", "zh-CN-bank-collections"]


@pytest.fixture
def own_book() -> bytes:
    data = yaml_io.shipped_playbook("en-US-collections")
    data.update(id="acme-early-stage", version="2.1.0", name="ACME early stage")
    return yaml_io.dump(data, allow_unicode=True).encode()


def test_shipped_playbooks_are_installed(tmp_path):
    registry = PlaybookRegistry(tmp_path / "none-yet")
    assert registry.ids() == SHIPPED
    entries = {e.id: e for e in registry.entries()}
    assert entries["zh-CN-bank-collections"].language == "zh" and entries["en-US-collections"].shipped
    assert {"US-THREAT", "CN-HOURS"} <= registry.rule_ids()


def test_an_unknown_id_lists_the_ids_and_never_touches_a_path(tmp_path):
    registry = PlaybookRegistry(tmp_path)
    for ref in ("/etc/passwd", "../../etc/passwd", str(builtin_playbooks()["en-US-collections"]), "martian", "x" * 5000):
        with pytest.raises(UnknownPlaybookError) as info:
            registry.reference(ref)
        message = str(info.value)
        assert "installed playbooks: en-US-collections, zh-CN-bank-collections" in message
        assert "not found" not in message and "root" not in message and len(message) < 300
        if "/" in ref:  # not quoted back: the server cuts folders out of what it quotes ('..passwd')
            assert "never a path" in message and "passwd" not in message
    assert registry.reference(None) is None and registry.reference("en-US-collections") == "en-US-collections"


def test_an_upload_is_validated_stored_under_its_id_and_resolvable(tmp_path, own_book, monkeypatch):
    registry = PlaybookRegistry(tmp_path / "books")
    entry, created = registry.install(own_book)
    assert created and entry.id == "acme-early-stage" and entry.version == "2.1.0" and not entry.shipped
    assert (tmp_path / "books" / "acme-early-stage.yaml").read_bytes() == own_book
    assert registry.install(own_book)[1] is False  # the same file again: installed, nothing changed
    assert "acme-early-stage" in registry.ids()
    assert registry.reference("acme-early-stage") == str(tmp_path / "books" / "acme-early-stage.yaml")
    # the command line and the engine find it by id through COACH_PLAYBOOK_DIR
    from coach.config import get_settings
    from coach.playbook import load_playbook

    monkeypatch.setenv("COACH_PLAYBOOK_DIR", str(tmp_path / "books"))
    get_settings.cache_clear()
    try:
        assert load_playbook("acme-early-stage").version == "2.1.0"
    finally:
        monkeypatch.delenv("COACH_PLAYBOOK_DIR")
        get_settings.cache_clear()


def test_an_upload_may_not_replace_a_shipped_playbook(tmp_path):
    raw = builtin_playbooks()["en-US-collections"].read_bytes()
    with pytest.raises(ShippedPlaybookError, match="shipped"):
        PlaybookRegistry(tmp_path).install(raw)
    assert not list(tmp_path.iterdir())


def test_an_invalid_upload_lists_its_field_errors_and_stores_nothing(tmp_path, own_book):
    data = yaml_io.load(own_book)
    data["intents"][0]["examples"] = data["intents"][0]["examples"][:3]
    data["rules"][0]["severity"] = "S9"
    with pytest.raises(InvalidPlaybookError) as info:
        PlaybookRegistry(tmp_path).install(yaml_io.dump(data).encode())
    fields = [field for field, _ in info.value.problems]
    assert "intents.0.examples" in fields and "rules.0.severity" in fields
    assert not list(tmp_path.iterdir())
    for raw in (b"\x00\x01\x02", b"- just\n- a list\n", "名字: [unclosed".encode()):
        with pytest.raises(InvalidPlaybookError):
            PlaybookRegistry(tmp_path).install(raw)


def test_a_billion_laughs_upload_is_refused_before_it_expands(tmp_path, own_book):
    """Aliases of aliases: a few kilobytes that expand to gigabytes when the playbook is walked (its
    cache key, its export). Refused with the line where it passes the limit; nothing is stored. (The
    shipped en-US playbook uses an alias itself: a few stay allowed.)"""
    laughs = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 9))
    raw = own_book.decode() + "laughs:\n  l0: &l0 [lol, lol]\n" + "".join(f"  {line}\n" for line in laughs.splitlines())
    started = time.perf_counter()
    with pytest.raises(InvalidPlaybookError) as info:
        PlaybookRegistry(tmp_path).install(raw.encode())
    assert time.perf_counter() - started < 2
    (where, message), = info.value.problems
    assert where.startswith("line ") and "aliases (*name) expand the playbook past 20,000,000 characters" in message
    assert not list(tmp_path.iterdir())


def test_files_in_the_folder_that_do_not_load_are_skipped(tmp_path, own_book):
    (tmp_path / "broken.yaml").write_text("id: [", encoding="utf-8")
    (tmp_path / "en-US-collections.yaml").write_bytes(own_book)  # a shipped id: ignored
    (tmp_path / "renamed.yaml").write_bytes(own_book)  # its id is not its name: skipped
    registry = PlaybookRegistry(tmp_path)
    assert registry.ids() == ["broken", "en-US-collections", "renamed", "zh-CN-bank-collections"]
    assert [e.id for e in registry.entries()] == SHIPPED
    with pytest.raises(PlaybookError):
        registry.path("nope")


def test_a_server_keeps_at_most_so_many_uploaded_playbooks(tmp_path, own_book, monkeypatch):
    """An attack helper installed 34 playbooks: every listing then read them all from disk again
    (8-12 s) and each call built a new engine. Past the most a server keeps, a new id is refused; an
    installed one can still be replaced."""
    from coach.playbook import registry as module

    monkeypatch.setattr(module, "MAX_INSTALLED", 2)
    registry = PlaybookRegistry(tmp_path / "books")
    data = yaml_io.load(own_book)
    for n in range(2):
        registry.install(yaml_io.dump({**data, "id": f"book-{n}"}, allow_unicode=True).encode())
    with pytest.raises(PlaybookError, match="2 playbooks are installed"):
        registry.install(own_book)
    assert registry.install(yaml_io.dump({**data, "id": "book-1", "version": "9"}).encode())[1] is False
