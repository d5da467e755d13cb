"""The RWKV World tokenizer (greedy longest match over a byte trie), implemented in C++."""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources

from . import _core

WORLD_VOCAB = "rwkv_vocab_v20230424.txt"


def world_vocab_path() -> str:
    """Path of the bundled World vocabulary (rwkv_vocab_v20230424.txt, 65529 tokens)."""
    return str(resources.files("rwkv_gpu") / "data" / WORLD_VOCAB)


class Tokenizer:
    """Encodes text to token ids and back.

    Example::

        tok = rwkv_gpu.Tokenizer.world()                      # the bundled World vocab
        tok = rwkv_gpu.Tokenizer.from_gguf("model.gguf")     # a model's own vocab
        ids = tok.encode("Hello 世界")
        tok.decode(ids)                                       # "Hello 世界"

    ``encode`` takes ``str`` (encoded as UTF-8) or ``bytes``; ``decode`` returns ``str`` with
    invalid UTF-8 replaced by U+FFFD, ``decode_bytes`` the exact bytes.
    """

    def __init__(self, core: _core.WorldTokenizer, source: str | os.PathLike | None = None):
        self._tok = core
        self._source = None if source is None else os.fspath(source)  # the file it came from, for repr

    @classmethod
    def world(cls) -> Tokenizer:
        return cls.from_vocab_file(world_vocab_path())

    @classmethod
    def from_vocab_file(cls, path: str | os.PathLike) -> Tokenizer:
        return cls(_core.WorldTokenizer.from_vocab_file(os.fspath(path)), path)

    @classmethod
    def from_gguf(cls, path: str | os.PathLike) -> Tokenizer:
        return cls(_core.WorldTokenizer.from_gguf(os.fspath(path)), path)

    def __repr__(self) -> str:
        if self._source is None:
            origin = ""
        elif os.path.basename(self._source) == WORLD_VOCAB:
            origin = "the World vocab, "
        else:
            origin = f"{os.path.basename(self._source)!r}, "
        return f"Tokenizer({origin}{self.vocab_size:,d} tokens)"

    @property
    def vocab_size(self) -> int:
        return self._tok.vocab_size

    def encode(self, text: str | bytes) -> list[int]:
        return self._tok.encode(text)

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self._tok.decode_bytes(list(ids))

    def decode(self, ids: Iterable[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return self._tok.token_bytes(token_id)

    def stream_decoder(self) -> StreamDecoder:
        return StreamDecoder(self)


class StreamDecoder:
    """Turns token ids, one at a time, into text pieces that never split a UTF-8 character.

    Example::

        dec = tok.stream_decoder()
        for t in ids:
            print(dec.push(t), end="")
        print(dec.flush())
    """

    def __init__(self, tokenizer: Tokenizer):
        self._tokenizer = tokenizer
        self._dec = _core.Utf8StreamDecoder()

    def push(self, token_id: int) -> str:
        return self._dec.push(self._tokenizer.token_bytes(token_id))

    def flush(self) -> str:
        return self._dec.flush()
