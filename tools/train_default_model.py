#!/usr/bin/env python3
"""Trains the package's default model: a small byte-level RWKV-7 on the King James Bible, on the CPU.

Corpus: the King James Version of the Bible from Debian's ``bible-kjv`` package (its text data is
``bible-kjv-text``; the translation's copyright expired long ago, see the package's copyright file).
It is read through the package's ``bible`` program, so it needs no network beyond apt::

    apt-get install bible-kjv
    python tools/train_default_model.py --out build/default-model     # about 36 min on 2 idle cores

The export step runs ``python -m rwkv_gpu convert``: build the package first (``make build``).

Writes, under --out: ``model.pth`` (BlinkDL layout, the official ``rwkv`` package loads it),
``model-F16.gguf`` (through rwkv_gpu's converter), ``loss.json`` (the loss curve, command, seed,
corpus digest and wall time) and ``samples.txt``. All 2-D weights are rounded to float16 before
saving, so the .pth and the F16 GGUF hold exactly the same numbers.

The model (RWKV-7 "x070", as in BlinkDL's RWKV-LM): token id = byte value (vocab 256), 4 layers,
n_embd 192, head size 64 (3 heads), FFN 768, LoRA ranks 32. The WKV recurrence runs as a plain loop
over time: slow, but short (128-token contexts) and an obvious transcription of the spec.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HEAD_SIZE = 64
LORA = 32


def kjv_corpus() -> bytes:
    """The whole King James Bible as plain text: one verse a line, a blank line between chapters."""
    if shutil.which("bible") is None:
        sys.exit("train_default_model: the corpus comes from Debian's bible-kjv package: apt-get install bible-kjv")
    raw = subprocess.run(["bible", "-l100000", "gen1:1-rev22:21"], check=True, capture_output=True).stdout.decode()
    out = []
    for line in raw.splitlines():
        line = line.strip()
        m = re.match(r"^\d+ (.*)$", line)
        if m:
            out.append(m.group(1))
        elif line and out and out[-1] != "":
            out.append("")  # a chapter heading ("Genesis 1"): paragraph break
    return ("\n".join(out).strip() + "\n").encode("ascii")


class TimeMix(nn.Module):
    def __init__(self, layer: int, n_layer: int, C: int):
        super().__init__()
        self.layer, self.H = layer, C // HEAD_SIZE
        r0 = layer / (n_layer - 1)
        r1 = 1.0 - layer / n_layer
        ddd = torch.arange(C) / C
        self.x_r = nn.Parameter(1.0 - ddd.pow(0.2 * r1))
        self.x_w = nn.Parameter(1.0 - ddd.pow(0.9 * r1))
        self.x_k = nn.Parameter(1.0 - ddd.pow(0.7 * r1))
        self.x_v = nn.Parameter(1.0 - ddd.pow(0.7 * r1))
        self.x_a = nn.Parameter(1.0 - ddd.pow(0.9 * r1))
        self.x_g = nn.Parameter(1.0 - ddd.pow(0.2 * r1))
        n = torch.arange(C) / (C - 1)
        self.w0 = nn.Parameter(-7 + 5 * n.pow(0.85 + r0 ** 0.5) + 0.5)
        ortho = lambda a, b, s: nn.Parameter(nn.init.orthogonal_(torch.empty(a, b), gain=s))  # noqa: E731
        self.w1, self.w2 = nn.Parameter(torch.zeros(C, LORA)), ortho(LORA, C, 0.1)
        self.a0 = nn.Parameter(torch.zeros(C))
        self.a1, self.a2 = nn.Parameter(torch.zeros(C, LORA)), ortho(LORA, C, 0.1)
        if layer > 0:
            self.v0 = nn.Parameter(torch.ones(C))
            self.v1, self.v2 = nn.Parameter(torch.zeros(C, LORA)), ortho(LORA, C, 0.1)
        self.g1, self.g2 = nn.Parameter(torch.zeros(C, LORA)), ortho(LORA, C, 0.1)
        self.k_k = nn.Parameter(torch.full((C,), 0.85))
        self.k_a = nn.Parameter(torch.ones(C))
        self.r_k = nn.Parameter(torch.full((self.H, HEAD_SIZE), -0.04))
        self.receptance = nn.Linear(C, C, bias=False)
        self.key = nn.Linear(C, C, bias=False)
        self.value = nn.Linear(C, C, bias=False)
        self.output = nn.Linear(C, C, bias=False)
        bound = 0.5 / math.sqrt(C)
        for m in (self.receptance, self.key, self.value):
            nn.init.uniform_(m.weight, -bound, bound)
        nn.init.zeros_(self.output.weight)
        self.ln_x = nn.GroupNorm(self.H, C, eps=64e-5)
        with torch.no_grad():
            self.ln_x.weight.copy_(torch.full((C,), ((1 + layer) / n_layer) ** 0.7))

    def forward(self, x, v_first):
        B, T, C = x.shape
        H, N = self.H, HEAD_SIZE
        xx = F.pad(x, (0, 0, 1, -1)) - x  # previous token minus this one
        xr, xw, xk, xv, xa, xg = (x + xx * m for m in (self.x_r, self.x_w, self.x_k, self.x_v, self.x_a, self.x_g))
        r = self.receptance(xr)
        w = -F.softplus(-(self.w0 + torch.tanh(xw @ self.w1) @ self.w2)) - 0.5  # log of log-decay
        k = self.key(xk)
        v = self.value(xv)
        if self.layer == 0:
            v_first = v
        else:
            v = v + (v_first - v) * torch.sigmoid(self.v0 + (xv @ self.v1) @ self.v2)
        a = torch.sigmoid(self.a0 + (xa @ self.a1) @ self.a2)
        g = torch.sigmoid(xg @ self.g1) @ self.g2
        kk = F.normalize((k * self.k_k).view(B, T, H, N), dim=-1).view(B, T, C)
        k = k * (1 + (a - 1) * self.k_a)
        y = wkv7(r, torch.exp(-torch.exp(w)), k, v, -kk, kk * a, H)
        y = self.ln_x(y.view(B * T, C)).view(B, T, C)
        y = y + ((r * k * self.r_k.view(C)).view(B, T, H, N).sum(-1, keepdim=True) * v.view(B, T, H, N)).view(B, T, C)
        return self.output(y * g), v_first


def wkv7(r, w, k, v, a, b, H):
    """S_t = S_{t-1} (diag(w_t) + a_t^T b_t) + v_t^T k_t; y_t = S_t r_t (S is [value, key] per head)."""
    B, T, C = r.shape
    N = C // H
    r, w, k, v, a, b = (z.view(B, T, H, N) for z in (r, w, k, v, a, b))
    S = torch.zeros(B, H, N, N, dtype=r.dtype)
    ys = []
    for t in range(T):
        S = S * w[:, t, :, None, :] + (S @ a[:, t, :, :, None]) * b[:, t, :, None, :] + v[:, t, :, :, None] * k[:, t, :, None, :]
        ys.append((S @ r[:, t, :, :, None]).squeeze(-1))
    return torch.stack(ys, 1).reshape(B, T, C)


class ChannelMix(nn.Module):
    def __init__(self, layer: int, n_layer: int, C: int):
        super().__init__()
        r1 = 1.0 - layer / n_layer
        self.x_k = nn.Parameter(1.0 - (torch.arange(C) / C).pow(r1 ** 4))
        self.key = nn.Linear(C, 4 * C, bias=False)
        self.value = nn.Linear(4 * C, C, bias=False)
        bound = 0.5 / math.sqrt(C)
        nn.init.uniform_(self.key.weight, -bound, bound)
        nn.init.zeros_(self.value.weight)

    def forward(self, x):
        xx = F.pad(x, (0, 0, 1, -1)) - x
        return self.value(torch.relu(self.key(x + xx * self.x_k)) ** 2)


class Block(nn.Module):
    def __init__(self, layer: int, n_layer: int, C: int):
        super().__init__()
        if layer == 0:
            self.ln0 = nn.LayerNorm(C)
        self.ln1, self.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.att, self.ffn = TimeMix(layer, n_layer, C), ChannelMix(layer, n_layer, C)

    def forward(self, x, v_first):
        if hasattr(self, "ln0"):
            x = self.ln0(x)
        dx, v_first = self.att(self.ln1(x), v_first)
        x = x + dx
        return x + self.ffn(self.ln2(x)), v_first


class RWKV7(nn.Module):
    def __init__(self, n_layer: int, C: int, vocab: int = 256):
        super().__init__()
        self.emb = nn.Embedding(vocab, C)
        nn.init.uniform_(self.emb.weight, -1e-4, 1e-4)
        self.blocks = nn.ModuleList(Block(i, n_layer, C) for i in range(n_layer))
        self.ln_out = nn.LayerNorm(C)
        self.head = nn.Linear(C, vocab, bias=False)
        nn.init.orthogonal_(self.head.weight, gain=0.5)

    def forward(self, idx):
        x, v_first = self.emb(idx), None
        for block in self.blocks:
            x, v_first = block(x, v_first)
        return self.head(self.ln_out(x))


def blinkdl_state_dict(model: RWKV7) -> dict[str, torch.Tensor]:
    """The weights under BlinkDL's names and shapes (what RWKV-LM saves and the rwkv package loads);
    matrices as float16, vectors as float32 (rounded through float16 too, so the GGUF is exact)."""
    out = {}
    for name, p in model.state_dict().items():
        p = p.detach().to(torch.float16)
        if name.startswith("blocks.") and ".att." in name and name.rsplit(".", 1)[-1] in (
                "x_r", "x_w", "x_k", "x_v", "x_a", "x_g", "w0", "a0", "v0", "k_k", "k_a"):
            p = p.view(1, 1, -1)
        elif name.endswith("ffn.x_k"):
            p = p.view(1, 1, -1)
        out[name] = p if p.dim() == 2 and not name.endswith("r_k") else p.float()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="build/default-model")
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--steps", type=int, default=1800)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--embd", type=int, default=192)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", metavar="LOSS_JSON",
                    help="reproducibility check: rerun the first --check-steps steps and compare their losses "
                         "with this recorded loss.json (nothing is written)")
    ap.add_argument("--check-steps", type=int, default=200)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    text = kjv_corpus()
    data = torch.from_numpy(np.frombuffer(text, dtype=np.uint8).astype(np.int64))
    split = int(len(data) * 0.98)  # the last 2% (end of Revelation) is held out
    model = RWKV7(args.layers, args.embd)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"corpus {len(text):,} bytes, sha256 {hashlib.sha256(text).hexdigest()[:16]}; {n_params:,} parameters")
    matrices = [p for n, p in model.named_parameters() if p.dim() == 2 and "emb" not in n]
    others = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "emb" not in n)]
    opt = torch.optim.AdamW([{"params": matrices, "weight_decay": 0.01}, {"params": others, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.99), eps=1e-8)
    warmup = 100

    def lr_at(step):  # linear warm-up, cosine down to 5%
        if step < warmup:
            return args.lr * (step + 1) / warmup
        p = (step - warmup) / max(1, args.steps - warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    def batch(lo, hi, n):
        starts = rng.integers(lo, hi - args.ctx - 1, n)
        x = torch.stack([data[s:s + args.ctx + 1] for s in starts])
        return x[:, :-1], x[:, 1:]

    curve, t0 = [], time.time()
    for step in range(args.check_steps if args.check else args.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        x, y = batch(0, split, args.batch)
        loss = F.cross_entropy(model(x).view(-1, 256), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(round(loss.item(), 4))
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {np.mean(curve[-100:]):.4f}  lr {lr_at(step):.2e}  {time.time() - t0:7.1f}s",
                  flush=True)
    train_seconds = time.time() - t0
    if args.check:
        recorded = json.loads(Path(args.check).read_text())["loss_curve"][:len(curve)]
        diff = np.abs(np.array(curve) - np.array(recorded))
        window = lambda c, i: float(np.mean(c[max(0, i - 50):i]))  # noqa: E731
        print(f"reproducibility: {len(curve)} steps, max |loss - recorded| {diff.max():.4f}, mean {diff.mean():.5f}; "
              f"mean of the last 50: {window(curve, len(curve)):.4f} now vs {window(recorded, len(curve)):.4f} recorded")
        return

    model.eval()
    with torch.no_grad():
        xs, ys = batch(split, len(data), 64)
        held_out = F.cross_entropy(model(xs).view(-1, 256), ys.reshape(-1)).item()
    torch.save(blinkdl_state_dict(model), out / "model.pth")

    subprocess.run([sys.executable, "-m", "rwkv_gpu", "convert", str(out / "model.pth"), "-o", str(out / "model-F16.gguf"),
                    "--type", "f16", "--name", f"rwkv7-kjv-{args.layers}x{args.embd}"], check=True)
    samples = sample(model, ["In the beginning", "And Jesus said unto them,", "The LORD is my shepherd"])
    (out / "samples.txt").write_text(samples)
    (out / "loss.json").write_text(json.dumps({
        "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "args": vars(args),
        "corpus": "King James Bible, Debian bible-kjv-text (bible gen1:1-rev22:21), verse numbers removed",
        "corpus_bytes": len(text), "corpus_sha256": hashlib.sha256(text).hexdigest(), "parameters": n_params,
        "torch": torch.__version__, "train_seconds": round(train_seconds, 1),
        "final_train_loss_mean_last_100": round(float(np.mean(curve[-100:])), 4), "held_out_loss": round(held_out, 4),
        "loss_curve": curve}, indent=1))
    print(f"held-out loss {held_out:.4f} nats/byte; {train_seconds / 60:.1f} min\n{samples}")


def sample(model: RWKV7, prompts: list[str], n: int = 200, temperature: float = 0.7) -> str:
    """Samples from the trained model (full re-run per byte: slow but independent of the engine)."""
    g = torch.Generator().manual_seed(0)
    texts = []
    with torch.no_grad():
        for prompt in prompts:
            ids = list(prompt.encode())
            for _ in range(n):
                logits = model(torch.tensor([ids[-127:]]))[0, -1] / temperature
                ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=g)))
            texts.append(bytes(ids).decode("ascii", "replace"))
    return "\n\n---\n\n".join(texts) + "\n"


if __name__ == "__main__":
    main()
