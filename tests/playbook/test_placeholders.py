"""A response that is still a placeholder ("TODO: write what the agent should say") does not validate:
agents are shown responses on live calls, so a trainer's note must never reach them. The check is the
playbook's own, so `coach playbook check`, `--playbook`, `POST /v1/playbooks` and `coach mine export`
all refuse it."""

from __future__ import annotations

import copy

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from coach.cli import main
from coach.errors import InvalidPlaybookError
from coach.playbook.loader import builtin_playbooks, parse_playbook
from coach.playbook.schema import Response


@pytest.fixture(scope="module")
def shipped() -> dict:
    return yaml.load(builtin_playbooks()["en-US-collections"].read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def with_response(book: dict, text: str, intent: int, response: int) -> str:
    data = copy.deepcopy(book)
    data["intents"][intent]["responses"][response]["text"] = text
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize("text", ["TODO: write what the agent should say when a debtor says this.", "todo", "  TODO",
                                  "- TODO: ask legal", "[TODO] fill in", "TBD", "FIXME: wording", "【TODO】写回复"])
def test_a_placeholder_response_is_refused(text):
    with pytest.raises(ValidationError, match="a placeholder, not what an agent should say"):
        Response(text=text)


@pytest.mark.parametrize("text", ["Today is a good day to set up a plan, if that works for you.",
                                  "To do that, I can send you the details in writing.", "Todos los pagos cuentan.",
                                  "Tell me about your budget first; we can work out the todo list together."])
def test_words_that_only_begin_like_a_placeholder_are_fine(text):
    assert Response(text=text).text == text


def test_a_playbook_with_a_placeholder_says_where_it_is(shipped):
    with pytest.raises(InvalidPlaybookError) as refused:
        parse_playbook(with_response(shipped, "TODO: write what the agent should say", 2, 0), "patch.yaml")
    [(field, message)] = refused.value.problems
    assert field == "intents.2.responses.0.text" and message.startswith("starts with TODO: a placeholder")


def test_playbook_check_refuses_a_placeholder(shipped, tmp_path):
    path = tmp_path / "patch.yaml"
    path.write_text(with_response(shipped, "TBD", 5, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["playbook", "check", str(path)])
    assert result.exit_code == 3, result.output
    assert "intents.5.responses.1.text" in result.output and "starts with TBD" in result.output
