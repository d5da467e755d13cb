"""The server's settings: one definition of ``rwkv-gpu serve``'s options and their defaults
(importable without the server extra, so the command line can show them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..compat import EMBEDDING_NORMALIZE, EMBEDDING_POOLING
from ..generation import DEFAULT_MAX_TOKENS
from ..model import POOLINGS


@dataclass
class Settings:
    """``rwkv-gpu serve``'s options (the command line gives each; these are its defaults)."""

    served_model_name: str | None = None  # default: the model's name
    api_key: str | None = None  # required as "Authorization: Bearer KEY" on /v1/* when set
    max_batch: int = 64  # sequences generating together
    max_queue: int = 256  # requests waiting beyond them; more get 429
    max_tokens: int = DEFAULT_MAX_TOKENS  # default and largest max_tokens of a request
    max_prompt_tokens: int = 32768
    max_body_bytes: int = 16 << 20
    chat_template: str | None = None  # default: chat.DEFAULT_CHAT_TEMPLATE
    pooling: str = EMBEDDING_POOLING  # of /v1/embeddings
    normalize: bool = EMBEDDING_NORMALIZE
    # Before serving: one short run of what requests run (prompts, sampled and greedy decode steps
    # of 1, 8 and max_batch sequences, an embedding), so that the first clients do not wait while
    # the GPU pipelines compile (seconds on a fresh machine; the pipeline cache keeps them after).
    warm_up: bool = True

    def __post_init__(self):
        # Checked here, so that a bad option fails before the model loads, not at the first request.
        for name, low in (("max_batch", 1), ("max_queue", 0), ("max_tokens", 0), ("max_prompt_tokens", 1),
                          ("max_body_bytes", 1024)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if self.api_key is not None and not self.api_key:
            raise ValueError("api_key must not be empty (leave it out for no key)")
