"""Draw pictures 1..N in worker processes: each worker takes every W-th index and sends back what it drew.

Not multiprocessing.Pool: on Ctrl-C its terminate() takes a lock that a worker may hold, and the parent can
hang with its workers still writing (fault pass 6.2). Here each worker has its own pipe and shares no lock,
so an interrupted parent kills its workers outright and waits for them, and nothing outlives it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import closing
from multiprocessing.connection import wait


def _worker_signals() -> None:
    """Signals in a worker: Ctrl-C and SIGTERM are the parent's to handle (it kills the workers and removes
    the folder), and a worker whose parent has gone ends quietly on SIGPIPE instead of a BrokenPipe traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _work(send, others: list, parent: int, start: Callable, job, one: Callable, indices: range) -> None:
    _worker_signals()
    for pipe in others:  # the reading ends of earlier workers' pipes, inherited by fork: a dead parent's
        pipe.close()     # pipes must read as closed, so their writers end on SIGPIPE
    start(job)
    try:
        for index in indices:
            if os.getppid() != parent:  # the parent was killed outright (SIGKILL): stop drawing for nobody
                return
            send.send((index, one(index)))
    except Exception:  # a bug in drawing: the parent raises it with this traceback
        send.send((None, traceback.format_exc()))
    send.close()


def fan_out(start: Callable, job, one: Callable, count: int, workers: int) -> Iterator:
    """Yield one(i) for i = 1..count in any order, as (i, result), from `workers` processes that each ran
    start(job) first. Closing the iterator early (an exception, Ctrl-C) kills the workers."""
    procs, pipes = [], []
    try:
        for k in range(workers):
            recv, send = mp.Pipe(duplex=False)
            proc = mp.Process(target=_work, daemon=True, args=(send, list(pipes), os.getpid(), start, job, one,
                                                               range(k + 1, count + 1, workers)))
            proc.start()
            send.close()  # the parent keeps only the reading end, so a dead worker reads as EOF
            procs.append(proc)
            pipes.append(recv)
        running = dict(zip(pipes, procs))
        while running:
            for pipe in wait(list(running)):
                try:
                    index, result = pipe.recv()
                except EOFError:  # the worker is done, or died: then stop now, not when the others finish
                    proc = running.pop(pipe)
                    proc.join()
                    if proc.exitcode != 0:  # OSError: the CLIs' one-line 'failed mid-run' (exit 1)
                        raise ChildProcessError(
                            f"a worker died (exit {proc.exitcode}); rerun, or use --workers 1 to see why") from None
                    continue
                if index is None:  # a bug, not a user's mistake: keep the worker's traceback
                    raise RuntimeError(f"a worker failed:\n{result}")
                yield index, result
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        for proc in procs:
            proc.join()
        for pipe in pipes:
            pipe.close()


def draw_all(start: Callable, job, one: Callable, count: int, workers: int, bar) -> list:
    """one(i) for i = 1..count in index order, in this process when workers is 1, with a progress bar."""
    if workers == 1:
        start(job)  # no processes: simpler tracebacks when debugging
        return [one(i) for i in bar(range(1, count + 1))]
    results = [None] * count
    # closing(): an interrupt in this loop must kill the workers now, not when the traceback is collected
    with closing(fan_out(start, job, one, count, workers)) as drawn:
        for index, result in bar(drawn):
            results[index - 1] = result
    return results
