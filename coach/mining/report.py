"""The trainer's mining report: one self-contained HTML file, like the coach's call review report.

Inline CSS and SVG drawn here (bars, weekly trend lines, interval whiskers), no script and no network:
it reads the same in a browser offline, in a mail client and on paper. Everything people said is
escaped by the template (autoescape); only the SVG built here is marked safe, its text escaped first.
Every figure names the calls it rests on (the call ids, in a fold-out list).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from coach.mining.models import MiningResult
from coach.output_files import write_text

ACCENT = "#24407a"
GOOD = "#2e7d5b"
NEW = "#c05f00"


def render_mining_report(result: MiningResult, *, title: str = "Mining report", generated_at: datetime | None = None) -> str:
    generated_at = generated_at or datetime.now(UTC)
    top = max((i.share_of_calls for i in result.intents), default=0.0) or 1.0
    return _environment().get_template("mining.html.j2").render(
        title=title, result=result, window=result.window, generated=f"{generated_at:%Y-%m-%d %H:%M} UTC",
        bar=lambda share: bar(share, top), trend=trend, interval=interval, short_ref=short_ref,
    )


def write_mining_report(path: str | Path, result: MiningResult, **options) -> Path:
    """Render and write the report (UTF-8): what ``coach mine --report out.html`` does."""
    return write_text(path, render_mining_report(result, **options))


def short_ref(ref: str) -> str:
    """``en-US-collections@1.0.0#intents/cannot_afford/responses/1`` -> ``cannot_afford #1``."""
    if "#intents/" not in ref:
        return "off script" if ref == "off_script" else ref
    intent, _, number = ref.split("#intents/", 1)[1].partition("/responses/")
    return f"{intent} #{number}"


def bar(share: float, top: float = 1.0, width: int = 160) -> Markup:
    """A horizontal bar for a share (0-1), scaled so the largest share fills ``width``."""
    filled = 0 if top <= 0 else round(width * min(1.0, share / top))
    return Markup(
        f'<svg class="bar" width="{width}" height="12" viewBox="0 0 {width} 12" role="img" aria-label="{share:.0%}">'
        f'<rect width="{width}" height="12" fill="#eef0f3"/><rect width="{filled}" height="12" fill="{ACCENT}"/></svg>'
    )


def trend(weekly: list, *, key: str = "calls", width: int = 140, height: int = 28, colour: str = ACCENT) -> Markup:
    """A weekly trend line with a dot per week; the tooltip names the week and its count."""
    values = [getattr(w, key) for w in weekly]
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    points = [(round(i * step if len(values) > 1 else width / 2, 1), round(height - 3 - (height - 6) * v / top, 1))
              for i, v in enumerate(values)]
    line = " ".join(f"{x},{y}" for x, y in points)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="2.2" fill="{colour}"><title>{escape(w.week)}: {v}</title></circle>'
                   for (x, y), w, v in zip(points, weekly, values))
    return Markup(f'<svg class="trend" width="{width + 6}" height="{height}" viewBox="-3 0 {width + 6} {height}" '
                  f'role="img" aria-label="weekly {escape(key)}"><polyline points="{line}" fill="none" stroke="{colour}" '
                  f'stroke-width="1.6"/>{dots}</svg>')


def interval(rate: float | None, low: float | None, high: float | None, width: int = 140) -> Markup:
    """The success rate as a dot on its Wilson 95 % interval, on a 0-100 % axis."""
    if rate is None or low is None or high is None:
        return Markup("")

    def x(value: float) -> float:
        return round(4 + (width - 8) * value, 1)

    return Markup(
        f'<svg class="interval" width="{width}" height="14" viewBox="0 0 {width} 14" role="img" '
        f'aria-label="{rate:.0%} ({low:.0%} to {high:.0%})"><line x1="4" y1="7" x2="{width - 4}" y2="7" stroke="#dfe3e8"/>'
        f'<line x1="{x(low)}" y1="7" x2="{x(high)}" y2="7" stroke="{GOOD}" stroke-width="3"/>'
        f'<circle cx="{x(rate)}" cy="7" r="4" fill="#fff" stroke="{GOOD}" stroke-width="2"/></svg>'
    )


@cache
def _environment() -> Environment:
    """Autoescaping everywhere: utterances are words people said."""
    return Environment(loader=PackageLoader("coach.mining", "templates"), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)
