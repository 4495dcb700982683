"""A small reader of Asterisk's config syntax, enough to check our rendered files.

Sections are `[name]`, `[name](!)` (a template) or `[name](parent,...)`; options are
`key = value` or `key => value`; `;` starts a comment. Names may repeat (pjsip.conf has
an endpoint and an AOR both called 1001), so sections come back as a list, each with
its options after template inheritance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?\s*$")


@dataclass
class Section:
    name: str
    template: bool
    parents: list[str]
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        values = self.all(key)
        return values[-1] if values else None

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.options if k == key]


def _strip_comment(line: str) -> str:
    out = []
    escaped = False
    for ch in line:
        if ch == ";" and not escaped:
            break
        escaped = ch == "\\" and not escaped
        out.append(ch)
    return "".join(out).strip()


def parse(text: str) -> list[Section]:
    """Sections in file order, each with its inherited options first."""
    raw: list[Section] = []
    for line in text.splitlines():
        line = _strip_comment(line)
        if not line:
            continue
        match = _SECTION.match(line)
        if match:
            flags = [f.strip() for f in (match.group(2) or "").split(",") if f.strip()]
            raw.append(Section(match.group(1), "!" in flags, [f for f in flags if f != "!"]))
            continue
        if not raw:
            raise ValueError(f"option outside a section: {line!r}")
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"not an option: {line!r}")
        raw[-1].options.append((key.strip(), value.lstrip(">").strip()))
    templates = {s.name: s for s in raw if s.template}

    def effective(section: Section) -> list[tuple[str, str]]:
        inherited: list[tuple[str, str]] = []
        for parent in section.parents:
            if parent not in templates:
                raise ValueError(f"[{section.name}] inherits unknown template {parent}")
            inherited += effective(templates[parent])
        return inherited + section.options

    return [Section(s.name, s.template, s.parents, effective(s)) for s in raw]


def concrete(sections: list[Section]) -> list[Section]:
    return [s for s in sections if not s.template]


def find(sections: list[Section], name: str, type_: str | None = None) -> Section:
    for s in concrete(sections):
        if s.name == name and (type_ is None or s.get("type") == type_):
            return s
    raise KeyError(f"[{name}] type={type_}")
