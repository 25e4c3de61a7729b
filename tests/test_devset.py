"""The development set stays apart from the playbooks and frozen (see devset/README.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from coach.playbook import load_playbook
from coach.text.normalize import normalize

DEVSET = Path(__file__).resolve().parents[1] / "devset"


def _devset_texts(language: str) -> set[str]:
    folder = DEVSET / language
    texts = [i["text"] for i in yaml.safe_load((folder / "debtor.yaml").read_text())["items"]]
    texts += [i["text"] for i in yaml.safe_load((folder / "agent.yaml").read_text())["items"]]
    for call in yaml.safe_load((folder / "calls.yaml").read_text())["calls"]:
        texts += [t["text"] for t in call["turns"]]
    return {normalize(t, language) for t in texts}


def _playbook_examples(playbook_id: str) -> set[str]:
    """Every example the engine learns from (intent, emotion, stage and rule examples, non-objection
    and compliant agent lines); phrases such as the mini-Miranda's legal wording may be shared."""
    found: set[str] = set()

    def walk(value, key: str | None = None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    if key in ("examples", "non_objection_examples", "compliant_agent_examples"):
                        found.add(item)
                else:
                    walk(item, key)

    playbook = load_playbook(playbook_id)
    walk(playbook.model_dump())
    found |= {e.text for e in playbook.calibration_examples}  # tuned on, so kept apart too
    return {normalize(t, playbook.language) for t in found}


def test_no_devset_text_is_in_a_playbook():
    for language, playbook_id in (("en", "en-US-collections"), ("zh", "zh-CN-bank-collections")):
        # short generic replies ("ok", "是我") may be in both by chance; longer ones may not
        shared = {t for t in _devset_texts(language) & _playbook_examples(playbook_id) if len(t) > (12 if language == "en" else 5)}
        assert not shared, f"dev-set texts copied into {playbook_id}: {sorted(shared)[:10]}"


def test_devset_is_frozen():
    for line in (DEVSET / "FROZEN").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((DEVSET / name).read_bytes()).hexdigest() == digest, f"devset/{name} changed after freezing"
