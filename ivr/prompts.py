"""Prompt sounds: espeak-ng synthesis, administrator overrides, content-hash cache.

Each prompt of ivr.yaml becomes `<sounds>/zh/hotline12345/<key>-<hash>.wav`
(8 kHz mono 16-bit, what Asterisk plays without transcoding), where the hash
covers everything that shapes the audio (voice, speed, the text as spoken, or
the bytes of an override file). A changed text therefore gets a new file and a
call that still runs on the old menus keeps its old file; an unchanged one is
never synthesised twice. A recorded `config/prompts/<key>.wav` overrides the
synthetic voice.

Asterisk's own queue and digit sounds have no Chinese set and fall back to
English for `language=zh`: `queue_sounds()` lists the Chinese ones we make.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import warnings
import wave
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.config import IvrConfig, Prompt, VoiceConfig
from ivr.speakable import speakable

with warnings.catch_warnings():
    # pydub warns about ffmpeg at import; PCM WAV needs no ffmpeg.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

SOUND_FOLDER = "hotline12345"
SAMPLE_RATE = 8000
ASTERISK_SOUNDS = "usr/share/asterisk/sounds"

_TENS = "零一二三四五六七八九"


def _digit_texts() -> dict[str, str]:
    out = {f"digits/{n}": _TENS[n] for n in range(10)}
    for n in range(10, 20):
        out[f"digits/{n}"] = "十" + ("" if n == 10 else _TENS[n - 10])
    for n in range(20, 100, 10):
        out[f"digits/{n}"] = _TENS[n // 10] + "十"
    out.update({"digits/hundred": "百", "digits/thousand": "千", "digits/10000": "万",
                "digits/million": "百万", "digits/2-and": "两", "digits/oh": "零",
                "digits/minus": "负"})
    return out


def queue_sounds() -> dict[str, str]:
    """Chinese texts for the sounds app_queue and Say* look up with language=zh."""
    return {
        "queue-youarenext": "您现在排在第一位，马上为您接通。",
        "queue-thereare": "您前面还有",
        "queue-callswaiting": "位来电在等待。",
        "queue-holdtime": "预计等待时间约",
        "queue-minute": "分钟",
        "queue-minutes": "分钟。",
        "queue-seconds": "秒。",
        "queue-less-than": "少于",
        "queue-thankyou": "感谢您的耐心等待，请不要挂机。",
        "queue-reporthold": "等待时间",
        "queue-periodic-announce": "所有坐席都在忙，请您耐心等待。",
        "queue-overflow": "当前线路繁忙，正在为您转接综合服务。",
        # played by the dialplan when nobody could take the call
        "hotline12345/no-agent-available":
            "抱歉，目前坐席全忙，请您稍后再拨，或按提示留下号码等待回电。再见。",
        "minutes": "分钟",
        "seconds": "秒",
        "beep": "",  # keep Asterisk's tone: empty means do not generate
        **_digit_texts(),
    }


@dataclass(frozen=True)
class PromptCatalog:
    """Prompt key -> Asterisk sound name (relative to sounds/zh, no extension) and length."""

    sounds: Mapping[str, str] = field(default_factory=dict)
    seconds: Mapping[str, float] = field(default_factory=dict)

    def sound(self, key: str) -> str:
        return self.sounds[key]

    def duration(self, key: str) -> float:
        """How long the prompt plays (measured when built, else estimated from its text)."""
        return self.seconds.get(key, 30.0)


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)


def sounds_root(sandbox_root: str) -> Path:
    """The sounds folder of the sandbox Asterisk, seen from the host."""
    return Path(sandbox_root) / ASTERISK_SOUNDS


def _override(overrides: Path | None, key: str) -> Path | None:
    if overrides is None:
        return None
    candidate = overrides / f"{key}.wav"
    return candidate if candidate.is_file() else None


def content_hash(prompt: Prompt, voice: VoiceConfig, overrides: Path | None) -> str:
    h = hashlib.sha256()
    override = _override(overrides, prompt.key)
    if override is not None:
        h.update(b"file\0" + override.read_bytes())
    else:
        h.update(f"tts\0{voice.voice}\0{voice.speed}\0{speakable(prompt.text)}".encode())
    return h.hexdigest()[:12]


def estimated_seconds(text: str) -> float:
    # espeak-ng at 165 wpm reads about 4 Chinese characters a second; err long.
    return 3.0 + 0.35 * len(speakable(text))


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        frames: int = w.getnframes()
        rate: int = w.getframerate()
    return frames / rate


def catalog_for(config: IvrConfig, overrides: Path | None,
                lang_dir: Path | None = None) -> PromptCatalog:
    """Sound names of `config`'s prompts; their lengths are read from `lang_dir` if built."""
    sounds: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for p in config.prompts():
        name = f"{SOUND_FOLDER}/{p.key}-{content_hash(p, config.voice, overrides)}"
        sounds[p.key] = name
        built = lang_dir / f"{name}.wav" if lang_dir is not None else None
        seconds[p.key] = (wav_seconds(built) if built is not None and built.exists()
                          else estimated_seconds(p.text))
    return PromptCatalog(sounds, seconds)


