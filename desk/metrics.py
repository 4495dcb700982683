"""Prometheus metrics in a registry owned by the desk app (never the global one).

Counters and histograms are fed by events as they pass; live gauges (callers
waiting, agents per status) are read from the live board at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600)


class _LiveGauges(Collector):
    def __init__(
        self, waiting: Callable[[], Mapping[str, int]], agents: Callable[[], Mapping[str, int]]
    ) -> None:
        self._waiting = waiting
        self._agents = agents

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "hotline_queue_waiting_calls", "Callers waiting per line", labels=["line"]
        )
        for line, n in sorted(self._waiting().items()):
            waiting.add_metric([line], n)
        yield waiting
        agents = GaugeMetricFamily(
            "desk_agents", "Agents with an open desk, by status", labels=["status"]
        )
        for status, n in sorted(self._agents().items()):
            agents.add_metric([status], n)
        yield agents


class DeskMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = Counter(
            "hotline_calls", "Calls that joined a line's queue", ["line"], registry=r
        )
        self.abandoned = Counter(
            "hotline_queue_abandoned", "Callers who hung up while waiting", ["line"], registry=r
        )
        self.queue_wait = Histogram(
            "hotline_queue_wait_seconds",
            "Wait in queue until an agent answered",
            ["line"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.ivr_outcomes = Counter(
            "hotline_ivr_outcomes", "How calls left the IVR", ["outcome"], registry=r
        )
        self.asr_lag = Histogram(
            "hotline_asr_lag_seconds",
            "Speech recognition lag behind the audio",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.screenpop = Histogram(
            "desk_screenpop_latency_seconds",
            "From the AMI event reaching the desk to the ticket in the page",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dispatches = Counter("desk_dispatches", "Tickets dispatched from the desk", registry=r)
        self.answer_to_dispatch = Histogram(
            "desk_answer_to_dispatch_seconds",
            "From answering the call to dispatching its ticket",
            buckets=(10, 30, 60, 120, 180, 300, 600, 1200),
            registry=r,
        )
        self.logins = Counter("desk_logins", "Login attempts", ["result"], registry=r)

    def watch_live(
        self, waiting: Callable[[], Mapping[str, int]], agents: Callable[[], Mapping[str, int]]
    ) -> None:
        self.registry.register(_LiveGauges(waiting, agents))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
