"""The server's Prometheus metrics (``GET /metrics``), in a registry of its own per server."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Requests by endpoint and status, tokens in and out, the batch's occupancy per step (how
    many sequences advanced together), running and queued requests, time to first token."""

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("rwkv_gpu_requests", "HTTP requests by endpoint and status code", ["endpoint", "code"],
                                registry=r)
        self.prompt_tokens = Counter("rwkv_gpu_prompt_tokens", "Prompt and embedding input tokens", ["endpoint"], registry=r)
        self.completion_tokens = Counter("rwkv_gpu_completion_tokens", "Generated tokens", registry=r)
        self.finished = Counter("rwkv_gpu_finished_requests", "Generations by finish reason (cancelled: the client "
                                "went away)", ["reason"], registry=r)
        self.batch_occupancy = Histogram("rwkv_gpu_batch_occupancy", "Sequences that advanced in one engine step",
                                         buckets=_BATCH_BUCKETS, registry=r)
        self.running = Gauge("rwkv_gpu_running_requests", "Requests holding a slot of the batch", registry=r)
        self.queue = Gauge("rwkv_gpu_queue_length", "Requests waiting for a slot", registry=r)
        self.warm_up_seconds = Gauge("rwkv_gpu_warm_up_seconds", "The warm-up's run before serving (0: none)",
                                     registry=r)
        self.time_to_first_token = Histogram("rwkv_gpu_time_to_first_token_seconds",
                                             "From submission to the first generated token", buckets=_LATENCY_BUCKETS,
                                             registry=r)

    def step(self, advanced: int, running: int, waiting: int) -> None:
        """One engine step: ``advanced`` sequences got a token or finished."""
        if advanced:
            self.batch_occupancy.observe(advanced)
        self.running.set(running)
        self.queue.set(waiting)

    def text(self) -> bytes:
        return generate_latest(self.registry)
