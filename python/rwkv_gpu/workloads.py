"""The two embedding workloads the embedding API is built for.

- **doc state**: a document (e.g. an email of ~200 tokens) from a fresh state to a vector and its
  recurrent state; ``doc_states`` does many documents in one batch.
- **field analysis**: a schema of fields ("name": "description") ranked by cosine similarity to a
  document's vector; the field prompts go through ``embed_batch`` (and the cache when given one).
  Given the document's ``DocState``, it reuses its vector: the document is paid for once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import _repr
from .similarity import similarity_matrix


@dataclass(repr=False)
class DocState:
    vector: np.ndarray  # [n_embd] float32
    state: object       # the rwkv_gpu.State after the document
    n_tokens: int
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    pooling: str = "last"  # how `vector` was pooled

    def __repr__(self) -> str:
        return (f"DocState(n_tokens={self.n_tokens}, vector={_repr.array(self.vector)}, pooling={self.pooling!r}, "
                f"state={self.state!r}, timings={_repr.numbers(self.timings)})")


@dataclass(repr=False)
class FieldAnalysis:
    ranking: list[tuple[str, float]]  # (field, cosine score), best first
    document_vector: np.ndarray
    field_vectors: np.ndarray         # [n_fields, n_embd], in the order of the fields given
    timings: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        ranking = _repr.items([(name, round(score, 4)) for name, score in self.ranking], limit=8)
        return (f"FieldAnalysis(ranking={ranking}, document_vector={_repr.array(self.document_vector)}, "
                f"field_vectors={_repr.array(self.field_vectors)}, timings={_repr.numbers(self.timings)})")


def _tokenizer(model):
    if model.tokenizer is None:
        raise ValueError(f"{model.path}: the model has no tokenizer (no rwkv vocabulary in the file): give token ids to embed")
    return model.tokenizer


def doc_state(model, text: str, pooling: str = "last", normalize: bool = True) -> DocState:
    """Embeds a document from a fresh state; returns its vector and the state after it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("doc_state needs a non-empty text")
    t0 = time.perf_counter()
    tokens = _tokenizer(model).encode(text)
    t1 = time.perf_counter()
    state = model.new_state()
    vector = model.embed(tokens, pooling=pooling, normalize=normalize, state=state, advance=True)
    t2 = time.perf_counter()
    return DocState(vector, state, len(tokens), {"tokenize": t1 - t0, "prefill_and_embed": t2 - t1}, pooling)


def doc_states(model, texts, pooling: str = "last", normalize: bool = True, batch_size: int | None = None,
               progress: bool = False) -> list[DocState]:
    """``doc_state`` of many documents through one ``embed_batch`` (their recurrences advance
    together on the GPU): equal to ``[doc_state(model, t) for t in texts]``, each with its own
    state. ``timings`` hold the batch's stages (the same dict in each)."""
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"doc_states needs non-empty texts; item {i} is {text!r}")
    t0 = time.perf_counter()
    token_lists = [_tokenizer(model).encode(text) for text in texts]
    t1 = time.perf_counter()
    vectors, states = model.embed_batch(token_lists, pooling=pooling, normalize=normalize, batch_size=batch_size,
                                        progress=progress, return_states=True)
    timings = {"tokenize": t1 - t0, "prefill_and_embed": time.perf_counter() - t1}
    return [DocState(v, st, len(toks), timings, pooling) for v, st, toks in zip(vectors, states, token_lists)]


def field_analysis(model, document: str | DocState, fields: dict[str, str], cache=None, pooling: str = "last",
                   template: str = "{name}: {description}") -> FieldAnalysis:
    """Ranks the fields of a schema by cosine similarity to the document.

    A text document and the field prompts run as one batch (one pass over the GPU); a
    ``DocState``'s vector is used as it is, and only the prompts run.

    Args:
        document: the text, or its ``DocState`` (from ``doc_state``, with the same pooling), whose
            vector is then used as it is: the document does not run again.
        fields: field name -> description (at least one).
        cache: an EmbeddingCache; repeated schemas then cost nothing on the GPU.
        template: how a field becomes a prompt.

    ``timings``: seconds to embed (``"embed"``) and to rank (``"rank"``).
    """
    if isinstance(document, DocState):
        if document.pooling != pooling:
            raise ValueError(f"the DocState was pooled with {document.pooling!r}, not {pooling!r}")
    elif not isinstance(document, str) or not document.strip():
        raise ValueError("field_analysis needs a non-empty document (a text or its DocState)")
    if not isinstance(fields, dict) or not fields:
        raise ValueError("field_analysis needs a non-empty dict of fields (name -> description)")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise TypeError("fields must map str names to str descriptions")
    embedder = cache if cache is not None else model
    t0 = time.perf_counter()
    prompts = [template.format(name=name, description=desc) for name, desc in fields.items()]
    if isinstance(document, DocState):
        doc_vec = document.vector / max(float(np.linalg.norm(document.vector)), 1e-12)
        field_vecs = embedder.embed_batch(prompts, pooling=pooling, normalize=True)
    else:
        vecs = embedder.embed_batch([document, *prompts], pooling=pooling, normalize=True)
        doc_vec, field_vecs = vecs[0], vecs[1:]
    t1 = time.perf_counter()
    scores = similarity_matrix(doc_vec, field_vecs)[0]
    order = np.argsort(-scores, kind="stable")
    names = list(fields)
    ranking = [(names[i], float(scores[i])) for i in order]
    t2 = time.perf_counter()
    return FieldAnalysis(ranking, doc_vec, field_vecs, {"embed": t1 - t0, "rank": t2 - t1})
