"""The rwkv7 GGUF metadata as llama.cpp's converter writes it: hyper-parameters and the World
tokenizer keys. Shared by the converter (``rwkv_gpu.convert``) and the random-model writer
(``rwkv_gpu.testing``); the writer object is the ``gguf`` package's ``GGUFWriter``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Shapes:
    n_layer: int
    n_embd: int
    head_size: int
    ffn: int
    vocab: int
    d_decay: int
    d_iclr: int
    d_value: int
    d_gate: int


def world_token_list(vocab: int) -> tuple[list[str], list[int]]:
    """The World vocab as llama.cpp writes it, cut or padded to `vocab` entries. (Reads the bundled
    vocab file itself, so this module also runs where the compiled engine is not built.)"""
    import ast

    vocab_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "rwkv_vocab_v20230424.txt")
    tokens, types = ["<s>"], [3]
    with open(vocab_file, encoding="utf-8") as f:
        for line in f:
            if len(tokens) >= vocab:
                break
            literal = ast.literal_eval(line[line.index(" "):line.rindex(" ")].strip())
            data = literal.encode("utf-8") if isinstance(literal, str) else literal
            tokens.append(repr(data)[2:-1])
            types.append(1)
    while len(tokens) < vocab:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    return tokens, types


def add_rwkv7_metadata(w, name: str, s: Shapes, tokens: tuple[list[str], list[int]]) -> None:
    """The rwkv7 hyper-parameters and tokenizer keys as llama.cpp's converter writes them."""
    w.add_name(name)
    w.add_uint32("rwkv7.context_length", 1048576)
    w.add_uint32("rwkv7.embedding_length", s.n_embd)
    w.add_uint32("rwkv7.block_count", s.n_layer)
    w.add_float32("rwkv7.attention.layer_norm_epsilon", 1e-5)
    w.add_uint32("rwkv7.wkv.head_size", s.head_size)
    for key, r in zip(("decay", "iclr", "value_residual_mix", "gate"), (s.d_decay, s.d_iclr, s.d_value, s.d_gate)):
        w.add_uint32(f"rwkv7.attention.{key}_lora_rank", int(r))
    w.add_uint32("rwkv7.feed_forward_length", s.ffn)
    w.add_uint32("rwkv7.attention.head_count", 0)
    w.add_tokenizer_model("rwkv")
    w.add_token_list(tokens[0])
    w.add_token_types(tokens[1])
