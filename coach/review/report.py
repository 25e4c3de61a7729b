"""A self-contained HTML report of reviewed calls, for a coach to read, print or e-mail.

One file and nothing else: the CSS is inline and the plots are SVG drawn here, on the server, so the
report looks the same in a mail client, in a browser with no network and on paper, and it never
fetches anything (a report about a debtor must not call out to a CDN). Transcripts are user text, so
the template autoescapes everything; only the SVG built here is marked safe, after escaping its text.

The report is built from what the store keeps: the :class:`CallDetail` (utterances, outcome, summary),
the call's events as stored JSON (see docs/events.md) and the coach notes. Python turns these into
plain view dictionaries; ``templates/report.html.j2`` only lays them out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from coach.output_files import write_text
from coach.storage import CallStore
from coach.storage.records import CallDetail, NoteRecord, UtteranceRecord, Viewer

SEVERITIES = ("S1", "S2", "S3", "S4")
SEVERITY_COLOURS = {"S1": "#b3261e", "S2": "#e8710a", "S3": "#c99700", "S4": "#5f6b7a"}
EMOTION_COLOURS = {
    "calm": "#2e7d5b", "anxious": "#d99a00", "distressed": "#7b3fa0",
    "angry": "#c62828", "frustrated": "#e8710a", "evasive": "#5c7c99",
}
OBJECTION_COLOUR = "#3556a8"

#: Chinese for the report's own words (keyed by the English shown), added beside the English when a
#: call is in Chinese. What was said stays as it was spoken.
ZH: dict[str, str] = {
    # sections and headings
    "Call review report": "通话质检报告", "Calls": "通话列表", "Summary": "摘要", "Outcome": "结果",
    "Debtor emotion": "客户情绪", "Talk time": "说话时长", "Compliance": "合规问题", "Objections": "异议处理",
    "QA scorecard": "质检评分", "Coach notes": "辅导备注", "Transcript": "通话记录", "Stages reached": "已达阶段", "Failed on": "一票否决",
    "Metrics": "指标", "Errors": "分析错误",
    # facts and columns
    "Call": "通话", "Date": "日期", "Agent": "坐席", "Team": "团队", "Duration": "时长", "Score": "评分",
    "Violations": "违规", "Language": "语言", "Playbook": "话术库", "Balance": "欠款", "Time": "时间",
    "Speaker": "说话人", "Text": "内容", "Stage": "阶段", "Severity": "严重度", "Rule": "规则", "Message": "说明",
    "Evidence": "证据", "Citation": "依据", "Check": "检查项", "Result": "结果", "Detail": "详情",
    "Weight": "权重", "Kind": "类型", "Amount": "金额", "Due date": "还款日期", "Confidence": "置信度",
    "Debtor said": "客户原话", "Agent answered": "坐席回应", "Suggested script": "建议话术",
    "Escalate to": "升级至", "Author": "作者", "Note": "备注", "Where": "位置",
    # values
    "Debtor": "客户", "Third party": "第三方", "Unknown": "未知",
    "Calm": "平静", "Anxious": "焦虑", "Distressed": "痛苦", "Angry": "愤怒", "Frustrated": "不满", "Evasive": "回避",
    "Passed": "通过", "Failed": "未通过", "N/a": "不适用",
    "Promise to pay": "承诺还款", "Payment made": "已还款", "Refusal": "拒绝还款", "Callback": "约定回电",
    "Dispute": "提出异议", "Wrong party": "非本人", "No contact": "未接通", "None": "无结论",
    "Opening": "开场白", "Identity verification": "核实身份", "Disclosure": "告知", "Discovery": "了解情况",
    "Negotiation": "协商", "Commitment": "承诺", "Closing": "结束语",
    "Agent talk ratio": "坐席说话占比", "Interruptions": "打断次数", "Long silences": "长时间沉默",
    "Utterances": "话轮数", "Identity verified": "已核实身份",
}

_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class ReportCall:
    """One stored call as the report needs it."""

    detail: CallDetail
    #: The call's stored events (JSON dicts as in docs/events.md), in order.
    events: list[dict]
    notes: list[NoteRecord]


def stored_calls(store: CallStore, call_ids: list[str], viewer: Viewer | None = None) -> list[ReportCall]:
    """The report's view of stored calls (what ``viewer`` may see): detail, events and notes."""
    return [ReportCall(detail=store.get_call(c, viewer), events=store.events(c, viewer), notes=store.notes(c, viewer))
            for c in call_ids]