def synthesize(text: str, voice: VoiceConfig) -> bytes:
    """espeak-ng's WAV for `text` (its own rate, 22.05 kHz)."""
    proc = subprocess.run(
        ["espeak-ng", "-v", voice.voice, "-s", str(voice.speed), "--stdout", speakable(text)],
        capture_output=True, check=False, timeout=30)
    if proc.returncode != 0 or not proc.stdout.startswith(b"RIFF"):
        raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode()[:200]}")
    return proc.stdout


def to_asterisk_wav(wav: bytes) -> bytes:
    """Any PCM WAV -> 8 kHz mono 16-bit WAV."""
    audio = AudioSegment.from_wav(io.BytesIO(wav))
    audio = audio.set_channels(1).set_sample_width(2).set_frame_rate(SAMPLE_RATE)
    out = io.BytesIO()
    audio.export(out, format="wav")
    return out.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    tmp.replace(path)


def build_prompts(config: IvrConfig, lang_dir: Path, overrides: Path | None,
                  force: bool = False) -> tuple[PromptCatalog, BuildReport]:
    """Make every prompt sound of `config` that is missing under `lang_dir` (sounds/zh)."""
    catalog = catalog_for(config, overrides)
    report = BuildReport()
    for prompt in config.prompts():
        target = lang_dir / f"{catalog.sound(prompt.key)}.wav"
        if target.exists() and not force:
            report.cached.append(prompt.key)
            continue
        override = _override(overrides, prompt.key)
        source = override.read_bytes() if override else synthesize(prompt.text, config.voice)
        _write_atomic(target, to_asterisk_wav(source))
        (report.overridden if override else report.built).append(prompt.key)
    catalog = catalog_for(config, overrides, lang_dir)
    # Stable names the dialplan plays without knowing the hash.
    for key in ("recording-notice", "transfer"):
        stable = lang_dir / SOUND_FOLDER / f"{key}.wav"
        current = (lang_dir / f"{catalog.sound(key)}.wav").read_bytes()
        if not stable.exists() or stable.read_bytes() != current:
            _write_atomic(stable, current)
    return catalog, report


def build_queue_sounds(lang_dir: Path, voice: VoiceConfig, overrides: Path | None,
                       force: bool = False) -> BuildReport:
    """Chinese queue-* and digits/* sounds, rebuilt only when their text or voice changes."""
    report = BuildReport()
    manifest = lang_dir / SOUND_FOLDER / "queue-sounds.manifest"
    known = dict(line.split(" ", 1) for line in manifest.read_text().splitlines()
                 if " " in line) if manifest.exists() else {}
    for name, text in queue_sounds().items():
        if not text:
            continue
        key = name.replace("/", "-")
        digest = content_hash(Prompt(key, text), voice, overrides)
        target = lang_dir / f"{name}.wav"
        if known.get(name) == digest and target.exists() and not force:
            report.cached.append(name)
            continue
        override = _override(overrides, key)
        source = override.read_bytes() if override else synthesize(text, voice)
        _write_atomic(target, to_asterisk_wav(source))
        known[name] = digest
        (report.overridden if override else report.built).append(name)
    _write_atomic(manifest, "".join(f"{k} {v}\n" for k, v in sorted(known.items())).encode())
    return report
