"""The compiled engine: Algorithm 1.1's whole loop as plain C (``gd_loop.c``), for small networks.

``gd_loop.c`` restates the seed's rules in C (the one sanctioned restatement: tests pin it to
the ``ACTIVATIONS`` / ``OUTPUTS`` records). It is built at first use with the system C compiler
(``$CC``, else ``cc``), one shared library per dtype, cached under ``$XDG_CACHE_HOME/torchnn``
(else ``~/.cache/torchnn``) by a hash of the source, the flags, the CPU and the compiler's
version, and written under a temporary name then ``os.replace``-d into place, so processes that
build at once (DDP ranks) each end with a whole library. It is called through ``ctypes`` on the
tensors' data pointers.

``unsupported(...)`` says why the kernel cannot run a call (None where it can);
``gradient_descent(...)`` runs it. ``torchnn.nn.descent_loop`` picks between this and the torch
engine; nothing else calls it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from torchnn.functional._autograd import any_autocast, transforms_active

__all__ = ["MAX_MACS", "HIDDEN", "OUTPUTS", "unsupported", "gradient_descent", "library",
           "cache_dir"]

# the most multiply-adds per example, Σ n[l] n[l-1], run compiled: beyond about 1,500 the torch
# engine's BLAS is as fast (measured: docs/performance.md, "A compiled gradient-descent loop")
MAX_MACS = 1_000
HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")  # gd_loop.c's enum order
OUTPUTS = ("sigmoid", "softmax", "identity", "relu")  # gd_loop.c's enum order
SOURCE = Path(__file__).with_name("gd_loop.c")
# NOTE: no -ffast-math (NaN and infinity stay IEEE); -fno-math-errno only drops errno, which
# lets the loops call libm's vector exp / log1p / tanh; -fopenmp-simd reads the `omp simd` lines
FLAGS = ("-O3", "-march=native", "-fopenmp-simd", "-fno-math-errno", "-fPIC", "-shared")
_REALS = {torch.float32: "float", torch.float64: "double"}  # REAL in gd_loop.c
_LIBS: dict[tuple, ctypes.CDLL | str] = {}  # (compiler, dtype) -> the library, or why none
_COMPILERS: dict[str, tuple[str, str] | str] = {}  # $CC -> (path, version line), or why not


def cache_dir() -> Path:
    """Where built libraries are kept: ``$XDG_CACHE_HOME/torchnn``, else ``~/.cache/torchnn``."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "torchnn"


def _compiler() -> tuple[str, str] | str:
    """(the compiler's path, its version line), or why there is none; asked once per $CC."""
    name = os.environ.get("CC") or "cc"
    if name in _COMPILERS:  # NOTE: a PATH search costs more than a small network's iteration
        return _COMPILERS[name]
    path = shutil.which(name)
    if path is None:
        _COMPILERS[name] = f"no C compiler: {name!r} is not on PATH (set CC to one)"
    else:
        try:
            done = subprocess.run([path, "--version"], capture_output=True, text=True,
                                  timeout=30, check=True)
            _COMPILERS[name] = path, (done.stdout.splitlines() or [""])[0]
        except (OSError, subprocess.SubprocessError) as err:
            _COMPILERS[name] = f"the C compiler {path} does not run: {err}"
    return _COMPILERS[name]


def _cpu() -> str:
    """The machine and, where Linux says, the CPU model: -march=native builds for this CPU."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line for line in info if line.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{platform.machine()} {model.strip()}"


def _build(cc: str, version: str, real: str) -> Path | str:
    """The library for one dtype, built unless the cache holds it; or why it can't be built."""
    source = SOURCE.read_bytes()
    # NOTE: glibc's vector libm (libmvec) gives SIMD exp / tanh without -ffast-math; elsewhere,
    # or where it fails, the same source builds with scalar libm calls
    variants = [("-DTORCHNN_MVEC", "-lmvec"), ()] if platform.system() == "Linux" else [()]
    builds = []
    for extra in variants:
        flags = (*FLAGS, *(["-DREAL_FLOAT"] if real == "float" else []), *extra, "-lm")
        key = hashlib.sha256(b"\0".join([source, " ".join(flags).encode(), version.encode(),
                                         _cpu().encode()])).hexdigest()[:16]
        builds.append((cache_dir() / f"gd_loop-{real}-{key}.so", flags))
    for target, _ in builds:
        if target.exists():
            return target
    error = ""
    for target, flags in builds:
        tmp = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".so.tmp", dir=target.parent)
            os.close(fd)
            done = subprocess.run([cc, str(SOURCE), "-o", tmp, *flags], capture_output=True,
                                  text=True, timeout=120, check=False)
            if done.returncode == 0:
                os.replace(tmp, target)  # atomic: another build's library is replaced whole
                return target
            error = (done.stderr.strip().splitlines() or ["failed"])[-1]
        except (OSError, subprocess.SubprocessError) as err:
            error = str(err)
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
    return f"the C compiler {cc} could not build {SOURCE.name}: {error}"


