"""Reading, the first stage of every command: paths in, typed work items out.

Every front door (``audit``, ``check``, ``explain``, ``backtest``, the library) reads the same
way: :class:`ReadOptions` (input format, call records, speaker roles: the options every command
shares) say how; :func:`read` walks the paths and yields work items; and one
:class:`Preparation` (the call-records join, the default agent id, the speaker roles) makes each
loaded call ready to audit, the same in this process, in a worker process and on a Dask worker.

The work items:

- :class:`FileStart`: an input file begins (for the run's accounting);
- :class:`ReadyCall`: a loaded, prepared call (or an input problem in its place);
- :class:`RawLines`: raw JSON Lines that a worker parses and prepares;
- :class:`WorkerFile`: a file that a worker on this machine reads, parses and prepares whole.

Which loaders a worker may take over is declared in the loader table
(:class:`csqa.loaders.LoaderEntry`); whether this run lets it is :class:`Handover`: only when
preparing needs nothing of this process (no call records, whose join is counted here), and only
for files when the workers share this machine's disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from csqa.loaders import FileName, archive, discover_names, jsonl, load_file, loader_for
from csqa.loaders.common import read_guarded
from csqa.model import InputProblem, Transcript
from csqa.profile import Profile, load_profile
from csqa.records import CallRecords, load_records
from csqa.roles import RoleOptions, assign_roles


@dataclass
class ReadOptions:
    """How to read real exports: forced input format, speaker roles, call records (all
    optional). Every command takes these, from the same command-line options."""

    format: str | None = None
    agent_channel: int | None = None
    speakers: dict[str, str] = field(default_factory=dict)
    strict_roles: bool = False
    calls: str | Path | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    #: the profile file these settings came from (recorded in run.json; not read again)
    profile: str | Path | None = None
    #: the profile's ``db:``: the run-history database ``csqa audit`` appends its run to
    db: Path | None = None

    @classmethod
    def from_profile(cls, profile: Profile | str | Path, **overrides: Any) -> ReadOptions:
        """A profile file's settings, with ``overrides`` (not None) taking precedence."""
        p = profile if isinstance(profile, Profile) else load_profile(profile)
        opts = cls(format=p.format, agent_channel=p.agent_channel, speakers=dict(p.speakers),
                   strict_roles=p.strict_roles, calls=p.calls, column_map=dict(p.map),
                   profile=None if isinstance(profile, Profile) else profile, db=p.db)
        return opts.overridden(**overrides)

    def overridden(self, **overrides: Any) -> ReadOptions:
        """These options with every override that was given (not None, empty or False) in
        place of the setting: command-line options over a profile's or a run's."""
        opts = replace(self, speakers=dict(self.speakers), column_map=dict(self.column_map))
        for key, value in overrides.items():
            if value is not None and value != {} and value is not False:
                setattr(opts, key, value)
        return opts

    def record(self) -> dict[str, Any]:
        """These options as run.json's ``reading`` records them, so a later command
        (``backtest``, a report) can tell, and repeat, how the run read its inputs."""
        return {"input_format": self.format,
                "calls": None if self.calls is None else str(self.calls),
                "map": dict(self.column_map),
                "profile": None if self.profile is None else str(self.profile),
                "agent_channel": self.agent_channel, "speakers": dict(self.speakers),
                "strict_roles": self.strict_roles}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReadOptions:
        """The options a run recorded (:meth:`record`): the settings as they were used, the
        profile's included, so the profile file is not read again."""
        return cls(format=record.get("input_format"), agent_channel=record.get("agent_channel"),
                   speakers=dict(record.get("speakers") or {}),
                   strict_roles=bool(record.get("strict_roles")), calls=record.get("calls"),
                   column_map=dict(record.get("map") or {}), profile=record.get("profile"))

    def roles(self) -> RoleOptions:
        return RoleOptions(self.agent_channel, dict(self.speakers), self.strict_roles)

    def check(self) -> None:
        """Fail (InputError) on an unknown input format before anything is read."""
        if self.format:
            from csqa.loaders.formats import forced

            forced(self.format)

    def preparation(self) -> Preparation:
        """The prepare step these options ask for (reads the call-record file, if any)."""
        records = load_records(self.calls, self.column_map) if self.calls else None
        return Preparation(self.roles(), records)


#: The former name of :class:`ReadOptions` (kept for programs that use the library).
ExportOptions = ReadOptions


@dataclass
class Preparation:
    """The one step between loading a call and auditing it: join its call record, give it the
    default agent id, settle its speaker roles. Runs the same wherever calls are parsed."""

    roles: RoleOptions = field(default_factory=RoleOptions)
    #: joined here only: the join counts matched records, so it stays in the reading process
    records: CallRecords | None = None

    @property
    def portable(self) -> bool:
        """Whether a worker process may prepare calls itself (it holds no call records)."""
        return self.records is None

    def for_workers(self) -> Preparation:
        """This step as a worker runs it (only used when :attr:`portable`)."""
        return Preparation(self.roles)

    def __call__(self, items: Iterable[Transcript | InputProblem]
                 ) -> Iterator[Transcript | InputProblem]:
        records, one = self.records, self.one
        for item in items:
            if isinstance(item, InputProblem):
                yield item
                continue
            if records is not None:
                item, missing = records.join(item)
                if missing is not None:
                    yield missing
            yield one(item)

    def one(self, t: Transcript) -> Transcript | InputProblem:
        """One call given the default agent id and its speaker roles (after its call record,
        if any, was joined): all a worker does to a call it parsed."""
        if not t.agent_id:
            t.agent_id = "unknown"
        return assign_roles(t, self.roles)


