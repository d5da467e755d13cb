"""Reading PyTorch ``.pth`` checkpoints (a zip of a pickle and raw storages) into numpy arrays,
without importing torch. Only the pieces a state dict of tensors uses are understood; anything else
in the pickle raises ``ValueError`` instead of running code."""

from __future__ import annotations

import pickle
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16",
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name: str):
        self.name = name


def _rebuild_tensor(storage, offset, size, stride, *args):
    data, dtype = storage
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and all(isinstance(v, int) and v >= 0 for v in (offset, *size, *stride))):
        raise ValueError(f"malformed tensor in checkpoint: offset {offset!r}, size {size!r}, stride {stride!r}")
    n = int(np.prod(size)) if len(size) else 1
    if dtype == "bfloat16":
        raw = np.frombuffer(data, dtype=np.uint16)
        flat = (raw.astype(np.uint32) << 16).view(np.float32)
    else:
        flat = np.frombuffer(data, dtype=dtype)
    if n == 0:
        return np.zeros(size, dtype=flat.dtype)
    # The last element the view reaches must lie inside the storage (as_strided does not check).
    last = offset + sum((d - 1) * s for d, s in zip(size, stride))
    if last >= len(flat):
        raise ValueError(f"malformed tensor in checkpoint: size {size} and stride {stride} at offset {offset} "
                         f"reach element {last} of a storage of {len(flat)}")
    itemsize = flat.itemsize
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride))
    return np.array(view)  # a contiguous copy that owns its memory


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive: zipfile.ZipFile, prefix: str):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix

    def find_class(self, module, name):
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        raise ValueError(f"unsupported object in checkpoint: {module}.{name} (only tensors are read)")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel)
        if not (isinstance(pid, tuple) and pid[0] == "storage"):
            raise ValueError(f"unsupported persistent id in checkpoint: {pid!r}")
        storage_type, key = pid[1], pid[2]
        dtype = _STORAGE_DTYPES[storage_type.name]
        return self._archive.read(f"{self._prefix}/data/{key}"), dtype


# What reading a malformed file can raise below (zipfile: RuntimeError for encrypted members);
# load_pth turns each into ValueError.
_MALFORMED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, RuntimeError, pickle.UnpicklingError, EOFError, UnicodeDecodeError, KeyError,
              IndexError, TypeError, AttributeError, NotImplementedError, OverflowError, MemoryError)


def load_pth(path) -> dict[str, np.ndarray]:
    """The tensors of a ``torch.save``-d state dict, as numpy arrays (bfloat16 becomes float32).

    Raises ValueError (naming the file) for anything that is not such a checkpoint.
    """
    try:
        return _load_pth(path)
    except _MALFORMED as e:
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})") from e


# PyTorch's zip reader (miniz) reads stored and deflated members only; any other method (bzip2,
# lzma: their decoders raise their own error types on bad data) is not a checkpoint's.
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _load_pth(path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.compress_type not in _METHODS:
                raise zipfile.BadZipFile(f"member {info.filename!r} uses compression method {info.compress_type}, "
                                         "not one PyTorch writes (stored or deflated)")
        pkl = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{path}: not a PyTorch zip checkpoint (no data.pkl)")
        prefix = pkl[0][: -len("/data.pkl")]
        with archive.open(pkl[0]) as f:
            obj = _Unpickler(f, archive, prefix).load()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: the checkpoint is not a state dict")
    return {str(k): v for k, v in obj.items() if isinstance(v, np.ndarray)}
