"""A run's outputs put in place together or not at all: written into a fresh hidden folder beside `--out` and swapped
in for the previous run's folder only once every output is whole."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from smart_app.population.outputs import OutputNotWritten

# The file in a run's hidden folder naming the run that writes it (host, process, its start): see `_remove_dead_runs`.
OWNER_FILE = ".painplan-run"
# What a run writes in its folder (and its working folder): replaced by each run. Anything else in the folder (an
# `--export` download and its state, an analyst's notes) is not the run's and is carried into the new run's folder.
RUN_OUTPUTS = frozenset(
    {"patients.parquet", "patients.csv", "measures.parquet", "measures.csv", "data-quality.json", "letters", ".work",
     OWNER_FILE}
)  # fmt: skip
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _libc_renameat2() -> Callable[..., int] | None:
    """Linux's renameat2 (glibc 2.28+), which swaps two folders in one step; None where the system has none."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


_renameat2 = _libc_renameat2()


def exchange(new: Path, place: Path) -> None:
    """`new` put at `place` and the folder that was there at `new`, in one step where the system and file system can
    (RENAME_EXCHANGE: a reader never finds `place` missing), else by two renames, between which `place` is briefly
    absent (never half old, half new)."""
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(place), _RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # these say only "not on this file system"
            raise OSError(code, os.strerror(code), str(place))
    aside = place.with_name(f".{place.name}.previous-{os.getpid()}-{secrets.token_hex(3)}")
    os.rename(place, aside)
    try:
        os.rename(new, place)
    except OSError:
        os.rename(aside, place)
        raise
    os.rename(aside, new)


def _carried(place: Path) -> list[str]:
    """The entries of the previous run's folder that are not a run's outputs (nor a torn `.partial` of one)."""
    return sorted(name for name in os.listdir(place) if name not in RUN_OUTPUTS and not name.endswith(".partial"))


def _swap_in(new: Path, place: Path) -> None:
    """The whole new run put at `place`, with what the previous folder held that is not a run's output moved into
    it first; on a failure everything is moved back and `place` is left as it was."""
    if not place.exists():
        os.rename(new, place)
        return
    # The previous folder named as this run's too: swapped out (or set aside by the two renames) it is a hidden
    # folder a kill can leave, which the next run then proves dead and removes. Unnamed, it was kept for ever.
    marked = _mark(place)
    moved: list[str] = []
    try:
        for name in _carried(place):
            os.rename(place / name, new / name)
            moved.append(name)
        exchange(new, place)
    except OSError:
        for name in moved:
            with suppress(OSError):
                os.rename(new / name, place / name)
        if marked:
            with suppress(OSError):
                (place / OWNER_FILE).unlink()
        raise
    shutil.rmtree(new, ignore_errors=True)  # now the previous run's outputs alone


def _mark(folder: Path) -> bool:
    """`folder` named as this run's (OWNER_FILE); False where it cannot be (a read-only folder: then left unnamed)."""
    try:
        (folder / OWNER_FILE).write_text(json.dumps(_owner()), encoding="utf-8")
    except OSError:
        return False
    return True


def _started(pid: int) -> int | None:
    """When a process started (Linux: clock ticks after boot, /proc/PID/stat's 22nd field), to tell it from a later
    process given the same number; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _owner() -> dict[str, object]:
    """What names this run in its folder's OWNER_FILE."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _started(os.getpid())}


def _why_kept(folder: Path) -> str | None:
    """None when the run that wrote a hidden folder is proved gone: its OWNER_FILE names this host and a process that
    no longer runs, or a process of another start (its number reused). Else why it cannot be: a folder naming no run
    (an earlier version's, or one killed before it wrote the file), another host's run (a shared file system), or a
    process still running here."""
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        host, pid, started = owner["host"], owner["pid"], owner["started"]
    except FileNotFoundError:
        return NAMES_NO_RUN
    except (OSError, ValueError, TypeError, KeyError):
        return f"its {OWNER_FILE} cannot be read, so it cannot be proved dead; {BY_HAND}"
    if type(pid) is not int or pid <= 0:
        return f"its {OWNER_FILE} names no process, so it cannot be proved dead; {BY_HAND}"
    if host != socket.gethostname():
        return f"a run of process {pid} on {host}, another host, whose end this host cannot see; {BY_HAND}"
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another account
    except OSError:
        return f"whether process {pid} still runs cannot be told; {BY_HAND}"
    now = _started(pid)
    if started is not None and now is not None and now != started:
        return None
    return f"a run of process {pid} on this host, still going; left as it is"


