"""Normalisation of recognizer output, one pure step per function.

Each step maps a `Traced` to a `Traced` so offsets into the transcript survive:
spaces between Chinese characters go, recognition slips are corrected, fillers are
dropped, and Chinese numerals become digits (digit by digit for phone numbers and
years, with cn2an for quantities such as 三万五千 -> 35000).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import cn2an

from routing.text import Traced

DIGIT_CHARS = "零〇幺一二两三四五六七八九"
MAGNITUDE_CHARS = "十百千万亿"
_DIGIT_VALUE = {
    "零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}

# Whitespace goes unless it separates two Latin words ("wifi ok" keeps its space).
_SPACES = re.compile(r"^\s+|\s+$|(?<![A-Za-z\s])\s+|\s+(?![A-Za-z\s])")
# Three or more bare digits in a row are read out one by one: phone numbers, years,
# room numbers, hotline numbers such as 一二三一五. Two (四五, 一两) are approximations.
_DIGIT_RUN = re.compile(f"[{DIGIT_CHARS}]{{3,}}")
# A quantity has a magnitude character and starts with a digit or 十: 万一 (in case)
# and 千万 (by all means) are words, not numbers. 十字/十分 (cross, very) are words too.
# 一点五万 (1.5 x 10000): a decimal is only a whole sum with a magnitude after it; 零点八
# (a price per square metre) stays as spoken.
_DECIMAL = re.compile(
    f"(?<![{DIGIT_CHARS}{MAGNITUDE_CHARS}])[{DIGIT_CHARS}十]+点[{DIGIT_CHARS}]+[万千亿]")
_QUANTITY = re.compile(
    f"(?<![{DIGIT_CHARS}{MAGNITUDE_CHARS}])(?=[{DIGIT_CHARS}十])"
    f"[{DIGIT_CHARS}]*[{MAGNITUDE_CHARS}][{DIGIT_CHARS}{MAGNITUDE_CHARS}]*"
    "(?<![零〇])(?!字|分(?!钟)|足)"
)


def remove_spaces(text: Traced) -> Traced:
    return text.sub(_SPACES, lambda m: "")


def _alternation(words: Iterable[str]) -> re.Pattern[str] | None:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    if not ordered:
        return None
    return re.compile("|".join(re.escape(w) for w in ordered))


@dataclass(frozen=True)
class Normaliser:
    """The configured normalisation: slips and fillers come from config/routing/."""

    slips: Mapping[str, str]
    fillers: tuple[str, ...]
    # Place names and terms whose numerals are part of the name (十八里镇, 二七路).
    protected: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_slip_re", _alternation(self.slips))
        object.__setattr__(self, "_filler_re", _alternation(self.fillers))
        object.__setattr__(self, "_numeral_re", numeral_pattern(self.protected))

    def correct_slips(self, text: Traced) -> Traced:
        pattern: re.Pattern[str] | None = getattr(self, "_slip_re")  # noqa: B009
        if pattern is None:
            return text
        return text.sub(pattern, lambda m: self.slips[m.group(0)])

    def drop_fillers(self, text: Traced) -> Traced:
        pattern: re.Pattern[str] | None = getattr(self, "_filler_re")  # noqa: B009
        if pattern is None:
            return text
        return text.sub(pattern, lambda m: "")

    def __call__(self, transcript: str) -> Traced:
        text = remove_spaces(Traced.of(transcript))
        text = self.correct_slips(text)
        text = self.drop_fillers(text)
        return numerals_to_digits(text, getattr(self, "_numeral_re"))  # noqa: B009


def digits_one_by_one(spoken: str) -> str:
    """一三九零 -> 1390, 幺 and 两 included; leading zeros kept."""
    return "".join(_DIGIT_VALUE[c] for c in spoken)


def quantity_value(spoken: str) -> int | None:
    """三万五千 -> 35000, 一万二 -> 12000 (colloquial); None when it is not a whole number."""
    if "点" in spoken:
        return _decimal_value(spoken)
    try:
        value = cn2an.cn2an(spoken, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return int(value)


def _decimal_value(spoken: str) -> int | None:
    """一点五万 -> 15000; None unless the result is whole (cn2an reads no 点 before 万)."""
    whole, _, rest = spoken.partition("点")
    decimals, magnitude = rest[:-1], rest[-1:]
    scale = {"万": 10_000, "千": 1_000, "亿": 100_000_000}.get(magnitude)
    head = quantity_value(whole) if whole not in _DIGIT_VALUE else int(_DIGIT_VALUE[whole])
    if scale is None or head is None or not decimals:
        return None
    try:
        fraction = int(digits_one_by_one(decimals))
    except KeyError:
        return None
    denominator: int = 10 ** len(decimals)
    numerator: int = (head * denominator + fraction) * scale
    if numerator % denominator:
        return None
    return numerator // denominator


def numeral_pattern(protected: Iterable[str] = ()) -> re.Pattern[str]:
    """One pattern for protected names, digit runs and quantities, tried in that order."""
    names = sorted({p for p in protected if re.search(f"[{DIGIT_CHARS}{MAGNITUDE_CHARS}]", p)},
                   key=len, reverse=True)
    keep = "|".join(re.escape(n) for n in names) or "(?!)"
    return re.compile(
        f"(?P<keep>{keep})|(?P<run>{_DIGIT_RUN.pattern})|(?P<qty>{_DECIMAL.pattern}"
        f"|{_QUANTITY.pattern})"
    )


def _numeral(match: re.Match[str]) -> str:
    spoken = match.group(0)
    if match.group("run"):
        return digits_one_by_one(spoken)
    if match.group("qty"):
        value = quantity_value(spoken)
        if value is None and spoken.endswith("一") and len(spoken) > 2:
            # 九千四一下子: the quantity ended before 一下 (一起, 一直...).
            head = quantity_value(spoken[:-1])
            return spoken if head is None else f"{head}一"
        return spoken if value is None else str(value)
    return spoken


def numerals_to_digits(text: Traced, pattern: re.Pattern[str] | None = None) -> Traced:
    return text.sub(pattern or numeral_pattern(), _numeral)
