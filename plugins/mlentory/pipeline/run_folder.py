"""The run folder: the on-disk contract between the extraction, transformation and loading stages.

Only its path (and small counts) travel through XCom and Asset event extras; records stay on disk
as JSON Lines. Layout, for the source with key ``<key>`` (``hf``, ...)::

    <data_root>/<key>/
        inputs/        id files a run may name (``model_ids_file``)
        state/         loaded_revisions/<shard>.json (incremental runs), each with its count and lock
        cache/         cross-run API caches (<name>.json)
        runs/<YYYYmmddTHHMMSSffffffZ>_<id>/
            extraction/      raw/<harvest>.jsonl (or raw/<harvest>/<part>.jsonl: the Hub's listing, parsed by
                             several tasks from its pages, raw/latest/pages/), models.jsonl, skipped_unchanged.jsonl,
                             entities/<kind>.json (a partitioned kind's: entities/<kind>/<partition>.json),
                             the source's own files (the Hub: cards.jsonl), SUCCESS.json
            transformation/  plan.json, chunks/<chunk>.jsonl, partial/<group>/<chunk>.jsonl,
                             mentions/<partition>/<chunk>.json, links/<partition>.json,
                             links/chunks/<chunk>/<partition>.json, entities/<kind>/<IRI partition>.jsonld,
                             nodes/<IRI partition>/<chunk>.json, models/<chunk>.jsonld, SUCCESS.json
            loading/         superseded.json, history/<shard>/ and revisions/<shard>/ (the chunks' loads,
                             until the history tasks record them), report.json, SUCCESS.json
            claims/<stage>.json   a run took the folder for that stage (so it is not taken as waiting again)
            errors/<stage>__<part>.jsonl    records that failed, one file per task (parallel tasks never share a file)
            warnings/<stage>__<part>.jsonl  what failed without losing a record (a lookup, an unreadable field)
            errors.jsonl, warnings.jsonl    every error / warning of the run, written when loading finishes

``resolve_run_folders`` chooses the run folders a transformation or loading run works on (its param,
its triggering asset events, the folders still waiting), each checked before it is used.

An error or warning row names its subject with one of ``id`` (a source record), ``kind`` + ``key`` (an
entity a record mentions), ``iri`` (a graph node or index document) or ``input`` (a position in an input).
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec

from mlentory.errors import DataRootUnwritable, InvalidInput, PermanentFailure

log = logging.getLogger(__name__)


class RunFolderNotFound(PermanentFailure, LookupError):
    pass


def inside(root: Path, candidate: str | Path, what: str) -> Path:
    """``candidate`` (relative to ``root`` or absolute) resolved with symlinks followed; InvalidInput
    when it lies outside ``root``: a param or an asset event must not reach the rest of the worker."""
    root = root.resolve()
    try:
        path = (root / candidate).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a symlink loop
        raise InvalidInput(f"{what} cannot be resolved: {exc.__class__.__name__}") from None
    if path != root and root not in path.parents:
        raise InvalidInput(f"{what} must lie inside {root}; the path given lies outside it")
    return path


# A run folder's name starts with its creation time: ``20261124T200819684947Z_<id>``.
NAME_TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"
# The names ``RunFolder.create`` gives, and the only ones any stage takes.
RUN_FOLDER_NAME = re.compile(r"^[0-9]{8}T[0-9]{12}Z_[0-9a-f]{8}$")
# A reference to a run folder (a name, a path or a URI) from a param or an asset event: a name is 31
# characters; a path or URI carries the data root too, which a deployment may nest deeply, so the
# limit is a generous path length rather than a name's 255.
MAX_REFERENCE_CHARS = 1_024


def checked_reference(value: object, what: str = "run_folder") -> str:
    """``value`` as a run-folder reference safe to hand to the file system, or InvalidInput saying
    why not: a string of at most ``MAX_REFERENCE_CHARS`` characters, encodable as UTF-8, without NUL
    or other control characters, whose last part is a run folder's name. Nothing of the value but
    its length and a short, escaped start is ever put into the message (it may be hostile)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}")
    shown = ascii(value[:60]) + ("..." if len(value) > 60 else "")
    if len(value) > MAX_REFERENCE_CHARS:
        raise InvalidInput(f"{what} is {len(value):,} characters long, more than {MAX_REFERENCE_CHARS:,}: {shown}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not encodable as UTF-8 (a lone surrogate): {shown}") from None
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise InvalidInput(f"{what} holds a NUL or another control character: {shown}")
    if not RUN_FOLDER_NAME.match(value.rstrip("/").rsplit("/", 1)[-1]):
        raise InvalidInput(f"{what} does not end in a run folder's name (<UTC time>_<8 hex digits>): {shown}")
    return value


