"""The development sets and the sealed held-out set stay apart from the playbooks and frozen (see
devset/README.md, devset2/README.md, holdout/README.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from coach.playbook import load_playbook
from coach.text.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
SETS = ("devset", "devset2", "devset3", "devset4", "devset5", "devset6", "devset7", "devset8", "devset9", "devset10", "holdout")
#: The QA-scorecard set's halves (qaset/README.md): whole calls, one file per language.
QA_HALVES = ("qaset/dev", "qaset/test")


def _devset_texts(language: str, which: str = "devset") -> set[str]:
    folder = ROOT / which / language
    texts = []
    for name in ("debtor.yaml", "agent.yaml"):
        if (folder / name).exists():
            texts += [i["text"] for i in yaml.safe_load((folder / name).read_text())["items"]]
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
                    if key in ("examples", "non_objection_examples", "compliant_agent_examples", "lawful_examples"):
                        found.add(item)
                else:
                    walk(item, key)

    playbook = load_playbook(playbook_id)
    walk(playbook.model_dump())
    found |= {e.text for e in playbook.calibration_examples}  # tuned on, so kept apart too
    return {normalize(t, playbook.language) for t in found}


@pytest.mark.parametrize("which", SETS + QA_HALVES)
def test_no_devset_text_is_in_a_playbook(which):
    for language, playbook_id in (("en", "en-US-collections"), ("zh", "zh-CN-bank-collections")):
        # short generic replies ("ok", "是我") may be in both by chance; longer ones may not
        shared = {t for t in _devset_texts(language, which) & _playbook_examples(playbook_id)
                  if len(t) > (12 if language == "en" else 5)}
        assert not shared, f"{which} texts copied into {playbook_id}: {sorted(shared)[:10]}"


@pytest.mark.parametrize("which", SETS)
def test_devset_is_frozen(which):
    listed = (ROOT / which / "FROZEN").read_text().splitlines()
    assert len(listed) == 6  # debtor, agent and calls, in each language
    for line in listed:
        digest, name = line.split()
        assert hashlib.sha256((ROOT / which / name).read_bytes()).hexdigest() == digest, f"{which}/{name} changed after freezing"


@pytest.mark.parametrize("which", QA_HALVES)
def test_qaset_half_is_frozen(which):
    listed = (ROOT / which / "FROZEN").read_text().splitlines()
    assert len(listed) == 2  # calls, in each language
    for line in listed:
        digest, name = line.split()
        assert hashlib.sha256((ROOT / which / name).read_bytes()).hexdigest() == digest, f"{which}/{name} changed after freezing"
