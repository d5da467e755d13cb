"""flash-linear-attention's ``RWKV7Model`` (PyPI ``flash-linear-attention`` + ``fla-core``) as a
backend of the pytest-benchmark suite, on the same GGUF file as the other engines.

The GGUF's weights are dequantized (``rwkv_gpu.GGUFFile.tensor``) and loaded into fla's layout: the
inverse of the name map ``rwkv_gpu.convert`` reads fla / Hugging Face checkpoints with, so the
three engines run the same numbers (up to fla's bf16 rounding of them). ``RWKV7Model`` has no
vocabulary head: logits are its last hidden state times the GGUF's ``output.weight`` (fp32).
fla has no tokenizer of its own (its hub models ship one as remote code), so it is given the
GGUF's token ids from rwkv_gpu's tokenizer (microseconds of CPU work, inside the timing).

Runs in bf16 on CUDA, as fla is used (``BENCH_FLA_DTYPE=float32`` for fp32); a machine without
CUDA is a skip with that reason.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

import rwkv_gpu
from backends import FLA_NO_TOKENIZER, SAMPLING, Unsupported, normalized, version

DTYPE = os.environ.get("BENCH_FLA_DTYPE", "bfloat16")
# Agreement with rwkv_gpu "exact", as max |diff| / max(1, max |reference|) (the suite's measure).
# bf16 keeps 8 significant bits and fla rounds every activation to it between its kernels: fla's
# own modules in bf16 against the same in fp32 (CPU, torch reference ops for its Triton kernels;
# fp32 agrees with rwkv_gpu exact to 2e-7) measured 1.8e-2 (0.1B shape) and 4.2e-2 (2.9B) on the
# last-token logits, 2e-3 to 3e-3 on unit vectors; the bound leaves 2x room. fp32 leaves tf32 products.
TOLERANCE = {"bfloat16": 8e-2, "float32": 5e-3}


def fla_state_dict(gguf: rwkv_gpu.GGUFFile) -> tuple[dict, dict[str, np.ndarray], np.ndarray]:
    """(RWKV7Config arguments, RWKV7Model state dict as float32 arrays, the head [V, C]) of an rwkv7
    GGUF: rwkv_gpu.convert's fla -> GGUF map run backwards (LoRA down = w1, up = w2, its bias = w0;
    layer 0 has no value LoRA in fla, where GGUF files carry a dummy copy)."""
    m = gguf.metadata
    t = gguf.tensor
    n_layer, head = int(m["rwkv7.block_count"]), int(m["rwkv7.wkv.head_size"])
    vocab, n_embd = gguf.tensors["token_embd.weight"].shape
    config = dict(hidden_size=n_embd, num_hidden_layers=n_layer, head_dim=head, vocab_size=vocab,
                  intermediate_size=int(m["rwkv7.feed_forward_length"]),
                  decay_low_rank_dim=int(m["rwkv7.attention.decay_lora_rank"]),
                  a_low_rank_dim=int(m["rwkv7.attention.iclr_lora_rank"]),
                  v_low_rank_dim=int(m["rwkv7.attention.value_residual_mix_lora_rank"]),
                  gate_low_rank_dim=int(m["rwkv7.attention.gate_lora_rank"]),
                  norm_eps=float(m.get("rwkv7.attention.layer_norm_epsilon", 1e-5)))
    sd = {"embeddings.weight": t("token_embd.weight"),
          "layers.0.pre_norm.weight": t("token_embd_norm.weight"), "layers.0.pre_norm.bias": t("token_embd_norm.bias"),
          "norm.weight": t("output_norm.weight"), "norm.bias": t("output_norm.bias")}
    for i in range(n_layer):
        p, s = f"blk.{i}.", f"layers.{i}."
        for src, dst in (("attn_norm", "attn_norm"), ("attn_norm_2", "ffn_norm"), ("time_mix_ln", "attn.g_norm")):
            sd[s + dst + ".weight"], sd[s + dst + ".bias"] = t(p + src + ".weight"), t(p + src + ".bias")
        fused = t(p + "time_mix_lerp_fused.weight").reshape(6, n_embd)
        for j, c in enumerate("rwkvag"):
            sd[s + f"attn.x_{c}"] = fused[j].reshape(1, 1, n_embd)
        sd[s + "attn.k_k"] = t(p + "time_mix_k_k.weight").reshape(n_embd)
        sd[s + "attn.k_a"] = t(p + "time_mix_k_a.weight").reshape(n_embd)
        sd[s + "attn.r_k"] = t(p + "time_mix_r_k.weight").reshape(n_embd // head, head)
        for src, dst in (("receptance", "r_proj"), ("key", "k_proj"), ("value", "v_proj"), ("output", "o_proj")):
            sd[s + f"attn.{dst}.weight"] = t(p + f"time_mix_{src}.weight")
        for lora in "wavg":
            if lora == "v" and i == 0:
                continue
            key = s + f"attn.{lora}_lora.lora."
            sd[key + "0.weight"] = t(p + f"time_mix_{lora}1.weight")
            sd[key + "2.weight"] = t(p + f"time_mix_{lora}2.weight")
            if lora != "g":
                sd[key + "2.bias"] = t(p + f"time_mix_{lora}0.weight").reshape(n_embd)
        sd[s + "ffn.x_k"] = t(p + "channel_mix_lerp_k.weight").reshape(n_embd)
        sd[s + "ffn.key.weight"] = t(p + "channel_mix_key.weight")
        sd[s + "ffn.value.weight"] = t(p + "channel_mix_value.weight")
    return config, sd, t("output.weight")


@contextlib.contextmanager
def _no_init():
    """Builds the model without its initializers: they loop over the channels in Python and draw
    orthogonal matrices (minutes at 2.9B), for weights the GGUF's replace at once."""
    from fla.layers.rwkv6 import LoRA
    from fla.layers.rwkv7 import RWKV7Attention
    from fla.models.rwkv7.modeling_rwkv7 import RWKV7FeedForward

    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4
        from transformers.modeling_utils import no_init_weights
    saved = {cls: cls.__dict__["_initialize_weights"] for cls in (LoRA, RWKV7Attention, RWKV7FeedForward)}
    try:
        for cls in saved:
            cls._initialize_weights = lambda self, module: None
        with no_init_weights():
            yield
    finally:
        for cls, fn in saved.items():
            cls._initialize_weights = fn


