"""A Vosk model folder: its layout, its sample rate, loading it by path.

The model is only ever loaded from a folder the administrator installed
(`hotline asr install-model`): `vosk.Model(lang=...)` would try the internet,
which government networks do not have.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SAMPLE_RATE = 16000

# Files every Kaldi/Vosk model needs, relative to the model folder.
REQUIRED_FILES = ("am/final.mdl", "conf/mfcc.conf")
# Either a static graph, or a lookahead pair (which also allows grammar mode).
STATIC_GRAPH = ("graph/HCLG.fst",)
LOOKAHEAD_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")


class ModelMissing(Exception):
    """No usable model: the message names the folder and the command that installs one."""

    def __init__(self, path: Path, problems: list[str], install_name: str = "small-cn") -> None:
        self.path = path
        self.problems = problems
        self.zh = (
            f"语音识别模型不可用: {path} ({'; '.join(problems)})。"
            f"请运行 hotline asr install-model {install_name} "
            f"(离线环境: hotline asr install-model {install_name} --from 模型.zip)。"
            "在此之前来电只能使用按键菜单。"
        )
        self.en = (
            f"speech model unavailable at {path} ({'; '.join(problems)}); "
            f"run 'hotline asr install-model {install_name}' "
            f"(offline: '... --from MODEL.zip'); until then callers get key menus only"
        )
        super().__init__(f"{self.zh}\n{self.en}")


@dataclass(frozen=True)
class ModelLayout:
    path: Path
    sample_rate: int
    supports_grammar: bool


def layout_problems(path: Path) -> list[str]:
    """What is missing from a model folder (empty when it looks usable)."""
    if not path.is_dir():
        return ["folder not found"]
    problems = [f"missing {name}" for name in REQUIRED_FILES if not (path / name).is_file()]
    static = all((path / name).is_file() for name in STATIC_GRAPH)
    lookahead = all((path / name).is_file() for name in LOOKAHEAD_GRAPH)
    if not (static or lookahead):
        problems.append("missing graph/HCLG.fst or graph/HCLr.fst + graph/Gr.fst")
    return problems


def sample_rate_of(mfcc_conf: str) -> int:
    """The model's expected input rate from the text of conf/mfcc.conf."""
    match = re.search(r"^--sample-frequency=(\d+)", mfcc_conf, re.MULTILINE)
    return int(match.group(1)) if match else DEFAULT_SAMPLE_RATE


def inspect_model(path: Path) -> ModelLayout:
    """The layout of a usable model folder; ModelMissing otherwise."""
    problems = layout_problems(path)
    if problems:
        raise ModelMissing(path, problems)
    rate = sample_rate_of((path / "conf/mfcc.conf").read_text(encoding="utf-8", errors="replace"))
    grammar = all((path / name).is_file() for name in LOOKAHEAD_GRAPH)
    return ModelLayout(path, rate, grammar)


@dataclass(frozen=True)
class ModelStatus:
    """What /status shows about speech recognition."""

    ready: bool
    path: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, object]:
        return {"ready": self.ready, "path": self.path, "zh": self.zh, "en": self.en}


def status_ok(path: Path) -> ModelStatus:
    return ModelStatus(True, str(path), "语音识别可用", "speech recognition ready")


def status_missing(error: ModelMissing) -> ModelStatus:
    return ModelStatus(False, str(error.path), error.zh, error.en)


@dataclass(frozen=True)
class SearchSettings:
    """Beam-search overrides for the decoder; 0 keeps what the model's conf/model.conf says.

    Vosk reads these only from conf/model.conf inside the model folder, so they are
    applied through an overlay folder (see `search_overlay`), never by editing the
    installed model.
    """

    max_active: int = 0
    beam: float = 0.0

    def overrides(self) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.max_active > 0:
            values["max-active"] = str(self.max_active)
        if self.beam > 0:
            values["beam"] = f"{self.beam:g}"
        return values


def with_search(model_conf: str, search: SearchSettings) -> str:
    """The text of conf/model.conf with the overrides in place of the model's values."""
    overrides = search.overrides()
    kept = [line for line in model_conf.splitlines()
            if line.strip() and line.strip().lstrip("-").split("=", 1)[0] not in overrides]
    return "\n".join([*kept, *(f"--{name}={value}" for name, value in overrides.items())]) + "\n"


def search_overlay(path: Path, search: SearchSettings, overlays: Path) -> Path:
    """A model folder with these search settings: `path` itself when nothing is overridden.

    Otherwise a folder under `overlays` whose entries link to the installed model's,
    except conf/model.conf, which is written with the overrides. Rebuilt when it no
    longer matches the installed model (reinstalled, or its conf edited).
    """
    if not search.overrides():
        return path
    source = path.resolve()
    original = source / "conf" / "model.conf"
    conf_text = with_search(
        original.read_text(encoding="utf-8") if original.is_file() else "", search)
    tag = hashlib.sha256(str(source).encode()).hexdigest()[:8]
    suffix = "-".join(f"{name}{value}" for name, value in search.overrides().items())
    target = overlays / f"{source.name}-{tag}-{suffix}"
    if _overlay_matches(target, source, conf_text):
        return target
    building = overlays / f".{target.name}.{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    (building / "conf").mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name != "conf":
            (building / entry.name).symlink_to(entry)
    for entry in (source / "conf").iterdir() if (source / "conf").is_dir() else ():
        if entry.name != "model.conf":
            (building / "conf" / entry.name).symlink_to(entry)
    (building / "conf" / "model.conf").write_text(conf_text, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    try:
        building.rename(target)
    except OSError:  # another process built it at the same moment: use theirs
        shutil.rmtree(building, ignore_errors=True)
        if not _overlay_matches(target, source, conf_text):
            raise
    return target


def _overlay_matches(target: Path, source: Path, conf_text: str) -> bool:
    conf = target / "conf" / "model.conf"
    if not conf.is_file() or conf.read_text(encoding="utf-8") != conf_text:
        return False

    def names(folder: Path) -> set[str]:
        return {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()

    return (names(target) == names(source) | {"conf"}
            and names(target / "conf") == names(source / "conf") | {"model.conf"}
            and all((target / name).resolve() == (source / name).resolve()
                    for name in names(source) - {"conf"}))
