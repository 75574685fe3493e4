"""``csqa audit --engine dask``: the same audit, its batches run as tasks on a Dask cluster.

The client (this process) cuts the inputs into batches as the local engine does (raw JSONL
lines, parsed by the workers), except that ``.json`` files are read here (a cluster's workers
may not see this machine's files), submits each batch as one task running
:func:`csqa.parallel.audit_items` with the job (ruleset, read options, limits) scattered once to
every worker (each worker compiles it once), and writes the results in input order. The outputs
are therefore the same bytes as the local engine's. The workers need csqa installed; they do
not need to see the input files (the batches carry the data). At most ``4 × workers`` tasks are
in flight.

Without ``--scheduler``, a ``LocalCluster`` of ``--jobs`` single-threaded worker processes is
started for the run and stopped after it. Dask is an optional extra: ``pip install 'csqa[dask]'``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from csqa.errors import InputError
from csqa.parallel import Item, Job, Outcome, audit_items


def _client(scheduler: str | None, jobs: int) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--engine dask 需要 Dask:pip install 'csqa[dask]'") from None
    if scheduler is None:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="15s"), None
    except (OSError, TimeoutError) as exc:
        raise InputError(f"无法连接 Dask 调度器 {scheduler}:{exc}") from None


def run_dask(work: Iterable[list[Item]], job: Job, scheduler: str | None, jobs: int
             ) -> Iterator[list[list[Outcome]]]:
    """Audit batches as Dask tasks; results come back in input order."""
    client, cluster = _client(scheduler, jobs)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})) or jobs)
        spec = client.scatter(job, broadcast=True)
        window: deque[Any] = deque()
        for batch in work:
            window.append(client.submit(audit_items, batch, spec, pure=False))
            if len(window) >= 4 * workers:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
