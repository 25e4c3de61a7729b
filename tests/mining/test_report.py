"""The mining report: one self-contained HTML file that escapes what people said."""

from __future__ import annotations

import re

from coach.mining.report import render_mining_report, short_ref


def test_the_report_is_self_contained_and_shows_every_part(mined):
    html = render_mining_report(mined)
    body = html.split("<body", 1)[1]
    assert "http://" not in body and "https://" not in body and "<script" not in html and "<link" not in html
    for cluster in mined.clusters:
        assert f'id="cluster-{cluster.id}"' in html and cluster.representatives[0] in html
    assert "new this week" in html  # the Chinese credit questions
    for item in mined.intents:
        assert f'id="intent-{item.intent}"' in html
    assert "too few calls" in html and "cannot_afford #0" in html and "off script" in html
    assert len(re.findall(r"<svg", html)) >= len(mined.intents) * 2


def test_what_people_said_is_escaped(mined):
    hostile = mined.model_copy(deep=True)
    hostile.clusters[0].representatives[0] = "<script>alert(1)</script>"
    html = render_mining_report(hostile)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_response_refs_read_short():
    assert short_ref("en-US-collections@1.0.0#intents/cannot_afford/responses/1") == "cannot_afford #1"
    assert short_ref("off_script") == "off script"
