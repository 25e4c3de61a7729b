"""Money figures in what an agent says, with Arabic digits or Chinese numerals."""

from __future__ import annotations

import re

_ARABIC = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?!\d)")
_CHINESE = re.compile(r"[零一二两三四五六七八九十百千万亿点]+")
_WORD_SCALE = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "million": 1e6, "万": 1e4, "千": 1e3, "亿": 1e8}
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def money_figures(text: str) -> list[float]:
    """Every figure in ``text`` that could be an amount of money (>= 1)."""
    figures: list[float] = []
    for match in _ARABIC.finditer(text):
        value = float(match.group(1).replace(",", "") + ("." + match.group(2) if match.group(2) else ""))
        after = text[match.end() : match.end() + 9].strip().lower()
        for word, scale in _WORD_SCALE.items():
            if after.startswith(word):
                value *= scale
                break
        figures.append(value)
    for match in _CHINESE.finditer(text):
        if len(match.group(0)) < 2:  # a lone 一/两 is usually a word ("一共", "两个"), not a figure
            continue
        value = chinese_number(match.group(0))
        if value is not None:
            figures.append(value)
    return [f for f in figures if f >= 1]


def chinese_number(text: str) -> float | None:
    """``五千二百三十`` -> 5230, ``一万五`` -> 15000, ``三点五`` -> 3.5; None if not a number."""
    if not text or set(text) <= {"点"}:
        return None
    if "点" in text:
        whole, _, fraction = text.partition("点")
        if not fraction:
            return None  # "一点" is "a little"
        base = chinese_number(whole) if whole else 0.0
        digits = "".join(str(_DIGITS[c]) for c in fraction if c in _DIGITS)
        return None if base is None else base + (float("0." + digits) if digits else 0.0)
    total, section, number = 0.0, 0.0, 0.0
    last_unit = 1
    for char in text:
        if char in _DIGITS:
            number = _DIGITS[char]
        elif char in _UNITS:
            unit = _UNITS[char]
            section += (number or 1) * unit
            number, last_unit = 0.0, unit
        elif char in ("万", "亿"):
            scale = 1e4 if char == "万" else 1e8
            total = (total + section + number) * scale
            section, number, last_unit = 0.0, 0.0, int(scale)
        else:
            return None
    if number and last_unit >= 10 and text[-1] in _DIGITS and len(text) >= 2 and text[-2] not in _DIGITS:
        number *= last_unit / 10  # 一万五 = 15000, 三千二 = 3200
    return total + section + number
