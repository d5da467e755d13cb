"""The World tokenizer against the official one (PyPI rwkv, rwkv.rwkv_tokenizer.TRIE_TOKENIZER
with its bundled vocab): identical ids on a multilingual corpus."""

import codecs
import os
import random

import pytest
import rwkv as rwkv_pkg
from rwkv.rwkv_tokenizer import TRIE_TOKENIZER

import rwkv_gpu

from corpus import BYTES, TEXTS


@pytest.fixture(scope="module")
def ours():
    return rwkv_gpu.Tokenizer.world()


@pytest.fixture(scope="module")
def ref():
    return TRIE_TOKENIZER(os.path.join(os.path.dirname(rwkv_pkg.__file__), "rwkv_vocab_v20230424.txt"))


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_text_ids_match_reference(ours, ref, text):
    ids = ours.encode(text)
    assert ids == ref.encode(text)
    assert ours.decode(ids) == text


@pytest.mark.parametrize("data", BYTES, ids=range(len(BYTES)))
def test_byte_ids_match_reference(ours, ref, data):
    ids = ours.encode(data)
    assert ids == ref.encodeBytes(data)
    assert ours.decode_bytes(ids) == data


def test_random_bytes_and_token_soup_match_reference(ours, ref):
    rng = random.Random(7)
    vocab = [ref.idx2token[i] for i in ref.idx2token]
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        assert ours.encode(data) == ref.encodeBytes(data)
        # Concatenated real tokens stress the longest-match boundaries.
        soup = b"".join(rng.choice(vocab) for _ in range(rng.randrange(1, 30)))
        assert ours.encode(soup) == ref.encodeBytes(soup)


def test_long_document(ours, ref):
    doc = "\n".join(TEXTS) * 50
    assert ours.encode(doc) == ref.encode(doc)


def test_vocab_matches_reference(ours, ref):
    assert ours.vocab_size == max(ref.idx2token) + 1
    for i, token in ref.idx2token.items():
        assert ours.token_bytes(i) == token


def test_stream_decoder_matches_python_decoders(ours):
    """On valid UTF-8 each piece equals what Python's incremental decoder yields per token; on any
    input the pieces join to bytes.decode("utf-8", "replace"). (On invalid input CPython may hold
    bytes back a token longer, e.g. ED A0 before 80; the text is the same.)"""
    for data in [t.encode() for t in TEXTS] + BYTES:
        ids = ours.encode(data)
        dec = ours.stream_decoder()
        py = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces = []
        for i in ids:
            pieces.append(dec.push(i))
            expected = py.decode(ours.token_bytes(i))
            if data in BYTES:
                continue
            assert pieces[-1] == expected
        pieces.append(dec.flush())
        assert "".join(pieces) == data.decode("utf-8", errors="replace")


def test_stream_decoder_never_splits_a_character(ours):
    ids = ours.encode("😀中文😃")
    dec = ours.stream_decoder()
    pieces = [dec.push(i) for i in ids] + [dec.flush()]
    assert "".join(pieces) == "😀中文😃"
    assert all(p.encode("utf-8").decode("utf-8") == p for p in pieces)


def test_gguf_tokenizer_of_the_tiny_model(tiny_gguf):
    tok = rwkv_gpu.Tokenizer.from_gguf(tiny_gguf)
    assert tok.vocab_size == 256
    data = bytes(range(256))
    assert tok.encode(data) == list(range(256))  # byte-level: token id = byte value
    assert tok.encode('"in') == [34, 105, 110]


def test_gguf_tokenizer_world_layout(tmp_path):
    """A GGUF with the World vocab as llama.cpp writes it (<s>, repr(bytes)[2:-1], [PADi])."""
    import gguf

    ref_tok = rwkv_gpu.Tokenizer.world()
    tokens, types = ["<s>"], [3]
    for i in range(1, ref_tok.vocab_size):
        tokens.append(repr(ref_tok.token_bytes(i))[2:-1])
        types.append(1)
    while len(tokens) < 65536:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    w = gguf.GGUFWriter(tmp_path / "world.gguf", "rwkv7")
    w.add_tokenizer_model("rwkv")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tok = rwkv_gpu.Tokenizer.from_gguf(tmp_path / "world.gguf")
    assert tok.vocab_size == 65536
    for text in TEXTS:
        assert tok.encode(text) == ref_tok.encode(text)
    assert tok.decode_bytes([0, 65535]) == b""  # control and padding tokens carry no text


def test_errors(ours, tiny_gguf):
    with pytest.raises(rwkv_gpu.TokenizerError, match="out of range"):
        ours.decode([70000])
    with pytest.raises(TypeError):
        ours.encode(12)
    with pytest.raises(TypeError):
        ours.decode([-1])
    with pytest.raises(rwkv_gpu.TokenizerError):
        rwkv_gpu.Tokenizer.from_vocab_file(tiny_gguf)  # not a vocab file
