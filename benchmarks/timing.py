"""What the framework benchmarks share: reading an option, pinning the thread count of
NumPy's BLAS and of PyTorch, and timing two functions interleaved (blocks of repeats, so
a change of machine load affects both alike) as the median of each."""
import os
import statistics
import time


def option(argv, name, default=None):
    """The value after ``name`` in ``argv``, or ``default``."""
    return argv[argv.index(name) + 1] if name in argv else default


def pin_threads(threads):
    """Set the BLAS threads (before NumPy's first product) and torch's; returns torch."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = threads
    import torch
    torch.set_num_threads(int(threads))
    return torch


def timed(fn, repeat):
    """Seconds of each of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def interleaved_medians(ours, theirs, blocks, repeat):
    """(median seconds of ``ours``, of ``theirs``), timed in alternating blocks."""
    a, b = [], []
    for _ in range(blocks):
        a += timed(ours, repeat)
        b += timed(theirs, repeat)
    return statistics.median(a), statistics.median(b)
