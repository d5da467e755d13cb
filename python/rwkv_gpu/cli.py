"""Command line: ``rwkv-gpu`` or ``python -m rwkv_gpu``.

    rwkv-gpu devices                         list Vulkan devices
    rwkv-gpu info [-m MODEL]                 devices, then a GGUF file's metadata and tensor table
    rwkv-gpu generate [-m MODEL] PROMPT      stream generated text to the terminal
    rwkv-gpu chat [-m MODEL]                 a multi-turn "User: / Assistant:" chat on stdin
    rwkv-gpu embed [-m MODEL] [FILE] -o OUT  one embedding per line of FILE (or stdin); OUT's
                                             extension picks the format (rwkv_gpu.vector_files)
    rwkv-gpu bench [-m MODEL]                prefill and decode speed
    rwkv-gpu convert IN -o OUT.gguf          a .pth / .safetensors checkpoint to GGUF
    rwkv-gpu demo [-m MODEL]                 the main job: search, doc state, generation, timed
    rwkv-gpu serve [-m MODEL] [--port 8000]  an OpenAI-compatible HTTP server (the server extra)
    rwkv-gpu embed-corpus IN -o OUT.parquet  a corpus (Parquet / JSONL) embedded on Ray (the ray extra)

MODEL defaults to $RWKV_GPU_MODEL, else the embedded default model. Errors print one line (exit
status 1); ``--debug`` shows the traceback. ``--version`` prints the package version.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import Error, GGUFError, GGUFFile, __version__, devices
from .generation import DEFAULT_MAX_TOKENS, SamplingParams


def _model_path(arg: str | None) -> str:
    if arg:
        return arg
    from . import default_model_path

    return os.environ.get("RWKV_GPU_MODEL") or str(default_model_path())


def _load(arg: str | None, device: str | None):
    from . import Model

    path = _model_path(arg)
    try:
        return Model(path, device, progress=sys.stderr.isatty())
    except GGUFError as e:
        raise GGUFError(f"{e}{_convert_hint(path)}") from e


def _print_devices() -> None:
    found = devices()
    print(f"Vulkan devices ({len(found)}):")
    for d in found:
        print(("* " if d.selected else "  ") + d.summary())
        print(f"      maxStorageBufferRange {d.max_storage_buffer_range / 2**20:.0f} MiB, "
              f"shared memory {d.max_compute_shared_memory_size // 1024} KiB, "
              f"subgroup ops: {', '.join(d.subgroup_operations) or 'none'}, "
              f"timestamps: {'yes' if d.timestamps else 'no'}")


def _short(value, limit: int = 8) -> str:
    if isinstance(value, list):
        head = ", ".join(repr(v) for v in value[:limit])
        return f"[{head}{', ...' if len(value) > limit else ''}] ({len(value)} items)"
    return repr(value)


def _convert_hint(path: str) -> str:
    """For a file that is not GGUF but looks like a checkpoint: the command that converts it."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return ""
    if head[:4] == b"GGUF":  # a damaged GGUF, not a checkpoint
        return ""
    safetensors = Path(path).suffix == ".safetensors" or head[8:9] == b"{"  # 8-byte header size, then JSON
    # torch.save writes a zip archive; older PyTorch files are a bare pickle (.pt / .pth).
    pth = head[:4] == b"PK\x03\x04" or Path(path).suffix in (".pth", ".pt")
    if not (safetensors or pth):
        return ""
    kind = ".safetensors" if safetensors else ".pth"
    return f"; it looks like a {kind} checkpoint: convert it first with `rwkv-gpu convert {path} -o model.gguf`"


def _open_gguf(path: str) -> GGUFFile:
    try:
        return GGUFFile(path)
    except GGUFError as e:
        raise GGUFError(f"{e}{_convert_hint(path)}") from e