# The hidden folders a run of `--out` makes beside it: the run's own (`.partial-`) and, on a file system with no
# exchange, the previous run's set aside between the two renames (`.previous-`). A `.partial-` holds the previous
# run's outputs after an exchange too.
_HIDDEN_KINDS = ("previous", "partial")
BY_HAND = "delete it by hand when no run of this --out is going"
NAMES_NO_RUN = (
    "names no run (one of an earlier version of PainPlan, or killed as it began), so it cannot be proved dead; "
    + BY_HAND
)
NOT_PUT_BACK = "which could not be put back into --out (it holds one of that name): move or delete it by hand"


def _remove_dead_runs(place: Path, note: Callable[[str], None] | None = None) -> None:
    """The hidden folders of earlier runs of this `--out` killed outright (kill -9, power loss), removed: only those
    proved dead (`_why_kept`), never a live concurrent run's. What they hold that is no run's output (the analyst's
    files a killed run had carried into its own folder) goes back into `place` first, and the previous run set aside
    by a run killed between its two renames goes back to `place` itself when `place` is missing. Every folder kept
    is named through `note`, with why (a data-safety warning: the caller prints it whatever --quiet says)."""
    with suppress(OSError):
        names = sorted(entry.name for entry in os.scandir(place.parent) if entry.is_dir(follow_symlinks=False))
        for kind in _HIDDEN_KINDS:  # the set-aside previous run first: it may be `place` itself
            for name in (n for n in names if n.startswith(f".{place.name}.{kind}-")):
                folder = place.parent / name
                why = _why_kept(folder)
                if why is None:
                    kept: list[str] = []
                    with suppress(OSError):  # one that cannot be cleared is left; the others are still cleared
                        kept = _clear_dead(folder, place, restore=kind == "previous")
                    if kept and note is not None:
                        note(f"kept: {folder}: a dead run's, holding {', '.join(kept)}, {NOT_PUT_BACK}")
                elif note is not None:
                    note(f"kept: {folder}: {why}")


def _clear_dead(folder: Path, place: Path, restore: bool) -> list[str]:
    """A dead run's hidden folder removed, after what it holds that is not a run's output is moved back into `place`
    (`restore`: the whole folder put back at a missing `place`). Kept when something of that cannot go back: those
    entries are returned."""
    if restore and not place.exists():
        os.rename(folder, place)
        (place / OWNER_FILE).unlink(missing_ok=True)  # in place: no longer a run's hidden folder
        return []
    left = []
    for name in _carried(folder):
        try:
            if place.is_dir() and not os.path.lexists(place / name):
                os.rename(folder / name, place / name)
                continue
        except OSError:
            pass
        left.append(name)
    if not left:  # never the analyst's files: a folder still holding one is kept
        shutil.rmtree(folder, ignore_errors=True)
    return left


