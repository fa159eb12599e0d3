"""One thread per BLAS/OpenMP pool for every simulation.

The model's arrays are small (tens of accounts by hundreds of issues): a threaded BLAS only
spins on them, and it spins against every other process on the machine. Threaded kernels
also sum in a different order, so the last bits of results would depend on the thread
count (and Dask workers, which run single-threaded, would disagree with local runs).
Pinning makes runs faster and identical whatever the environment says.

Set PLUMBING_PIN_THREADS=0 to leave the pools as the environment configures them (the
benchmark uses it to measure what pinning buys).
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits

PIN_SWITCH = "PLUMBING_PIN_THREADS"


def pinning_enabled() -> bool:
    """False when the environment switches pinning off (PLUMBING_PIN_THREADS=0/false/no/off)."""
    return os.environ.get(PIN_SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


def pin_thread_pools() -> bool:
    """Limit every loaded BLAS and OpenMP pool of this process to one thread.

    Returns True if the pools are pinned. Called whenever a model is built (about 0.3 ms),
    so every simulation (CLI, experiment workers local or on Dask, calibration trials,
    tests) runs pinned, including pools of libraries loaded after an earlier call.
    """
    if not pinning_enabled():
        return False
    threadpool_limits(limits=1)  # applied now and kept: not used as a context manager
    return True