def render_report(calls: list[ReportCall], *, title: str | None = None, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML document: an index of the calls, then a section per call."""
    views = [_call_view(call, number) for number, call in enumerate(calls, start=1)]
    any_zh = any(view["zh"] for view in views)
    generated_at = generated_at or datetime.now(UTC)
    return _environment().get_template("report.html.j2").render(
        title=title or "Call review report",
        t=_translator(any_zh),
        generated_at=_format_datetime(generated_at),
        calls=views,
        totals=_totals(views),
        severity_colours=SEVERITY_COLOURS,
        emotion_colours=EMOTION_COLOURS,
        objection_colour=OBJECTION_COLOUR,
    )


def write_report(path: str | Path, calls: list[ReportCall], **options: Any) -> Path:
    """Render and write the report (UTF-8), returning the path: what ``--report out.html`` does."""
    return write_text(path, render_report(calls, **options))


@cache
def _environment() -> Environment:
    """Autoescaping is on for everything: transcripts and notes are free text typed or spoken by people."""
    return Environment(loader=PackageLoader("coach.review", "templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


# -- one call ------------------------------------------------------------------------------------


def _call_view(call: ReportCall, number: int) -> dict[str, Any]:
    """Everything the template shows for one call, already sorted and formatted."""
    detail = call.detail
    events = [e for e in call.events if isinstance(e, dict)]
    utterances = _utterances(detail, events)
    by_type = _group(events)
    scorecard = by_type["scorecard"][-1] if by_type["scorecard"] else None
    duration = _duration(detail, utterances, events)
    anchor = f"call-{number}-{_SLUG.sub('-', detail.id).strip('-')[:40]}".rstrip("-")
    violations = _violations(by_type["compliance"], anchor)
    counts = Counter(e["severity"] for e in by_type["compliance"])
    score = detail.score if detail.score is not None else (scorecard or {}).get("score")
    zh = detail.language.lower().startswith("zh")
    return {
        "number": number, "anchor": anchor, "id": detail.id, "zh": zh, "t": _translator(zh),
        "language": detail.language, "playbook": detail.playbook,
        "date": _format_call_time(detail.started_at or detail.created_at, detail.metadata.get("debtor_timezone")),
        "agent": detail.agent_id or "", "team": detail.team or "",
        "duration": _clock(duration), "balance": _balance(detail.metadata),
        "score": score, "score_text": "n/a" if score is None else f"{score:g}", "score_class": _score_class(score),
        "outcome": _outcome(detail.outcome_detail, detail.outcome), "summary": detail.summary or "",
        "warnings": [(_humanize(w.code), w.message) for w in detail.warnings or []],
        "severity_counts": [(s, counts[s]) for s in SEVERITIES if counts[s]],
        "worst": next((s for s in SEVERITIES if counts[s]), None),
        "s1_count": counts["S1"], "s1_rules": [g["rule_id"] for g in violations if g["severity"] == "S1"],
        "violation_count": len(by_type["compliance"]),
        "violations": violations,
        "objections": _objections(by_type["intent"], utterances, by_type["compliance"], anchor),
        "scorecard": _scorecard(scorecard),
        "emotion_plot": emotion_plot(by_type["sentiment"], by_type["intent"], by_type["compliance"], duration),
        "emotions_seen": _emotions_seen(by_type["sentiment"]),
        "talk": _talk_time(utterances),
        "transcript": _transcript(utterances, by_type, call.notes, anchor),
        "notes": _notes(call.notes, utterances, anchor),
        "errors": [e.get("message", "") for e in by_type["error"]],
    }


def _group(events: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {kind: [] for kind in ("utterance", "sentiment", "intent", "compliance", "scorecard", "error")}
    for event in events:
        groups.setdefault(event.get("type", ""), []).append(event)
    return groups


def _utterances(detail: CallDetail, events: list[dict]) -> list[UtteranceRecord]:
    """The stored transcript; a call stored without its utterance rows still has its utterance events."""
    if detail.utterances:
        return sorted(detail.utterances, key=lambda u: u.utterance_id)
    return [UtteranceRecord(utterance_id=e["utterance_id"], speaker=e["speaker"], text=e["text"], start=e["start"],
                            end=e["end"], stage=e.get("stage")) for e in events if e.get("type") == "utterance"]


def _duration(detail: CallDetail, utterances: list[UtteranceRecord], events: list[dict]) -> float:
    """The call's length; the plot's time axis must hold every event, so take the latest of all."""
    candidates = [detail.duration or 0.0, *(u.end for u in utterances), *(e.get("time") or 0.0 for e in events)]
    return max(candidates)


def _violations(compliance: list[dict], anchor: str) -> list[dict[str, Any]]:
    """One row per rule broken, worst severity first, then by when it was first broken, so an S1 is
    the first thing a coach reads; every occurrence keeps its own evidence and a link to its line."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for e in compliance:
        group = groups.setdefault((e["severity"], e["rule_id"]), {
            "severity": e["severity"], "rule_id": e["rule_id"], "name": e["name"], "message": e["message"],
            "citation": e["citation"], "occurrences": [],
        })
        group["occurrences"].append({
            "time": _clock(e.get("time")), "link": _utterance_anchor(anchor, e.get("utterance_id")),
            "evidence": e["evidence"], "where": "pre-call" if e.get("method") == "metadata" else "whole call",
            "confidence": f"{e.get('confidence', 0):.0%}",
        })
    return sorted(groups.values(), key=lambda g: SEVERITIES.index(g["severity"]))


def _objections(intents: list[dict], utterances: list[UtteranceRecord], compliance: list[dict],
                anchor: str) -> list[dict[str, Any]]:
    """Each objection beside the agent's actual answer (their next utterance) and the playbook's
    script, so the coach can compare what was said with what should have been."""
    rules_by_utterance: dict[int, list[dict]] = {}
    for event in compliance:
        if event.get("utterance_id") is not None:
            rules_by_utterance.setdefault(event["utterance_id"], []).append(event)
    text = {u.utterance_id: u for u in utterances}
    rows = []
    for event in (e for e in intents if e.get("kind") == "objection"):
        uid = event.get("utterance_id")
        answer = _next_agent_utterance(utterances, uid)
        rows.append({
            "intent": event["intent"], "name": event["name"], "confidence": f"{event.get('confidence', 0):.0%}",
            "time": _clock(event.get("time")), "link": _utterance_anchor(anchor, uid),
            "said": text[uid].text if uid in text else event.get("evidence", ""),
            "answer": answer.text if answer else None,
            "answer_time": _clock(answer.start) if answer else "",
            "answer_link": _utterance_anchor(anchor, answer.utterance_id) if answer else None,
            "answer_rules": [(r["severity"], r["rule_id"]) for r in rules_by_utterance.get(answer.utterance_id, [])]
            if answer else [],
            "suggestions": [{"text": s["text"], "principle": s.get("principle", "")} for s in event.get("suggestions", [])],
            "escalation": _escalation(event.get("escalation")),
        })
    return rows


def _escalation(escalation: dict | None) -> dict[str, Any] | None:
    if not escalation:
        return None
    return {"to": _humanize(str(escalation.get("to") or "")), "reason": escalation.get("reason") or "",
            "pause_collection": bool(escalation.get("pause_collection"))}


def _next_agent_utterance(utterances: list[UtteranceRecord], after: int | None) -> UtteranceRecord | None:
    if after is None:
        return None
    return next((u for u in utterances if u.utterance_id > after and u.speaker == "agent"), None)


def _scorecard(event: dict | None) -> dict[str, Any] | None:
    """Checks with a plain status word, and metrics in the units a coach thinks in (%, counts, m:ss)."""
    if event is None:
        return None
    checks = [{
        "name": c["name"], "detail": c.get("detail", ""), "weight": f"{c.get('weight', 0):g}",
        "status": {True: "passed", False: "failed", None: "n/a"}[c.get("passed")],
    } for c in event.get("checks", [])]
    names = {c["id"]: c["name"] for c in event.get("checks", []) if "id" in c}
    return {
        "score": event.get("score"), "checks": checks,
        "auto_failed": [names.get(check_id, check_id) for check_id in event.get("auto_failed", [])],
        "metrics": [(_humanize(key), _metric(key, value)) for key, value in event.get("metrics", {}).items()],
        "stages": [{"stage": _humanize(s.get("stage", "")), "time": _clock(s.get("time")), "evidence": s.get("evidence", "")}
                   for s in event.get("stages", [])],
    }


def _metric(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_ratio") and isinstance(value, (int, float)):
        return f"{value:.0%}"
    if key == "duration" and isinstance(value, (int, float)):
        return _clock(value)
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _outcome(detail: dict[str, Any] | None, kind: str | None) -> dict[str, Any] | None:
    if not detail and not kind:
        return None
    detail = detail or {"kind": kind}
    amount = detail.get("amount")
    return {
        "kind": _humanize(detail.get("kind") or kind or "none"),
        "amount": None if amount is None else f"{amount:,.2f} {detail.get('currency') or ''}".strip(),
        "due": " ".join(filter(None, [str(detail.get("due_date") or ""), f"({detail['due_text']})" if detail.get("due_text") else ""])),
        "evidence": detail.get("evidence") or "",
        "confidence": f"{detail['confidence']:.0%}" if detail.get("confidence") is not None else "",
    }


def _talk_time(utterances: list[UtteranceRecord]) -> list[dict[str, Any]]:
    """Seconds spoken per party, as shares of all speech (overlaps count for both)."""
    seconds: Counter[str] = Counter()
    for u in utterances:
        party = u.speaker if u.speaker in ("agent", "debtor") else "other"
        seconds[party] += max(0.0, u.end - u.start)
    total = sum(seconds.values())
    if not total:
        return []
    colours = {"agent": "#3556a8", "debtor": "#2e7d5b", "other": "#9aa3ad"}
    return [{"party": party, "label": "Third party" if party == "other" else party.capitalize(), "colour": colours[party],
             "share": seconds[party] / total, "seconds": _clock(seconds[party])}
            for party in ("agent", "debtor", "other") if seconds[party]]


def _transcript(utterances: list[UtteranceRecord], by_type: dict[str, list[dict]], notes: list[NoteRecord],
                anchor: str) -> list[dict[str, Any]]:
    """Each utterance with what the engine found in it, so the transcript reads like an annotated script."""
    def per_utterance(kind: str) -> dict[int, list[dict]]:
        found: dict[int, list[dict]] = {}
        for event in by_type[kind]:
            if event.get("utterance_id") is not None:
                found.setdefault(event["utterance_id"], []).append(event)
        return found

    sentiment, intents, rules = per_utterance("sentiment"), per_utterance("intent"), per_utterance("compliance")
    noted = {n.utterance_id for n in notes if n.utterance_id is not None}
    rows = []
    for u in utterances:
        uid = u.utterance_id
        found_rules = sorted(rules.get(uid, []), key=lambda r: SEVERITIES.index(r["severity"]))
        rows.append({
            "id": uid, "anchor": _utterance_anchor(anchor, uid), "time": _clock(u.start), "speaker": u.speaker,
            "speaker_label": _humanize(u.speaker), "text": u.text, "stage": _humanize(u.stage) if u.stage else "",
            "emotion": [(s["label"], f"{s['valence']:+.2f}") for s in sentiment.get(uid, [])],
            "intents": [(i["name"], i.get("kind", "")) for i in intents.get(uid, [])],
            "rules": [(r["severity"], r["rule_id"], r["name"]) for r in found_rules],
            "worst": found_rules[0]["severity"] if found_rules else None,
            "noted": uid in noted,
        })
    return rows


def _notes(notes: list[NoteRecord], utterances: list[UtteranceRecord], anchor: str) -> list[dict[str, Any]]:
    text = {u.utterance_id: u for u in utterances}
    return [{
        "author": n.author, "when": _format_datetime(n.created_at), "text": n.text,
        "where": _clock(text[n.utterance_id].start) if n.utterance_id in text else "",
        "link": _utterance_anchor(anchor, n.utterance_id) if n.utterance_id in text else None,
        "quote": text[n.utterance_id].text if n.utterance_id in text else "",
    } for n in notes]


def _emotions_seen(sentiment: list[dict]) -> list[str]:
    return sorted({s["label"] for s in sentiment}, key=lambda label: list(EMOTION_COLOURS).index(label)
                  if label in EMOTION_COLOURS else len(EMOTION_COLOURS))


def _totals(views: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [v["score"] for v in views if v["score"] is not None]
    counts: Counter[str] = Counter()
    for view in views:
        counts.update(dict(view["severity_counts"]))
    return {"calls": len(views), "average_score": f"{sum(scores) / len(scores):.1f}" if scores else "n/a",
            "severity_counts": [(s, counts[s]) for s in SEVERITIES if counts[s]]}


# -- the emotion plot (inline SVG) ----------------------------------------------------------------

_W, _H = 760, 214
_LEFT, _RIGHT, _TOP, _BOTTOM = 66, 14, 12, 140  # the valence area; two marker lanes sit below it
_OBJECTION_LANE, _VIOLATION_LANE, _AXIS = 160, 180, 200


def emotion_plot(sentiment: list[dict], intents: list[dict], compliance: list[dict], duration: float) -> Markup:
    """The debtor's valence (-1..1) over call time as an SVG line, each point coloured by its emotion
    label, with objections (triangles) and rule violations (diamonds, coloured by severity) marked on
    lanes under the time axis. Other non-agent speakers (a third party) are hollow points off the line.

    Drawn here rather than by a charting script so the report needs no JavaScript and no network.
    """
    duration = max(duration, 1.0)

    def x(seconds: float | None) -> float:
        return _LEFT + (_W - _LEFT - _RIGHT) * min(max((seconds or 0.0) / duration, 0.0), 1.0)

    def y(valence: float) -> float:
        return _TOP + (1 - valence) / 2 * (_BOTTOM - _TOP)

    parts = [f'<svg class="emotion-plot" viewBox="0 0 {_W} {_H}" role="img" aria-label="Debtor emotion over time">']
    parts += _plot_grid(x, y, duration)
    debtor = [s for s in sentiment if s.get("speaker") == "debtor"]
    if len(debtor) > 1:
        line = " ".join(f"{x(s['time']):.1f},{y(s['valence']):.1f}" for s in debtor)
        parts.append(f'<polyline class="valence-line" points="{line}" fill="none" stroke="#44546a" stroke-width="1.6"/>')
    for s in sentiment:
        colour = EMOTION_COLOURS.get(s["label"], "#777")
        fill = colour if s.get("speaker") == "debtor" else "#fff"
        tip = f"{_clock(s['time'])} {s.get('speaker', '')}: {s['label']}, valence {s['valence']:+.2f}"
        parts.append(f'<circle class="sentiment-point" cx="{x(s["time"]):.1f}" cy="{y(s["valence"]):.1f}" r="4.2" '
                     f'fill="{fill}" stroke="{colour}" stroke-width="1.6"><title>{escape(tip)}</title></circle>')
    for event in (e for e in intents if e.get("kind") == "objection"):
        cx, cy = x(event["time"]), _OBJECTION_LANE
        tip = f"{_clock(event['time'])} objection: {event['name']}"
        parts.append(f'<polygon class="objection-marker" points="{cx:.1f},{cy - 6} {cx - 5.5:.1f},{cy + 4} {cx + 5.5:.1f},{cy + 4}" '
                     f'fill="{OBJECTION_COLOUR}"><title>{escape(tip)}</title></polygon>')
    for event in sorted(compliance, key=lambda e: -SEVERITIES.index(e["severity"])):  # S1 drawn last, on top
        cx, cy = x(event["time"]), _VIOLATION_LANE
        colour = SEVERITY_COLOURS[event["severity"]]
        if event["severity"] == "S1":
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{_TOP}" y2="{_BOTTOM}" stroke="{colour}" '
                         f'stroke-opacity="0.25" stroke-width="1"/>')
        tip = f"{_clock(event['time'])} {event['severity']} {event['rule_id']}: {event['name']}"
        parts.append(f'<polygon class="violation-marker {event["severity"].lower()}" points="{cx:.1f},{cy - 6} {cx + 5:.1f},{cy} '
                     f'{cx:.1f},{cy + 6} {cx - 5:.1f},{cy}" fill="{colour}"><title>{escape(tip)}</title></polygon>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _plot_grid(x: Callable[[float], float], y: Callable[[float], float], duration: float) -> list[str]:
    """Valence gridlines (+1, 0, -1), the lane labels and the time ticks."""
    parts = []
    for value, label in ((1, "+1"), (0.5, ""), (0, "0"), (-0.5, ""), (-1, "−1")):
        dash = ' stroke-dasharray="4 3"' if value == 0 else ""
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     f'stroke="{"#9aa3ad" if value == 0 else "#e3e7ec"}"{dash}/>')
        if label:
            parts.append(f'<text x="{_LEFT - 6}" y="{y(value) + 3.5:.1f}" text-anchor="end" class="tick">{label}</text>')
    parts.append(f'<text x="4" y="{(_TOP + _BOTTOM) / 2 + 3:.1f}" class="lane">valence</text>')
    parts.append(f'<text x="4" y="{_OBJECTION_LANE + 3}" class="lane">objections</text>')
    parts.append(f'<text x="4" y="{_VIOLATION_LANE + 3}" class="lane">violations</text>')
    parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_AXIS - 8}" y2="{_AXIS - 8}" stroke="#9aa3ad"/>')
    step = _tick_step(duration)
    tick = 0.0
    while tick <= duration + 1e-6:
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{_AXIS - 8}" y2="{_AXIS - 4}" stroke="#9aa3ad"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{_AXIS + 6}" text-anchor="middle" class="tick">{_clock(tick)}</text>')
        tick += step
    return parts


def _tick_step(duration: float) -> float:
    """A round step giving at most about eight ticks."""
    return next((step for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800) if duration / step <= 8), 3600)