def _begin(out: Path, place: Path, note: Callable[[str], None] | None = None) -> Path:
    """The fresh hidden folder beside `place` the run is written into, with the previous folder's permissions."""
    if place.parent.is_dir():
        _remove_dead_runs(place, note)  # first: a run killed between its two renames left `place` missing
    if place.exists() and not place.is_dir():
        raise OutputNotWritten(str(out), "not a folder")
    if place.is_dir() and os.path.ismount(place):
        # A mount point cannot be renamed: the run could be written but never put in its place.
        raise OutputNotWritten(
            str(out), "a mount point, which cannot be replaced by a run's folder: give a folder in it"
        )
    new = place.with_name(f".{place.name}.partial-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        place.parent.mkdir(parents=True, exist_ok=True)
        new.mkdir()
        (new / OWNER_FILE).write_text(json.dumps(_owner()), encoding="utf-8")
        if place.is_dir():
            os.chmod(new, place.stat().st_mode & 0o7777)
    except OSError as error:
        shutil.rmtree(new, ignore_errors=True)
        why = error.strerror or str(error)
        raise OutputNotWritten(str(out), f"its run's folder could not be made beside it ({why})") from error
    return new


class RunGoing(Exception):
    """Another run of the same `--out` is going: this one must not start (`who`: that run, named)."""

    def __init__(self, out: str, who: str) -> None:
        super().__init__(f"another run of {out} is going ({who})")
        self.out, self.who = out, who


# This process's locks of `--out`s, by lock file → its open file: a run that took the lock before its `--export`
# download takes it again for its folder (a second flock of its own would refuse it: a lock is the open file's, not
# the process's), and the inner block leaves it to the outer one.
_HELD: dict[Path, IO[str]] = {}


def _lock_path(place: Path) -> Path:
    """The lock beside `--out` (`runs/.2026q1.lock`): hidden, never a run's output nor a run's folder."""
    return place.with_name(f".{place.name}.lock")


@contextmanager
def only_run(out: Path) -> Iterator[None]:
    """The block run as the only run of `out` (on this host, and on others sharing the file system where it locks
    across hosts, as NFS v4 does): an exclusive lock on `.<name>.lock` beside it, naming this run while it goes,
    removed when the block ends; the system releases it when the process ends, killed or not (the file a killed run
    leaves is taken and removed by the next). Raises RunGoing, naming the run that holds it, when another run does;
    OutputNotWritten when the lock cannot be made. On a file system that takes no locks the run goes on unlocked,
    said on stderr: never silently unguarded."""
    place = out.resolve()
    lock = _lock_path(place)
    if lock in _HELD:  # `only_run` taken again inside itself: the outer block holds the lock, and releases it
        yield
        return
    handle = _HELD[lock] = _taken(out, lock)
    try:
        yield
    finally:
        del _HELD[lock]
        with suppress(OSError):
            lock.unlink()  # still held: a run opening it now finds it gone once it has the lock, and opens anew
        handle.close()  # releases the lock


def _taken(out: Path, lock: Path) -> IO[str]:
    """The lock file, open and locked by this run and naming it. A file removed by the run that held it between
    this run's opening it and locking it is no lock any more: opened again."""
    try:
        out.resolve().parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = open(lock, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole run
            try:
                if not _locked(handle, out, lock):
                    return handle
                if _same_file(handle, lock):
                    handle.truncate(0)
                    handle.write(json.dumps({**_owner(), "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}))
                    handle.flush()
                    return handle
            except BaseException:
                handle.close()
                raise
            handle.close()
    except OSError as error:
        why = error.strerror or str(error)
        raise OutputNotWritten(str(out), f"its lock {lock.name} could not be made beside it ({why})") from error


def _same_file(handle: IO[str], lock: Path) -> bool:
    """Whether the open lock file is still the one at `lock` (not removed, nor replaced, since it was opened)."""
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(lock))
    except FileNotFoundError:
        return False


def _locked(handle: IO[str], out: Path, lock: Path) -> bool:
    """Takes the exclusive lock on `handle` without waiting: True once held, False on a file system that takes no
    locks (said on stderr). Raises RunGoing naming the holder when another run holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        raise RunGoing(str(out), _holder(handle.read())) from None
    except OSError as error:
        if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise OutputNotWritten(str(out), f"its lock {lock.name} could not be taken ({error.strerror})") from error
        print(
            f"painplan population: not locked: {lock} ({error.strerror}): the file system takes no locks, so a "
            f"second run of {out} at the same time would not be stopped",
            file=sys.stderr,
            flush=True,
        )
        return False
    return True


def _holder(written: str) -> str:
    """The run a lock names, in words: "process 4242 on batch-7, since 2026-12-06T22:40:11Z"."""
    try:
        owner = json.loads(written)
        return f"process {int(owner['pid'])} on {owner['host']}, since {owner['since']}"
    except (ValueError, TypeError, KeyError):
        return "a run that has not yet named itself in the lock"


@contextmanager
def run_folder(out: Path, note: Callable[[str], None] | None = None) -> Iterator[Path]:
    """The folder to write a run's outputs in, as the only run of `out` (`only_run`). Once the block ends it is put
    at `out` whole (the previous run's outputs go, anything else in `out` stays); if the block fails, it is removed
    and `out` is left as it was. An output that could not be written is named under `out`, never under the hidden
    folder. `note` is told of the hidden folders beside `out` that are kept, and why."""
    with only_run(out):
        yield from _run_folder(out, note)


def _run_folder(out: Path, note: Callable[[str], None] | None) -> Iterator[Path]:
    """`run_folder` once the lock is held."""
    place = out.resolve()  # a link to a folder: the folder it names is replaced, the link kept
    new = _begin(out, place, note)
    try:
        yield new
        try:
            _swap_in(new, place)
        except OSError as error:
            raise OutputNotWritten(str(out), f"could not be put in place ({error.strerror or error})") from error
        with suppress(OSError):  # in place: no longer a run's hidden folder (a next run replaces it if left)
            (place / OWNER_FILE).unlink()
    except OutputNotWritten as error:
        shutil.rmtree(new, ignore_errors=True)
        raise OutputNotWritten(_named(error.name, new, out), error.why) from error
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def _named(name: str, new: Path, out: Path) -> str:
    """An output's path inside the hidden folder, as its place under `out`."""
    path = Path(name)
    return str(out / path.relative_to(new)) if path.is_relative_to(new) else name
