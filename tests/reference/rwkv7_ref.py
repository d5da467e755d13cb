"""An RWKV-7 forward pass in NumPy float64, written from ../shared/docs/rwkv7-spec.md section 1,
reading weights with the PyPI gguf package (its reader and dequantizers). It shares no code with
the engine: it is the oracle the engine's logits are checked against."""

from __future__ import annotations

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _as_f64(t) -> np.ndarray:
    """A tensor as float64 in numpy order (GGUF ne reversed)."""
    shape = tuple(int(x) for x in reversed(t.shape))
    data = dequantize(np.asarray(t.data), t.tensor_type)
    return np.asarray(data, dtype=np.float64).reshape(shape)


def _meta(reader: GGUFReader, key: str):
    return reader.fields[key].contents()


class Rwkv7Reference:
    def __init__(self, path):
        r = GGUFReader(path)
        assert _meta(r, "general.architecture") == "rwkv7"
        self.w = {t.name: _as_f64(t) for t in r.tensors}
        self.n_layer = int(_meta(r, "rwkv7.block_count"))
        self.n_embd = int(_meta(r, "rwkv7.embedding_length"))
        self.head_size = int(_meta(r, "rwkv7.wkv.head_size"))
        self.eps = float(_meta(r, "rwkv7.attention.layer_norm_epsilon"))
        self.n_head = self.n_embd // self.head_size
        self.vocab = self.w["token_embd.weight"].shape[0]

    def new_state(self):
        C, H, N = self.n_embd, self.n_head, self.head_size
        return [
            {"att": np.zeros(C), "wkv": np.zeros((H, N, N)), "ffn": np.zeros(C)} for _ in range(self.n_layer)
        ]

    def _ln(self, x, name):
        mean = x.mean()
        var = ((x - mean) ** 2).mean()
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def forward_token(self, token: int, state) -> tuple[np.ndarray, np.ndarray]:
        """One token: returns (logits, ln_out output) and advances `state` in place."""
        w, H, N = self.w, self.n_head, self.head_size
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
        x = self._ln(w["token_embd.weight"][token], "token_embd_norm")
        v_first = None
        for l in range(self.n_layer):
            p, s = f"blk.{l}.", state[l]
            # time mix
            u = self._ln(x, p + "attn_norm")
            d = s["att"] - u
            s["att"] = u
            mu = w[p + "time_mix_lerp_fused.weight"].reshape(6, -1)
            xr, xw, xk, xv, xa, xg = (u + d * mu[i] for i in range(6))
            r = w[p + "time_mix_receptance.weight"] @ xr
            k = w[p + "time_mix_key.weight"] @ xk
            v = w[p + "time_mix_value.weight"] @ xv
            decay = np.exp(-0.606531 * sig(w[p + "time_mix_w0.weight"] + w[p + "time_mix_w2.weight"] @ np.tanh(w[p + "time_mix_w1.weight"] @ xw)))
            a = sig(w[p + "time_mix_a0.weight"] + w[p + "time_mix_a2.weight"] @ (w[p + "time_mix_a1.weight"] @ xa))
            g = w[p + "time_mix_g2.weight"] @ sig(w[p + "time_mix_g1.weight"] @ xg)
            kk = (k * w[p + "time_mix_k_k.weight"]).reshape(H, N)
            kk = (kk / np.maximum(np.linalg.norm(kk, axis=1, keepdims=True), 1e-12)).reshape(-1)
            k = k * (1 + (a - 1) * w[p + "time_mix_k_a.weight"])
            if l == 0:
                v_first = v
            else:
                v = v + (v_first - v) * sig(w[p + "time_mix_v0.weight"] + w[p + "time_mix_v2.weight"] @ (w[p + "time_mix_v1.weight"] @ xv))
            rh, wh, kh, vh, kkh, ah = (z.reshape(H, N) for z in (r, decay, k, v, kk, a))
            S = s["wkv"]
            sa = np.einsum("hij,hj->hi", S, -kkh)
            S = S * wh[:, None, :] + sa[:, :, None] * (kkh * ah)[:, None, :] + vh[:, :, None] * kh[:, None, :]
            s["wkv"] = S
            y = np.einsum("hij,hj->hi", S, rh)
            mean = y.mean(axis=1, keepdims=True)
            var = ((y - mean) ** 2).mean(axis=1, keepdims=True)
            o = ((y - mean) / np.sqrt(var + 64e-5)).reshape(-1) * w[p + "time_mix_ln.weight"] + w[p + "time_mix_ln.bias"]
            bonus = (rh * kh * w[p + "time_mix_r_k.weight"].reshape(H, N)).sum(axis=1, keepdims=True) * vh
            o = o + bonus.reshape(-1)
            x = x + w[p + "time_mix_output.weight"] @ (o * g)
            # channel mix
            u = self._ln(x, p + "attn_norm_2")
            d = s["ffn"] - u
            s["ffn"] = u
            xk = u + d * w[p + "channel_mix_lerp_k.weight"].reshape(-1)
            x = x + w[p + "channel_mix_value.weight"] @ (np.maximum(w[p + "channel_mix_key.weight"] @ xk, 0) ** 2)
        emb = self._ln(x, "output_norm")
        return w["output.weight"] @ emb, emb

    def forward(self, tokens, state=None):
        """All tokens: returns (logits [T, V], embeddings [T, C], state)."""
        state = self.new_state() if state is None else state
        outs = [self.forward_token(t, state) for t in tokens]
        return np.stack([o[0] for o in outs]), np.stack([o[1] for o in outs]), state