def created_at(folder: Path) -> datetime | None:
    """The creation time a run folder's name starts with; None for another name."""
    try:
        return datetime.strptime(folder.name.split("_")[0], NAME_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def runs_dir(data_root: str | Path, source: str) -> Path:
    return Path(data_root) / source / "runs"


# What the file system answers when the data root cannot take a write.
UNWRITABLE = {errno.ENOSPC: "the data root is full", errno.EDQUOT: "the data root's quota is exhausted",
              errno.EROFS: "the data root is read-only", errno.EACCES: "the data root is not writable for this worker",
              errno.EPERM: "the data root is not writable for this worker", errno.EFBIG: "the file is larger than allowed"}


def unwritable(exc: OSError, path: Path) -> DataRootUnwritable:
    """A clear error for a write the data root refused (``exc.errno`` in UNWRITABLE)."""
    return DataRootUnwritable(exc.errno, f"cannot write {path}: {UNWRITABLE.get(exc.errno or 0, 'refused')} ({exc.strerror})")


@contextmanager
def _atomic(path: Path) -> Iterator[IO[str]]:
    """A temporary file beside ``path`` that replaces it when the block ends, and is removed when the
    block fails (a full disk must not fill up with debris, nor leave half a file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp")
    except OSError as exc:
        if exc.errno in UNWRITABLE:
            raise unwritable(exc, path) from exc
        raise
    try:
        with tmp:
            yield tmp
        os.replace(tmp.name, path)
    except BaseException as exc:
        Path(tmp.name).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, DataRootUnwritable) and exc.errno in UNWRITABLE:
            raise unwritable(exc, path) from exc
        raise


# msgspec encodes and decodes JSON several times faster than the standard library, which dominates
# a stage that moves cards and records through its files. What msgspec refuses (keys that are not
# strings, from YAML front matter) goes through the standard library; both write sorted keys.
_ENCODER = msgspec.json.Encoder(order="sorted", enc_hook=str)
_DECODER = msgspec.json.Decoder()


def dumps(value: Any) -> str:
    """One JSON document on one line, keys sorted; what JSON has no type for (a date) as text."""
    try:
        return _ENCODER.encode(value).decode("utf-8")
    except (TypeError, OverflowError):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def loads(text: str | bytes) -> Any:
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)  # e.g. NaN, which the standard library writes and msgspec refuses


def write_json(path: Path, value: Any) -> None:
    """Atomic write: a reader never sees half a file, a retried task never appends twice."""
    with _atomic(path) as tmp:
        tmp.write(msgspec.json.format(dumps(value), indent=2))


def write_text(path: Path, text: str) -> None:
    """Atomic write of a text file as it is (a page as the source sent it)."""
    with _atomic(path) as tmp:
        tmp.write(text)


def read_json(path: Path, default: Any = None) -> Any:
    if not path.exists():
        return default
    return loads(path.read_bytes())


class JsonlWriter:
    """Lines of one JSON document each, to a file that replaces ``path`` atomically when the
    ``jsonl_writer`` block ends without an error."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        self.handle.write(dumps(record))
        self.handle.write("\n")
        self.count += 1

    def write_line(self, line: bytes) -> None:
        """A document already encoded (a line read from another file), as it is."""
        self.handle.write(line.decode("utf-8"))
        self.handle.write("\n")
        self.count += 1


@contextmanager
def jsonl_writer(path: Path) -> Iterator[JsonlWriter]:
    with _atomic(path) as tmp:
        yield JsonlWriter(tmp)


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """Atomically replace ``path`` with one JSON document per line; returns the count."""
    with jsonl_writer(path) as writer:
        for record in records:
            writer.write(record)
    return writer.count


def write_chunks(lines: Iterable[str | bytes], chunk_path: Callable[[int], Path], chunk_size: int) -> tuple[int, int]:
    """``lines`` (JSON documents, one a line, without the newline) into chunk files of
    ``chunk_size`` lines, ``chunk_path(0)``, ``chunk_path(1)``, ..., streamed (a chunk is never held
    whole); at least one, though empty. Returns (chunks, lines)."""
    chunks, total, lines = 0, 0, iter(lines)
    while True:
        path = chunk_path(chunks)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            written = 0
            for line in itertools.islice(lines, chunk_size):
                handle.write(line.encode() if isinstance(line, str) else line)
                handle.write(b"\n")
                written += 1
        if not written and chunks:
            path.unlink()
            break
        chunks, total = chunks + 1, total + written
        if written < chunk_size:
            break
    return chunks, total


def jsonl_lines(path: Path) -> Iterator[bytes]:
    """The JSON documents of a JSON Lines file as they are (bytes, without the newline), not decoded."""
    if path.exists():
        with path.open("rb") as handle:
            for line in handle:
                if stripped := line.strip():
                    yield stripped


def read_fields(line: bytes, decoder: msgspec.json.Decoder[Any]) -> dict[str, Any] | None:
    """Only the fields of ``decoder``'s struct, decoded from one JSON line (the rest skipped, not
    built), as plain values; None where msgspec cannot read the line (a NaN, a field of another type):
    the caller decodes it whole (``loads``)."""
    try:
        fields: dict[str, Any] = msgspec.to_builtins(decoder.decode(line))
    except msgspec.DecodeError:
        return None
    return fields


def count_jsonl(path: Path) -> int:
    """How many documents a JSON Lines file holds (0: no file), none of them decoded."""
    return sum(1 for _ in jsonl_lines(path))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    for line in jsonl_lines(path):
        yield loads(line)


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, data_root: str | Path, source: str) -> RunFolder:
        # Microseconds: names sort in creation order, which is how several run folders loaded
        # together are ordered (the newer one wins).
        stamp = datetime.now(UTC).strftime(NAME_TIME_FORMAT)
        path = runs_dir(data_root, source) / f"{stamp}_{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            if exc.errno in UNWRITABLE:
                raise unwritable(exc, path) from exc
            raise
        return cls(path)

    @classmethod
    def resolve(cls, given: object, data_root: str | Path, source: str, after_stage: str) -> RunFolder:
        """The run folder a stage should work on: the one given (any value but None or empty is
        checked, ``checked_reference``), else the newest finished ``after_stage``."""
        if given not in (None, ""):
            # A name or a path, from a param or an asset event's extra: only a run folder of this
            # source under the data root is accepted, whatever holds a SUCCESS.json elsewhere, and
            # never one reached through a symlink (which could lead to another source's folder).
            given = checked_reference(given)
            runs = runs_dir(data_root, source)
            path = inside(runs, given, "run_folder")
            if path.parent != runs.resolve() or not path.is_dir():
                raise RunFolderNotFound(f"run_folder {path.name!r} is not a run folder of {runs}")
            if path.name != Path(given.rstrip("/")).name or not RUN_FOLDER_NAME.match(path.name) or path.is_symlink():
                raise InvalidInput(f"run_folder {ascii(given[-80:])} is reached through a symlink, which no stage follows")
            folder = cls(path)
            if not folder.is_done(after_stage):
                raise RunFolderNotFound(f"{path} has no finished {after_stage} stage")
            return folder
        for folder in reversed(cls.every(data_root, source)):
            if folder.is_done(after_stage):
                return folder
        raise RunFolderNotFound(f"no run folder under {runs_dir(data_root, source)} has finished {after_stage}")

    @classmethod
    def every(cls, data_root: str | Path, source: str) -> list[RunFolder]:
        """The source's run folders, oldest first: the directories under ``runs/`` named as
        ``create`` names them, never a symlink (whatever it leads to) nor anything else put there."""
        runs = runs_dir(data_root, source)
        if not runs.is_dir():
            return []
        root = runs.resolve()
        return [cls(root / path.name) for path in sorted(runs.iterdir())
                if RUN_FOLDER_NAME.match(path.name) and not path.is_symlink() and path.is_dir()]

    def stage_dir(self, stage: str) -> Path:
        return self.path / stage

    def file(self, stage: str, *parts: str) -> Path:
        return self.stage_dir(stage).joinpath(*parts)

    def mark_done(self, stage: str, summary: dict[str, Any]) -> None:
        write_json(self.file(stage, "SUCCESS.json"), {"finished_at": datetime.now(UTC).isoformat(), **summary})

    def is_done(self, stage: str) -> bool:
        return self.file(stage, "SUCCESS.json").exists()

    def claim(self, stage: str, by: str) -> None:
        """Note that a run took this folder for ``stage`` (kept outside the stage's folder, which a
        retry clears): a folder a run took is never again taken as waiting."""
        write_json(self.path / "claims" / f"{stage}.json", {"claimed_at": datetime.now(UTC).isoformat(), "by": by})

    def is_claimed(self, stage: str) -> bool:
        return (self.path / "claims" / f"{stage}.json").exists()

    @classmethod
    def waiting(cls, data_root: str | Path, source: str, after_stage: str, stage: str) -> list[RunFolder]:
        """Run folders whose ``after_stage`` finished and that no run has taken for ``stage`` yet
        (their asset event fell outside a run's event window, or came while the DAG was paused)."""
        return [f for f in cls.every(data_root, source) if f.is_done(after_stage) and not f.is_done(stage) and not f.is_claimed(stage)]

    def clear_stage(self, stage: str) -> None:
        """Remove what an earlier run of ``stage`` wrote here (its folder, errors and warnings), so
        that a stage run again on this folder starts from nothing and leaves no stale file."""
        shutil.rmtree(self.stage_dir(stage), ignore_errors=True)
        for kind in ("errors", "warnings"):
            for path in (self.path / kind).glob(f"{stage}__*.jsonl"):
                path.unlink(missing_ok=True)

    # Errors -------------------------------------------------------------------------------------
    def error_file(self, stage: str, part: str) -> Path:
        return self.path / "errors" / f"{stage}__{part}.jsonl"

    def write_errors(self, stage: str, part: str, errors: list[dict[str, Any]]) -> None:
        """Replace this task's error file (a retried task starts from a clean list)."""
        write_jsonl(self.error_file(stage, part), ({"stage": stage, "part": part, **e} for e in errors))

    def errors(self, stage: str | None = None) -> list[dict[str, Any]]:
        pattern = f"{stage}__*.jsonl" if stage else "*.jsonl"
        return [e for path in sorted((self.path / "errors").glob(pattern)) for e in read_jsonl(path)]

    def write_warnings(self, stage: str, part: str, warnings: list[dict[str, Any]]) -> None:
        """Replace this task's warning file: what went wrong without losing a record (a failed lookup)."""
        path = self.path / "warnings" / f"{stage}__{part}.jsonl"
        write_jsonl(path, ({"stage": stage, "part": part, **w} for w in warnings))

    def warnings(self) -> list[dict[str, Any]]:
        return [w for path in sorted((self.path / "warnings").glob("*.jsonl")) for w in read_jsonl(path)]