# ---- work items --------------------------------------------------------------------------
# Each is rebuilt from its arguments when unpickled: a frozen slotted dataclass's default
# pickling restores its state attribute by attribute, a cost paid per item by the main process.

@dataclass(frozen=True, slots=True)
class FileStart:
    """Where the calls of the next input file begin (a work item, and an outcome)."""

    file: str

    def __reduce__(self) -> tuple[type[FileStart], tuple[str]]:
        return FileStart, (self.file,)


@dataclass(frozen=True, slots=True)
class ReadyCall:
    """A loaded and prepared call, or the input problem read in its place."""

    call: Transcript | InputProblem

    def __reduce__(self) -> tuple[type[ReadyCall], tuple[Transcript | InputProblem]]:
        return ReadyCall, (self.call,)


@dataclass(frozen=True, slots=True)
class RawLines:
    """Raw JSON Lines that the auditing worker parses and prepares."""

    chunk: jsonl.Lines

    def __reduce__(self) -> tuple[type[RawLines], tuple[jsonl.Lines]]:
        return RawLines, (self.chunk,)


@dataclass(frozen=True, slots=True)
class WorkerFile:
    """A file that the auditing worker (on this machine) reads, parses and prepares; its
    :class:`FileStart` comes from the worker too."""

    file: str

    def __reduce__(self) -> tuple[type[WorkerFile], tuple[str]]:
        return WorkerFile, (self.file,)


WorkItem = FileStart | ReadyCall | RawLines | WorkerFile


@dataclass(frozen=True)
class Handover:
    """What this run lets workers take over of the reading (see the module docstring)."""

    #: whole files by name (workers that see this machine's files)
    files: bool = False
    #: chunks of raw lines of this many lines (0: none)
    lines: int = 0

    @classmethod
    def none(cls) -> Handover:
        return cls()


def read_files(paths: Iterable[str | Path], options: ReadOptions) -> list[tuple[str, Any]]:
    """Every input file under ``paths`` with its loader entry (``None``: not a transcript
    type); InputError for a path that does not exist or an unknown format."""
    options.check()
    return list(discover_names([Path(p) for p in paths], options.format))


def read(files: list[tuple[str, Any]], prepare: Preparation, fmt: str | None = None,
         handover: Handover | None = None,
         on_file: Callable[[Path, int, int], None] | None = None) -> Iterator[WorkItem]:
    """The work items of ``files`` (from :func:`read_files`), in input order.

    ``on_file(path, done, total)`` is called before each file is read (for progress bars).
    """
    handover = handover or Handover.none()
    if not prepare.portable:
        handover = Handover.none()
    lines = handover.lines
    for done, (name, entry) in enumerate(files):
        if on_file is not None:
            on_file(Path(name), done, len(files))
        if handover.files and entry is not None and entry.whole is not None:
            yield WorkerFile(name)
            continue
        path = Path(name)
        yield FileStart(name)
        if lines and entry is not None and (entry.chunks is not None or entry.archive):
            loader = (partial(entry.chunks, size=lines) if entry.chunks is not None else
                      partial(archive.load, pick=partial(_lines_pick, fmt=fmt, size=lines)))
            for got in read_guarded(path, loader):
                if isinstance(got, jsonl.Lines):
                    yield RawLines(got)
                else:
                    for item in prepare((got,)):
                        yield ReadyCall(item)
            continue
        for item in prepare(load_file(path, entry)):
            yield ReadyCall(item)


def _lines_pick(member: Any, fmt: str | None, size: int) -> Any:
    """An archive member's loader when workers parse raw lines: chunks of raw lines where its
    loader entry offers them, else the entry itself."""
    entry = loader_for(member, fmt)
    if entry is not None and entry.chunks is not None:
        return partial(entry.chunks, size=size)
    return entry


def parse(item: RawLines | WorkerFile, prepare: Preparation
          ) -> list[FileStart | Transcript | InputProblem]:
    """What a worker makes of an item it takes over: the prepared calls and problems (after the
    file's :class:`FileStart` for a :class:`WorkerFile`)."""
    if isinstance(item, RawLines):
        loaded: list[Any] = list(item.chunk.load())
        head: list[FileStart | Transcript | InputProblem] = []
    else:
        entry = loader_for(FileName(item.file))
        assert entry is not None and entry.whole is not None
        loaded = entry.whole(item.file)
        head = [FileStart(item.file)]
    one = prepare.one
    head.extend(one(x) if isinstance(x, Transcript) else x for x in loaded)
    return head
