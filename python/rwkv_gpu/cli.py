"""Command line: ``rwkv-gpu`` or ``python -m rwkv_gpu``.

    rwkv-gpu devices                 list Vulkan devices
    rwkv-gpu info [MODEL.gguf]       devices, then a GGUF file's metadata and tensor table
    rwkv-gpu convert IN -o OUT.gguf [--type f16]   a .pth / .safetensors checkpoint to GGUF
"""

from __future__ import annotations

import argparse
import os
import sys

from . import Error, GGUFFile, devices


def _default_model() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.environ.get("RWKV_GPU_MODEL"),
                      os.path.join(here, "..", "..", "..", "shared", "models", "tiny-rwkv7-834K-F32.gguf")):
        if candidate and os.path.exists(candidate):
            return os.path.normpath(candidate)
    return None


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


def _print_gguf(path: str) -> None:
    f = GGUFFile(path)
    print(f"\n{path}: GGUF v{f.version}, {len(f.tensors)} tensors, alignment {f.alignment}")
    print("\nMetadata:")
    width = max((len(k) for k in f.metadata), default=0)
    for key, value in f.metadata.items():
        print(f"  {key:<{width}}  {f.metadata_types[key]:<12} {_short(value)}")
    print("\nTensors:")
    width = max((len(n) for n in f.tensors), default=0)
    total = 0
    for t in f.tensors.values():
        total += t.n_bytes
        print(f"  {t.name:<{width}}  {t.type:<5} {str(list(t.ne)):<22} {t.n_bytes:>12,d} B")
    print(f"\n  {len(f.tensors)} tensors, {total:,d} bytes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rwkv-gpu", description="RWKV-7 on Vulkan GPUs")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("devices", help="list Vulkan devices")
    info = sub.add_parser("info", help="devices, then a GGUF file's metadata and tensor table")
    info.add_argument("model", nargs="?", help="GGUF file (default: $RWKV_GPU_MODEL or the shared tiny model)")
    conv = sub.add_parser("convert", help="convert a .pth / .safetensors RWKV-7 checkpoint to GGUF")
    conv.add_argument("input", help="BlinkDL .pth, or .safetensors (BlinkDL or Hugging Face names)")
    conv.add_argument("-o", "--output", required=True, help="the GGUF file to write")
    conv.add_argument("--type", default="f16", choices=("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"),
                      help="type of the big matrices (default f16)")
    conv.add_argument("--name", help="general.name (default: the input's file name)")
    args = parser.parse_args(argv)
    try:
        if args.command == "devices":
            _print_devices()
        elif args.command == "info":
            _print_devices()
            model = args.model or _default_model()
            if model is None:
                parser.error("no model given and no default model found")
            _print_gguf(model)
        elif args.command == "convert":
            from .convert import convert

            out = convert(args.input, args.output, args.type, name=args.name, progress=sys.stderr.isatty())
            print(f"wrote {out} ({out.stat().st_size:,d} bytes, {args.type})")
    except (Error, OSError, ValueError, KeyError) as e:
        if args.debug:
            raise
        print(f"rwkv-gpu: error: {e}", file=sys.stderr)
        return 1
    return 0