def library(dtype: torch.dtype) -> ctypes.CDLL | str:
    """The loaded kernel for ``dtype`` (built at first use), or why there is none."""
    found = _compiler()
    if isinstance(found, str):
        return found
    key = (found, dtype)
    if key not in _LIBS:
        built = _build(*found, _REALS[dtype])
        if isinstance(built, str):
            _LIBS[key] = built
        else:
            lib = ctypes.CDLL(str(built))
            lib.gd_loop.restype = ctypes.c_int64
            lib.gd_loop.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_double, ctypes.c_int64, ctypes.c_double,
                                    ctypes.c_int64, ctypes.c_void_p]
            _LIBS[key] = lib
    return _LIBS[key]


def unsupported(params: Sequence[Tensor | None], x: Tensor, y: Tensor, hidden: str, slope: float,
                output: str) -> str | None:
    """Why the compiled kernel cannot run this call, or None where it can. (Hooks, parametrized
    layers and replaced modules are ``DeepNetwork._explicit``'s to judge, before this.)"""
    dtype, tensors = x.dtype, [x, y, *params]
    if any(p is None for p in params):
        return "a layer has no bias"
    weights = [p for p in params if p is not None]
    if any(t.device.type != "cpu" for t in tensors if t is not None):
        return f"the tensors are on {x.device}, not the CPU"
    if dtype not in _REALS or any(p.dtype != dtype for p in weights):
        return (f"x is {dtype} and the parameters {sorted({str(p.dtype) for p in weights})}; "
                "expected all float32 or all float64")
    if any_autocast() or torch.is_autocast_enabled("cpu"):
        return "autocast is enabled"
    if torch.compiler.is_compiling() or transforms_active():
        return "a torch.compile trace or a torch.func transform is active"
    if any(type(t) not in (Tensor, torch.nn.Parameter) or not t.is_contiguous()
           or t.layout != torch.strided for t in weights):
        return "a parameter is not a plain contiguous tensor"
    if hidden not in HIDDEN or output not in OUTPUTS:
        return f"no kernel for hidden {hidden!r} with output {output!r}"
    if hidden == "leaky_relu" and slope < 0:
        return f"a negative leaky ReLU slope ({slope}): g' then needs Z, which the kernel drops"
    macs = sum(w.numel() for w in weights[::2])  # Σ n[l] n[l-1]
    if macs > MAX_MACS:
        return (f"the layers take {macs} multiply-adds per example; the kernel pays up to "
                f"{MAX_MACS} (e.g. [30, 16, 8, 1] or [2, 100, 3])")
    lib = library(dtype)
    return lib if isinstance(lib, str) else None


def gradient_descent(params: Sequence[Tensor], x: Tensor, y: Tensor, hidden: str, slope: float,
                     output: str, lr: float, iterations: int) -> tuple[Tensor, int]:
    """``iterations`` of Algorithm 1.1 in C, W^[l] and b^[l] updated in place. Returns J of every
    iteration (float64) and how many completed: fewer where a J was not finite, that iteration
    stopped before its update. ``y``: (m, n[L]) values, or class indices (m,) int64."""
    lib = library(x.dtype)
    assert not isinstance(lib, str), lib  # unsupported() said None
    x = x.detach().contiguous()
    labels = y.detach().contiguous() if not y.is_floating_point() else None
    values = None if labels is not None else y.detach().to(x.dtype).contiguous()
    dims = (ctypes.c_int64 * (len(params) // 2 + 1))(
        x.shape[1], *(w.shape[0] for w in params[::2]))
    weights = (ctypes.c_void_p * len(dims))(*(w.data_ptr() for w in params[::2]))
    biases = (ctypes.c_void_p * len(dims))(*(b.data_ptr() for b in params[1::2]))
    costs = torch.empty(iterations, dtype=torch.float64)
    done = lib.gd_loop(len(params) // 2, dims, weights, biases, x.data_ptr(),
                       None if values is None else values.data_ptr(),
                       None if labels is None else labels.data_ptr(), x.shape[0],
                       HIDDEN.index(hidden), slope, OUTPUTS.index(output), lr, iterations,
                       costs.data_ptr())
    if done < 0:
        raise MemoryError(f"gd_loop: out of memory for a batch of {x.shape[0]} examples")
    for p in params:  # written through the data pointer: tell autograd, as an in-place op would
        torch.autograd.graph.increment_version(p)
    return costs, done