def _annotation(f: GGUFFile, key: str) -> str:
    """What a metadata value means where the raw number misleads."""
    arch = f.metadata.get("general.architecture")
    head_size = f.metadata.get(f"{arch}.wkv.head_size")
    n_embd = f.metadata.get(f"{arch}.embedding_length")
    if key == f"{arch}.attention.head_count" and f.metadata[key] == 0 and head_size and n_embd:
        return (f"   ({arch} gives heads by their size: embedding_length / wkv.head_size = "
                f"{n_embd} / {head_size} = {n_embd // head_size} heads)")
    return ""


def _print_gguf(f: GGUFFile) -> None:
    print(f"\n{f.path}: GGUF v{f.version}, {len(f.tensors)} tensors, alignment {f.alignment}")
    print("\nMetadata:")
    width = max((len(k) for k in f.metadata), default=0)
    for key, value in f.metadata.items():
        print(f"  {key:<{width}}  {f.metadata_types[key]:<12} {_short(value)}{_annotation(f, key)}")
    print("\nTensors (shapes in numpy order, as GGUFFile.tensors[name].shape; GGUF's ne is reversed):")
    width = max((len(n) for n in f.tensors), default=0)
    total = 0
    for t in f.tensors.values():
        total += t.n_bytes
        print(f"  {t.name:<{width}}  {t.type:<5} {str(t.shape):<22} {t.n_bytes:>12,d} B")
    print(f"\n  {len(f.tensors)} tensors, {total:,d} bytes")


def _sampling_args(p: argparse.ArgumentParser) -> None:
    d = SamplingParams()  # the engine's defaults, as the Python API's: the same text for the same seed
    p.add_argument("-n", "--max-tokens", type=int, default=DEFAULT_MAX_TOKENS,
                   help=f"tokens to generate at most (default {DEFAULT_MAX_TOKENS})")
    p.add_argument("--temperature", type=float, default=d.temperature, help=f"0 is greedy (default {d.temperature:g})")
    p.add_argument("--top-p", type=float, default=d.top_p, help=f"default {d.top_p:g}")
    p.add_argument("--top-k", type=int, default=d.top_k, help="0: off (default)")
    p.add_argument("--presence-penalty", type=float, default=d.presence_penalty)
    p.add_argument("--frequency-penalty", type=float, default=d.frequency_penalty)
    p.add_argument("--penalty-decay", type=float, default=d.penalty_decay)
    p.add_argument("--seed", type=int, help="random seed (default: random)")


def _sampling(args) -> dict:
    return dict(temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                presence_penalty=args.presence_penalty, frequency_penalty=args.frequency_penalty,
                penalty_decay=args.penalty_decay, seed=args.seed)


def _unescape(s: str) -> str:
    return s.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def _generate(args) -> None:
    model = _load(args.model, args.device)
    stop = [_unescape(s) for s in args.stop or []]
    stream = model.generate(_unescape(args.prompt), args.max_tokens, stop=stop, stream=True, **_sampling(args))
    if not args.no_echo:
        print(_unescape(args.prompt), end="", flush=True)
    for piece in stream:
        print(piece, end="", flush=True)
    r = stream.result
    print()
    print(f"[{len(r.tokens)} tokens, {r.finish_reason}; first token {r.timings['first_token_s'] * 1e3:.1f} ms, "
          f"{r.timings['decode_tokens_per_s']:.1f} tokens/s]", file=sys.stderr)


