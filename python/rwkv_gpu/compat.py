"""The entry points users of llama-cpp-python and sentence-transformers look for on a model:
``model(prompt)``, ``create_completion``, ``create_chat_completion``, ``create_embedding``
(OpenAI-shaped dicts, the same the server sends: openai_api.py) and ``encode``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

# The defaults of create_embedding and of the server's /v1/embeddings (OpenAI's vectors have unit length).
EMBEDDING_POOLING = "last"
EMBEDDING_NORMALIZE = True


class CompatMixin:
    """Methods of ``Model`` (see there for the engine's own API)."""

    @property
    def name(self) -> str:
        """The model's name in responses: the GGUF's ``general.name``, else the file's stem."""
        return self.info.get("name") or os.path.splitext(os.path.basename(self.path))[0]

    def __call__(self, prompt, **params) -> dict | Iterator[dict]:
        """``model("text", max_tokens=32)``: the same as ``create_completion``."""
        return self.create_completion(prompt, **params)

    def create_completion(self, prompt: str | Sequence[str] | Sequence[int], **params) -> dict | Iterator[dict]:
        """An OpenAI completion, as llama-cpp-python's ``create_completion`` returns it.

        Example::

            out = model.create_completion("The sky is", max_tokens=16, temperature=0)
            print(out["choices"][0]["text"], out["usage"])
            for chunk in model.create_completion("Once", stream=True, seed=1):
                print(chunk["choices"][0]["text"], end="")

        Args:
            prompt: a text, token ids, or a list of them (one choice each, ``choices[i]``).
            params: OpenAI's completion parameters (``openai_types.CompletionRequest``):
                ``max_tokens`` (default ``rwkv_gpu.DEFAULT_MAX_TOKENS``), ``temperature``,
                ``top_p``, ``top_k``, ``presence_penalty``, ``frequency_penalty``,
                ``penalty_decay``, ``seed``, ``stop``, ``stream``, ``stream_options``,
                ``logprobs``. Sampling settings left out take the engine's defaults
                (``SamplingParams()``).

        Returns:
            The response dict (``choices``, ``usage``), or with ``stream=True`` an iterator of
            chunk dicts (closing it early cancels the rest).

        Raises:
            OpenAIError (a ValueError): a value the engine cannot run (``.param`` names it).
            TypeError: a keyword the API does not have.
        """
        from . import openai_api  # pydantic on first use: `import rwkv_gpu` stays light

        job = openai_api.completion_job(self, {"prompt": prompt, **params}, model_name=self.name, from_python=True)
        return openai_api.run_job(self, job)

    def create_chat_completion(self, messages: Sequence[dict], *, chat_template=None, **params) -> dict | Iterator[dict]:
        """An OpenAI chat completion: ``messages`` (``{"role", "content"}``, roles system / user /
        assistant) rendered by ``chat_template`` (default ``"rwkv-world"``: chat.py shows the format);
        parameters as ``create_completion`` (``max_completion_tokens`` too; ``logprobs`` a bool,
        ``top_logprobs`` a count). Streaming chunks carry ``delta``s."""
        from . import openai_api

        job = openai_api.chat_job(self, {"messages": messages, **params}, model_name=self.name, template=chat_template,
                                  from_python=True)
        return openai_api.run_job(self, job)

    def create_embedding(self, input: str | Sequence[str] | Sequence[int], *, pooling: str = EMBEDDING_POOLING,
                         normalize: bool = EMBEDDING_NORMALIZE, **params) -> dict:
        """OpenAI embeddings of a text, token ids, or a list of them (``data[i]["embedding"]``);
        ``encoding_format="base64"`` gives each vector as base64 of its little-endian float32s.
        ``pooling`` and ``normalize`` as ``embed``."""
        from . import openai_api

        prompts, encoding = openai_api.embedding_job(self, {"input": input, **params}, from_python=True)
        vectors = self.embed_batch(prompts, pooling=pooling, normalize=normalize)
        return openai_api.embedding_response(vectors, prompts, encoding, self.name)

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32, show_progress_bar: bool | None = None,
               normalize_embeddings: bool = False, convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               pooling: str = "last"):
        """Embeddings as sentence-transformers' ``SentenceTransformer.encode`` returns them.

        Args:
            sentences: a text (gives one vector ``[n_embd]``) or a list of texts (``[n, n_embd]``).
            batch_size: texts per GPU batch.
            show_progress_bar: a tqdm bar of tokens (None: off).
            normalize_embeddings: unit-length vectors.
            convert_to_numpy: a float32 array (else a list of 1-D arrays).
            convert_to_tensor: a torch tensor (needs torch).
            pooling: ``"last"``, ``"mean"`` or ``"state"``, as ``embed``.
        """
        single = isinstance(sentences, (str, bytes))
        items = [sentences] if single else list(sentences)
        if not all(isinstance(s, (str, bytes)) for s in items):
            raise TypeError("sentences must be a str or a list of str")
        vectors = self.embed_batch(items, pooling=pooling, normalize=normalize_embeddings, batch_size=batch_size,
                                   progress=bool(show_progress_bar))
        if convert_to_tensor:
            try:
                import torch
            except ImportError:
                raise ImportError("encode(convert_to_tensor=True) needs torch (or use convert_to_numpy)") from None

            out = torch.from_numpy(vectors)
            return out[0] if single else out
        if not convert_to_numpy:
            return vectors[0] if single else list(vectors)
        return vectors[0] if single else np.ascontiguousarray(vectors)