def resolve_run_folders(params: dict[str, Any] | None, triggering_asset_events: Any, asset: Any, source: str,
                        after_stage: str, stage: str, run_id: str = "") -> list[str]:
    """The run folders a ``stage`` run works on, oldest first, each claimed for it.

    - the ``run_folder`` param: that folder alone (also to redo a stage);
    - else every run folder the triggering asset events (of ``asset``) name, and every folder still
      waiting for this stage (its event fell outside the window Airflow gave a run, or came while the
      DAG was paused): none is dropped. Folders this stage already finished are not done twice;
    - else (a manual run with nothing waiting) the newest folder whose ``after_stage`` finished.
    """
    from mlentory.pipeline import storage

    root = storage.data_root()
    given = (params or {}).get("run_folder")
    if given not in (None, ""):  # refused at once, not after retries: the same param fails every try
        folder = RunFolder.resolve(storage.to_local(given), root, source, after_stage)
        folder.claim(stage, run_id)
        return [str(folder.path)]
    try:
        events = list(triggering_asset_events[asset]) if triggering_asset_events else []
    except KeyError:
        events = []
    folders: dict[Path, RunFolder] = {}
    named = 0
    for position, event in enumerate(events):
        extra = event.extra if isinstance(event.extra, dict) else {}
        if extra.get("run_folder") in (None, ""):
            continue
        named += 1
        # An event anyone with API access could write: a bad one is refused alone, the others go on.
        try:
            folder = RunFolder.resolve(storage.to_local(extra["run_folder"]), root, source, after_stage)
        except (PermanentFailure, OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            log.error("asset event %d of %s (%s) names a run folder that is refused: %s", position + 1, asset.name,
                      getattr(event, "source_dag_id", None) or "REST API", exc)
            continue
        if folder.is_done(stage):
            log.info("%s: %s already finished by an earlier run", folder.name, stage)
        else:
            folders[folder.path] = folder
    for folder in RunFolder.waiting(root, source, after_stage, stage):
        folders.setdefault(folder.path, folder)
    if not folders and not events:
        newest = RunFolder.resolve(None, root, source, after_stage)
        folders[newest.path] = newest
    if not folders and named:
        log.warning("none of the %d run folders the asset events of %s name needs %s", named, asset.name, stage)
    chosen = sorted(folders.values(), key=lambda folder: folder.name)  # names start with the creation time
    for folder in chosen:
        folder.claim(stage, run_id)
    log.info("%s of %d run folders: %s", stage, len(chosen), ", ".join(folder.name for folder in chosen))
    return [str(folder.path) for folder in chosen]