def _chat(args) -> None:
    model = _load(args.model, args.device)
    state = model.new_state()
    if args.system:
        model.run(_unescape(args.system) + "\n\n", state, logits=None)
    interactive = sys.stdin.isatty()
    print(f"Chat with {os.path.basename(model.path)} (empty line or /quit ends it)", file=sys.stderr)
    while True:
        if interactive:
            print("User: ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or not line.strip() or line.strip() == "/quit":
            break
        if not interactive:
            print(f"User: {line.strip()}")
        # World chat format: turns separated by blank lines; the state carries the conversation.
        prompt = f"User: {line.strip()}\n\nAssistant:"
        print("Assistant:", end="", flush=True)
        stream = model.generate(prompt, args.max_tokens, stop="\n\n", state=state, stream=True, **_sampling(args))
        for piece in stream:
            print(piece, end="", flush=True)
        print("\n")
        if stream.result.finish_reason != "stop":  # the state saw the stop string; else close the turn
            model.run("\n\n", state, logits=None)


def _embed(args) -> None:
    import numpy as np

    from .vector_files import output_format, write_vectors

    output_format(args.output)  # a bad name or a missing pyarrow fails before any work
    src = sys.stdin if args.input in (None, "-") else open(args.input, encoding="utf-8")
    with src:
        lines = [line.rstrip("\n") for line in src]
    kept = [n for n, line in enumerate(lines, 1) if line.strip()]  # 1-based line numbers
    blank = sorted(set(range(1, len(lines) + 1)) - set(kept))
    if not kept:
        raise ValueError("no non-blank lines to embed")
    model = _load(args.model, args.device)
    vectors = model.embed_batch([lines[n - 1] for n in kept], pooling=args.pooling, normalize=args.normalize,
                                batch_size=args.batch_size, progress=args.progress or sys.stderr.isatty())
    if args.skip_blank:
        rows = kept
    else:  # one row per input line: a blank line has no tokens to embed, so its row is NaN
        rows = list(range(1, len(lines) + 1))
        full = np.full((len(lines), vectors.shape[1]), np.nan, dtype=np.float32)
        full[np.array(kept) - 1] = vectors
        vectors = full
    write_vectors(args.output, vectors, [lines[n - 1] for n in rows], rows)
    print(f"wrote {args.output}: {vectors.shape[0]} x {vectors.shape[1]} float32 ({args.pooling} pooling)")
    if blank:
        which = ", ".join(map(str, blank[:10])) + (", ..." if len(blank) > 10 else "")
        many = len(blank) > 1
        nan_rows = "NaN rows" if many else "a NaN row"
        what = "left out" if args.skip_blank else f"{nan_rows} (--skip-blank leaves blank lines out)"
        print(f"rwkv-gpu: {len(blank)} blank line{'s' if many else ''} ({which}): {what}", file=sys.stderr)


def _bench(args) -> None:
    import numpy as np

    model = _load(args.model, args.device)
    rng = np.random.default_rng(0)
    prompt = rng.integers(1, model.vocab_size, args.prompt_tokens).tolist()
    model.run(prompt[:8], model.new_state())  # warm-up: pipelines
    prefill, decode = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        model.run(prompt, model.new_state(), logits=None)
        prefill.append(args.prompt_tokens / (time.perf_counter() - t0))
        r = model.generate(prompt[:4], args.gen_tokens, temperature=0, stop_tokens=[])
        decode.append(r.timings["decode_tokens_per_s"])
    print(f"{os.path.basename(model.path)} on {model.info['device']}: {model.info['n_layer']} layers, "
          f"n_embd {model.n_embd}, vocab {model.vocab_size}")
    print(f"  prefill pp{args.prompt_tokens}: {np.median(prefill):10.1f} tokens/s (median of {args.repeats})")
    print(f"  decode  tg{args.gen_tokens}: {np.median(decode):10.1f} tokens/s (greedy, GPU sampling)")


def _convert(args) -> None:
    from .convert import convert

    out = convert(args.input, args.output, args.type, name=args.name, progress=sys.stderr.isatty())
    print(f"wrote {out} ({out.stat().st_size:,d} bytes, {args.type})")


def _serve_args(p: argparse.ArgumentParser) -> None:
    # The defaults are the server's own (server.app.Settings), read without importing FastAPI.
    from .server.settings import Settings

    d = Settings()
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-key", default=os.environ.get("RWKV_GPU_API_KEY"),
                   help="require 'Authorization: Bearer KEY' on /v1/* (default: $RWKV_GPU_API_KEY, else none)")
    p.add_argument("--served-model-name", help="the model's id in /v1/models and responses (default: its name)")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="sequences generating together")
    p.add_argument("--max-queue", type=int, default=d.max_queue, help="requests waiting beyond those; more get 429")
    p.add_argument("--max-tokens", type=int, default=d.max_tokens, help="default and largest max_tokens of a request")
    p.add_argument("--max-prompt-tokens", type=int, default=d.max_prompt_tokens)
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes, help="larger request bodies get 413")
    p.add_argument("--chat-template", help="chat template name (default: rwkv-world)")
    p.add_argument("--pooling", default=d.pooling, choices=("last", "mean", "state"), help="of /v1/embeddings")
    p.add_argument("--no-normalize", action="store_true", help="/v1/embeddings without unit length")
    p.add_argument("--no-warm-up", action="store_true",
                   help="serve at once, without first running typical requests (their GPU pipelines then compile "
                        "during the first requests)")
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def _serve(args) -> None:
    from .chat import chat_template

    chat_template(args.chat_template)  # an unknown name fails before the model loads
    from .server import Settings, serve

    settings = Settings(served_model_name=args.served_model_name, api_key=args.api_key, max_batch=args.max_batch,
                        max_queue=args.max_queue, max_tokens=args.max_tokens, max_prompt_tokens=args.max_prompt_tokens,
                        max_body_bytes=args.max_body_bytes,
                        chat_template=args.chat_template, pooling=args.pooling, normalize=not args.no_normalize,
                        warm_up=not args.no_warm_up)
    model = _load(args.model, args.device)
    print(f"serving {model.name} on http://{args.host}:{args.port}/v1 ({model.info['device']})", file=sys.stderr)
    serve(model, args.host, args.port, settings, log_level=args.log_level)