# -- small formatting helpers ---------------------------------------------------------------------


def _translator(zh: bool) -> Callable[[str], Markup]:
    """``t("Transcript")``: the English label, with the Chinese beside it for a Chinese call."""
    def t(text: str) -> Markup:
        english = escape(text)
        if zh and text in ZH:
            return Markup('{} <span class="zh">{}</span>').format(english, ZH[text])
        return Markup(english)
    return t


def _humanize(value: str) -> str:
    """``identity_verification`` -> ``Identity verification`` (also the key into :data:`ZH`)."""
    words = value.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _clock(seconds: float | None) -> str:
    """Audio time as m:ss (h:mm:ss past an hour), how call recordings are usually navigated."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _format_datetime(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        offset = value.strftime("%z")
        zone = "" if not offset else " UTC" if offset == "+0000" else f" {offset[:3]}:{offset[3:]}"
        return value.strftime("%Y-%m-%d %H:%M") + zone
    return value.isoformat()


def _format_call_time(value: datetime | None, zone: Any) -> str:
    """When the call started, in the debtor's time zone when the call's metadata names one (the hours
    rules are judged in it; a stored call's time is UTC), with the UTC time beside it."""
    if not isinstance(value, datetime) or value.tzinfo is None or not isinstance(zone, str) or not zone:
        return _format_datetime(value)
    try:
        local = value.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return _format_datetime(value)
    return f"{local:%Y-%m-%d %H:%M} {zone} ({value.astimezone(UTC):%H:%M} UTC)"


def _balance(metadata: dict[str, Any]) -> str:
    balance = metadata.get("balance")
    if not isinstance(balance, (int, float)):
        return ""
    return f"{balance:,.2f} {metadata.get('currency') or ''}".strip()


def _score_class(score: float | None) -> str:
    if score is None:
        return "none"
    return "good" if score >= 80 else "fair" if score >= 60 else "poor"


def _utterance_anchor(anchor: str, utterance_id: int | None) -> str | None:
    return None if utterance_id is None else f"{anchor}-u{utterance_id}"