def load_fla_model(path, device: str, dtype: str = DTYPE, **config_overrides):
    """(RWKV7Model on ``device`` in ``dtype`` with the GGUF's weights, head as an fp32 tensor)."""
    import torch
    from fla.models import RWKV7Config, RWKV7Model

    config, sd, head = fla_state_dict(rwkv_gpu.GGUFFile(path))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="According to Bo")  # fla's note on its RWKV port
        with _no_init(), torch.device("meta"):
            model = RWKV7Model(RWKV7Config(**config, **config_overrides))
    weights = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device=device, dtype=getattr(torch, dtype))
               for k, v in sd.items()}
    model.load_state_dict(weights, strict=True, assign=True)  # every parameter named, none left on meta
    return model.eval(), torch.from_numpy(head).to(device)


class Fla:
    name = "flash-linear-attention"

    def __init__(self, path):
        import torch

        if not torch.cuda.is_available():
            raise Unsupported("no CUDA device (torch.cuda.is_available() is False): its kernels are Triton on CUDA")
        self.torch, self.device = torch, "cuda"
        self.model, self.head = load_fla_model(path, self.device)
        self.tokenizer = rwkv_gpu.Tokenizer.from_gguf(path)
        self.info = {"backend": self.name, "version": version("flash-linear-attention"), "fla_core": version("fla-core"),
                     "torch": torch.__version__, "triton": version("triton"),
                     "device": f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda}), {DTYPE}"}
        self.tolerance = TOLERANCE[DTYPE]

    def tokenize(self, text: str) -> list[int]:
        raise Unsupported(FLA_NO_TOKENIZER)

    def _ids(self, tokens):
        return self.torch.tensor([list(tokens)], dtype=self.torch.long, device=self.device)

    def _forward(self, ids, cache=None, cu_seqlens=None):
        out = self.model(input_ids=ids, past_key_values=cache, use_cache=cu_seqlens is None, cu_seqlens=cu_seqlens)
        return out.last_hidden_state[0], out.past_key_values

    def _logits(self, hidden):
        return hidden.float() @ self.head.T

    def _last_hidden(self, token_lists):
        """ln_out of each sequence's last token, the sequences packed into one row (fla's varlen
        input: cu_seqlens, no padding)."""
        torch = self.torch
        lengths = torch.tensor([len(t) for t in token_lists])
        ends = torch.cumsum(lengths, 0)
        cu = torch.cat([torch.zeros(1, dtype=torch.long), ends]).to(self.device)
        ids = torch.from_numpy(np.concatenate([np.asarray(t, dtype=np.int64) for t in token_lists]))
        hidden, _ = self._forward(ids[None].to(self.device), cu_seqlens=cu)
        return hidden[(ends - 1).to(self.device)].float()

    def prefill(self, tokens) -> np.ndarray:
        with self.torch.inference_mode():
            hidden, _ = self._forward(self._ids(tokens))
            return self._logits(hidden[-1]).cpu().numpy()

    def _decode(self, tokens, n: int, pick) -> list[int]:
        out = []
        with self.torch.inference_mode():
            hidden, cache = self._forward(self._ids(tokens))
            for _ in range(n):
                out.append(pick(self._logits(hidden[-1])))
                hidden, cache = self._forward(self._ids([out[-1]]), cache)
        return out

    def greedy(self, tokens, n: int) -> list[int]:
        return self._decode(tokens, n, lambda logits: int(logits.argmax()))

    def sample(self, tokens, n: int) -> list[int]:
        torch = self.torch
        gen = torch.Generator(device=self.device).manual_seed(1)

        def top_p(logits):  # temperature, then the smallest set reaching top_p (the crossing token kept)
            p = torch.softmax(logits / SAMPLING["temperature"], -1)
            sorted_p, order = torch.sort(p, descending=True)
            keep = (torch.cumsum(sorted_p, 0) - sorted_p) < SAMPLING["top_p"]
            sorted_p = torch.where(keep, sorted_p, 0)
            return int(order[torch.multinomial(sorted_p / sorted_p.sum(), 1, generator=gen)])

        return self._decode(tokens, n, top_p)

    def embed_ids(self, token_lists) -> np.ndarray:
        """Unit vectors (ln_out of the last token) of token-id sequences, packed into one forward."""
        with self.torch.inference_mode():
            h = self._last_hidden(token_lists)
            return (h / h.norm(dim=-1, keepdim=True)).cpu().numpy()

    def _vectors(self, texts: list[str]) -> np.ndarray:
        return self.embed_ids([self.tokenizer.encode(t) for t in texts])

    def doc_state(self, text: str) -> np.ndarray:
        """The document's vector and its recurrent state (kept in the cache, as rwkv_gpu keeps it)."""
        with self.torch.inference_mode():
            hidden, self.state = self._forward(self._ids(self.tokenizer.encode(text)))
            return normalized(hidden[-1].float().cpu().numpy())

    def field_analysis(self, text: str, fields: dict[str, str]) -> dict[str, float]:
        doc = self.doc_state(text)
        scores = self._vectors([f"{name}: {desc}" for name, desc in fields.items()]) @ doc
        names = list(fields)
        return {names[i]: float(scores[i]) for i in np.argsort(-scores, kind="stable")}

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self._vectors(texts)