def _embed_corpus(args) -> None:
    from .distributed import embed_corpus

    rows = embed_corpus(args.input, args.output, _model_path(args.model), text_column=args.text_column,
                        ray_address=args.ray_address, pooling=args.pooling, normalize=args.normalize,
                        batch_size=args.batch_size, concurrency=args.concurrency, num_gpus=args.num_gpus,
                        device=args.device)
    print(f"wrote {args.output}: {rows} rows, each with its embedding ({args.pooling} pooling)")


def build_parser() -> argparse.ArgumentParser:
    """The ``rwkv-gpu`` argument parser (every subcommand and its defaults)."""
    parser = argparse.ArgumentParser(prog="rwkv-gpu", description="RWKV-7 on Vulkan GPUs")
    parser.add_argument("--version", action="version", version=f"rwkv-gpu {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_model(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-m", "--model", help="GGUF file (default: $RWKV_GPU_MODEL or the embedded default model)")
        p.add_argument("--device", help="device index or name (default: $RWKV_GPU_DEVICE or the best GPU)")
        return p

    sub.add_parser("devices", help="list Vulkan devices", description="list Vulkan devices")
    info = with_model("info", "devices, then a model file's metadata and tensor table")
    info.add_argument("path", nargs="?", help="GGUF file (same as --model)")
    gen = with_model("generate", "generate text after a prompt, streamed to the terminal")
    gen.add_argument("prompt", help="the prompt (\\n and other escapes work)")
    _sampling_args(gen)
    gen.add_argument("--stop", action="append", help="a stop string (repeatable)")
    gen.add_argument("--no-echo", action="store_true", help="do not print the prompt first")
    chat = with_model("chat", "chat in the World format (User: / Assistant:), one turn per input line")
    _sampling_args(chat)
    chat.add_argument("--system", help="text the conversation starts from")
    emb = with_model("embed", "embed each line of a file (or stdin): one row per line, in a file whose extension "
                              "names the format")
    emb.add_argument("input", nargs="?", help="text file, one item a line (default: stdin)")
    emb.add_argument("-o", "--output", required=True,
                     help="the file to write, exactly as named: .npy, .npz (with texts and line numbers), .csv, "
                          ".tsv, .txt (numbers), .jsonl (line, text, embedding) or .parquet (needs pyarrow)")
    emb.add_argument("--skip-blank", action="store_true",
                     help="leave blank lines out (default: they have no tokens to embed, so their rows are NaN, "
                          "null in .jsonl / .parquet)")
    emb.add_argument("--pooling", default="last", choices=("last", "mean", "state"))
    emb.add_argument("--normalize", action="store_true", help="unit-length vectors")
    emb.add_argument("--batch-size", type=int, default=64)
    emb.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    bench = with_model("bench", "prefill and decode speed on random tokens")
    bench.add_argument("-p", "--prompt-tokens", type=int, default=512)
    bench.add_argument("-n", "--gen-tokens", type=int, default=128)
    bench.add_argument("-r", "--repeats", type=int, default=3)
    conv = sub.add_parser("convert", help="convert a .pth / .safetensors RWKV-7 checkpoint to GGUF",
                          description="convert a .pth / .safetensors RWKV-7 checkpoint to GGUF")
    conv.add_argument("input", help="BlinkDL .pth, or .safetensors (BlinkDL or Hugging Face names)")
    conv.add_argument("-o", "--output", required=True, help="the GGUF file to write")
    conv.add_argument("--type", default="f16", choices=("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"),
                      help="type of the big matrices (default f16)")
    conv.add_argument("--name", help="general.name (default: the input's file name)")
    demo = with_model("demo", "the main job: what goes in and comes out of each stage, with timings (the default "
                              "model: search and verse continuation; another model: an email's field analysis "
                              "and a question)")
    demo.add_argument("--task", default="auto", choices=("auto", "bible", "email"),
                      help="auto (default): bible on the default model, email on any other")
    demo.add_argument("--seed", type=int, default=7, help="sampling seed of the first generation (the second: +1)")
    corpus = with_model("embed-corpus", "embed a corpus on Ray Data (one model per actor): Parquet or JSONL in, "
                                        "Parquet out with every input column and an embedding column")
    corpus.add_argument("input", help="a .parquet or .jsonl file, or a folder of them")
    corpus.add_argument("-o", "--output", required=True, help="the Parquet file to write (rows in input order)")
    corpus.add_argument("--text-column", default="text")
    corpus.add_argument("--ray-address", help="an existing cluster (default: $RAY_ADDRESS, else a local one)")
    corpus.add_argument("--concurrency", type=int, default=1, help="actors, one model each")
    corpus.add_argument("--num-gpus", type=float, help="GPUs per actor (1: one actor per GPU; default none)")
    corpus.add_argument("--pooling", default="last", choices=("last", "mean", "state"))
    corpus.add_argument("--normalize", action="store_true", help="unit-length vectors")
    corpus.add_argument("--batch-size", type=int, default=256, help="rows per embed_batch of an actor")
    _serve_args(with_model("serve", "an OpenAI-compatible HTTP server: /v1/completions, /v1/chat/completions, "
                                    "/v1/embeddings, /v1/models, /health, /metrics"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "devices":
            _print_devices()
        elif args.command == "info":
            f = _open_gguf(_model_path(args.path or args.model))  # a bad file fails before the device list
            _print_devices()
            _print_gguf(f)
        elif args.command == "generate":
            _generate(args)
        elif args.command == "chat":
            _chat(args)
        elif args.command == "embed":
            _embed(args)
        elif args.command == "bench":
            _bench(args)
        elif args.command == "convert":
            _convert(args)
        elif args.command == "demo":
            from .demo import run_demo

            run_demo(_model_path(args.model), args.device, seed=args.seed, task=args.task)
        elif args.command == "serve":
            _serve(args)
        elif args.command == "embed-corpus":
            _embed_corpus(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except (Error, OSError, ValueError, KeyError, TypeError) as e:
        if args.debug:
            raise
        print(f"rwkv-gpu: error: {e}", file=sys.stderr)
        return 1
    return 0
