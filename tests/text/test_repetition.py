"""Lines the speech model looped on, told from people repeating themselves (lines written for these
tests, in no playbook, and shapes of what Whisper wrote on the bundled recordings)."""

from __future__ import annotations

import pytest

from coach.text.repetition import looped


@pytest.mark.parametrize(("language", "line"), [
    ("en", "I'm gonna see you there, I'm gonna see you there, I'm gonna"),
    ("en", "and we're on the road, on the road and then we're on the road"),
    ("en", "Thank you for watching. Thank you for watching. Thank you for"),
    ("zh", "我们可以去看看,我们可以去看看,我们可以去看看,我们"),
    ("zh", "会不会有时间的,会不会有时间的,会不会有时间"),
])
def test_a_phrase_said_over_and_over_is_a_loop(language, line):
    assert looped(line, language)


@pytest.mark.parametrize(("language", "line"), [
    ("en", "ill sort it out when i sort it out"),                      # repeated for effect, short of a loop
    ("en", "no no no thats not what i said"),
    ("en", "we can do fifty on the first and fifty on the fifteenth if that helps"),
    ("en", "if this isnt paid by friday we will be garnishing your wages"),
    ("zh", "我真的没钱 真的没钱"),
    ("zh", "天天打天天打 你们烦不烦"),
    ("zh", "您好 我是招商银行信用卡中心的 请问是李明先生本人吗"),
])
def test_people_repeating_themselves_are_not_a_loop(language, line):
    assert not looped(line, language)
