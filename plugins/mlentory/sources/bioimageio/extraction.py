"""BioImage Model Zoo extraction: the collection's index, then each new resource version's
description (``rdf.yaml``, read with the spec's own library) and documentation, into a new run
folder. Each public function is the body of one task of the ``ai4life_extraction`` DAG; the shared
scaffolding (run folder, merge, the stage's end) is ``pipeline.extraction``.

Incremental by the version's revision (its sha256 where the published index gives it; the version
and the artifact's last change in the live listing): a resource whose latest version was loaded
with that revision is neither fetched nor processed again, and a description once fetched is kept
by its revision across runs.

What a run keeps of a resource (``raw/resources.jsonl``): the index item's id, type, version,
sha256, revision, source URL and date; the description as the spec's library validated it, converted to the
latest format (0.4 and older descriptions are converted; one the library cannot convert is kept in
its own format with a warning; one it rejects in every format is an error with the library's
reasons); the documentation's text.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from mlentory import safe_yaml
from mlentory.http_retry import is_transient
from mlentory.outbound import RefusedURL
from mlentory.pipeline import extraction as scaffolding
from mlentory.pipeline.extraction import STAGE, failure
from mlentory.pipeline.quality import Progress
from mlentory.pipeline.run_folder import RunFolder, read_jsonl, write_jsonl
from mlentory.pipeline.state import ApiCache, LoadedRevisions, RejectedRecords, entry_digest
from mlentory.pools import ARXIV_POOL
from mlentory.sources.bioimageio import SOURCE as AI4LIFE
from mlentory.sources.bioimageio.client import MAX_DESCRIPTION_BYTES, BioImageIOClient, file_url

log = logging.getLogger(__name__)

HARVEST = "resources"
INDEX = "index"
MAX_DOCUMENTATION_CHARS = 100_000



def latest_version(item: dict[str, Any]) -> dict[str, Any] | None:
    """The newest version of an index item (by its creation date; the list order is not promised)."""
    versions = [v for v in item.get("versions") or [] if isinstance(v, dict) and v.get("source")]
    return max(versions, key=lambda v: str(v.get("created_at") or ""), default=None)


def resource_revision(record: dict[str, Any]) -> str | None:
    """What the incremental state compares: the version's revision (the sha256 of its ``rdf.yaml``
    where the index gives it; the version and the artifact's last change in the live listing)."""
    return record.get("revision") or record.get("sha256") or None


# The ids of the collection's resources: ``<workspace>/<alias>``, a partner's alias with its prefix
# (``bioimage-io/affable-shark``, ``bioimage-io/imjoy:vizarr``). Anything else is not a resource id.
RESOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}/(?:[A-Za-z0-9][\w.-]{0,63}:)?[A-Za-z0-9][\w.-]{0,127}$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def item_problem(item: Any) -> str | None:
    """Why an index item cannot be taken (None: it can): what a run reads of it must be sane before
    anything is keyed, fetched or cached by it."""
    if not isinstance(item, dict):
        return f"not a mapping but {type(item).__name__}"
    if not isinstance(item.get("id"), str) or not item["id"].strip():
        return "no resource id"
    if not RESOURCE_ID.match(item["id"]):
        return f"the id {ascii(item['id'][:80])} is not a resource id of the collection (<workspace>/<alias>)"
    if not isinstance(item.get("type"), str):
        return f"its type is {type(item.get('type')).__name__}, not text"
    version = latest_version(item)
    if version is None:
        return "no version with a source"
    if not isinstance(version.get("version"), str):
        return "its latest version has no version name"
    sha256 = version.get("sha256")
    if sha256 is not None and not (isinstance(sha256, str) and SHA256.match(sha256)):
        return "its latest version's sha256 is not a SHA-256 digest"
    return None


def item_key(item: Any) -> str:
    """How a rejected index item is remembered: its id where it is one, else a digest of the item."""
    if isinstance(item, dict) and isinstance(item.get("id"), str) and RESOURCE_ID.match(item["id"]):
        return item["id"]
    return "index item sha256:" + entry_digest(item)


def item_revision(item: Any) -> str:
    """An index item's own revision: a rejected item is taken again when it changes."""
    return "index:" + entry_digest(item)


def harvest_resources(run_folder: str, client: BioImageIOClient, num_resources: int, resource_ids: list[str] | None,
                      full_refresh: bool) -> int:
    """The ``num_resources`` newest models whose latest version was not loaded yet (loaded or not,
    with ``full_refresh``), the resources named by id, and the rest of the collection (datasets,
    applications, notebooks: what a model may name).

    An index item or a description rejected once (``item_problem``, a description that cannot be
    read or that the spec's library rejects, one whose bytes do not match the index's sha256) is
    remembered with its revision (``RejectedRecords``) and not taken again until it changes. In a
    targeted run (``resource_ids`` and no ``num_resources``), what goes wrong with a resource the run
    did not ask for is a warning: it does not fail the run."""
    run = RunFolder(Path(run_folder))
    items = client.index()
    loaded = {} if full_refresh else LoadedRevisions(run).load()
    remembered = RejectedRecords(run)
    earlier = {} if full_refresh else remembered.load()
    named = {str(i).strip() for i in resource_ids or [] if str(i).strip()}
    targeted = num_resources == 0 and bool(named)
    errors, warnings, candidates, indexed, seen = [], [], [], [], set()
    rejected: dict[str, tuple[str | None, str]] = {}

    def fail(key: str, row: dict[str, Any], revision: str | None, resource_id: str | None = None) -> None:
        """An error of the run, or where the run did not ask for the resource, a warning; remembered."""
        if targeted and resource_id not in named:
            warnings.append({**row, "reason": f"{row['reason']} (a resource this run did not ask for)"})
        else:
            errors.append(row)
        rejected[key] = (revision, row["reason"])

    for position, item in enumerate(items):
        key, problem = item_key(item), item_problem(item)
        if key in seen:
            warnings.append({"id": key, "input": f"index item {position}", "what": "index item", "reason": "listed again; the first entry kept"})
            continue
        if problem is not None:
            if entry := RejectedRecords.unchanged(earlier, key, item_revision(item)):
                warnings.append({**RejectedRecords.warning(key, entry, "index item"), "input": f"index item {position}"})
                continue
            usable = key if not key.startswith("index item ") else None
            fail(key, {**({"id": usable} if usable else {}), "input": f"index item {position}", "what": "index item", "reason": problem},
                 item_revision(item), usable)
            continue
        seen.add(item["id"])
        version = latest_version(item)
        indexed.append(item)
        if entry := RejectedRecords.unchanged(earlier, item["id"], version.get("revision")):
            warnings.append(RejectedRecords.warning(item["id"], entry, "description"))
            continue
        candidates.append((item, version))
    by_id = {item["id"]: (item, version) for item, version in candidates}
    warnings += [{"input": f"resource_ids: {ascii(i[:100])}", "what": "resource id", "reason": "not in the collection's index"}
                 for i in sorted(named - {item["id"] for item in indexed})]
    new = [(item, version) for item, version in candidates if item["type"] == "model" and loaded.get(item["id"]) != version.get("revision")]
    newest = sorted(new, key=lambda pair: str(pair[1].get("created_at") or ""), reverse=True)[:num_resources]
    # Every other resource of the collection (datasets, applications, notebooks), every run: their
    # descriptions come from the cache (a request only for a new version), and the models of this
    # run may name any of them, often by an id their own description gives (``ilastik/livecell_dataset``).
    others = [(item, version) for item, version in candidates if item["type"] != "model"]
    wanted = list({item["id"]: (item, version) for item, version in [*(by_id[i] for i in sorted(named & set(by_id))), *newest, *others]}.values())
    cache = ApiCache(run, "descriptions", ttl=None)  # by (id, version, revision): a version's description never changes
    records = []
    progress = Progress("descriptions", len(wanted))
    for item, version in wanted:
        row = {"id": item["id"], "what": "description"}
        try:
            records.append(resource_record(client, cache, item, version, warnings))
        except RefusedURL as exc:  # a server the collection's connection does not name: never asked
            warnings.append({**row, "reason": f"{ascii(str(version['source'])[:200])}: {exc}"})
        except Exception as exc:  # one unreadable description must not stop the others
            row["reason"] = failure(exc)
            if is_transient(exc):  # asked again by the next run
                (warnings if targeted and item["id"] not in named else errors).append({**row, "retry": True})
            else:
                fail(item["id"], row, version.get("revision"), item["id"])
        progress.advance(1)
    cache.save()
    remembered.add(STAGE, rejected)
    write_jsonl(scaffolding.raw_file(run, HARVEST), records)
    # The whole index, by id and type: a model may name a resource whose description could not be read.
    write_jsonl(scaffolding.raw_file(run, INDEX), ({"id": item["id"], "type": item["type"]} for item in indexed))
    run.write_errors(STAGE, HARVEST, errors)
    run.write_warnings(STAGE, HARVEST, warnings)
    log.info("%d resources indexed, %d new models; %d harvested (with %d other resources), %d errors, %d rejected; %d requests",
             len(items), len(new), len(records), len(others), len(errors), len(rejected), client.requests)
    return len(records)


class Rejected(ValueError):
    """The spec's library rejects the description in every format it knows."""


class DigestMismatch(Rejected):
    """The description fetched is not the one the index names (its sha256 differs)."""


def description_key(item: dict[str, Any], version: dict[str, Any]) -> str:
    """What a description is cached by: the resource, its version and the version's revision (the
    sha256 the index gives): never the digest alone, which several items may claim."""
    return f"{item['id']}@{version.get('version')}#{version.get('revision') or version['source']}"


def resource_record(client: BioImageIOClient, cache: ApiCache, item: dict[str, Any], version: dict[str, Any],
                    warnings: list[dict[str, Any]]) -> dict[str, Any]:
    revision, source = version.get("revision"), version["source"]
    key = description_key(item, version)
    fetched = cache.get(key)
    if fetched is None:
        body = client.description(source)
        expected = version.get("sha256")
        if expected and (actual := hashlib.sha256(body).hexdigest()) != expected.lower():
            raise DigestMismatch(f"the description fetched has sha256 {actual}, the index names {expected.lower()}")
        content = safe_yaml.load(body.decode("utf-8"), MAX_DESCRIPTION_BYTES, "rdf.yaml", yaml_1_2=True)  # the spec's format is YAML 1.2
        if not isinstance(content, dict):
            raise Rejected("the description is not a mapping")
        # Only a model's documentation is mapped (usage, limitations): the others' is not fetched.
        documentation = _documentation(client, source, content, item["id"], warnings) if item["type"] == "model" else None
        fetched = {"content": json.loads(json.dumps(content, default=str)), "documentation": documentation}
        cache.put(key, fetched)
    description, notes = validated(fetched["content"], source)
    warnings += [{"id": item["id"], "what": "description", "reason": note} for note in notes]
    return {
        "id": item["id"], "type": item["type"], "version": version.get("version"), "sha256": version.get("sha256"),
        "revision": revision, "source": source,
        "created_at": version.get("created_at"), "description": description, "documentation": fetched["documentation"],
    }


def _documentation(client: BioImageIOClient, source: str, content: dict[str, Any], resource_id: str,
                   warnings: list[dict[str, Any]]) -> str | None:
    """The documentation's text, when the description names a Markdown file (0.4: a path; 0.5: a file
    description with a ``source``)."""
    documentation = content.get("documentation")
    path = documentation.get("source") if isinstance(documentation, dict) else documentation
    if not isinstance(path, str) or not path.strip().lower().endswith(".md"):
        return None
    try:
        text = client.documentation(source, path.strip()).decode("utf-8", errors="replace")
    except Exception as exc:  # the model still loads, without its documentation
        warnings.append({"id": resource_id, "what": "documentation", "reason": f"{ascii(file_url(source, path)[:200])}: {failure(exc)}"})
        return None
    return text[:MAX_DOCUMENTATION_CHARS]


def validated(content: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """The description as the spec's library reads it, in the latest format; with notes on what it
    could only read in the description's own format, or had to repair. :class:`Rejected` with the
    library's reasons when it reads it in no format. No file is opened or downloaded (no I/O checks).

    Older descriptions (formats 0.2 and 0.3) go through the library's own converters, after the
    repairs those converters leave out (``older_format_repairs``). What the library still cannot
    read is left out, each a note, where the rest can then be read: a field no format has (0.3's
    ``timestamp`` of a weights entry), a weights entry of an unknown format or without the checksum
    of its architecture's file where other weights remain. The model's metadata is worth more than
    one entry. A model without a ``timestamp`` (required from format 0.4 on) is read with a stand-in
    that is removed again: no date is invented (the library's 0.5 format would take the harvest time)."""
    from bioimageio.spec import InvalidDescr, ValidationContext, build_description
    from pydantic import HttpUrl

    quiet_spec_library()
    root = HttpUrl(file_url(source, "./").split("?")[0])
    content, notes = with_json_infinities(content)
    content, repairs = older_format_repairs(content)
    notes += repairs
    if str(content.get("type")) == "collection":
        raise Rejected(f"a collection (format {content.get('format_version')}), not a resource: the spec's library reads no collections; "
                       "its entries are harvested where the index lists them")
    dated = bool(content.get("timestamp"))
    if not dated and content.get("type") == "model":
        content = {**content, "timestamp": STAND_IN_TIMESTAMP}
    for _ in range(MAX_LEFT_OUT):
        readings = []
        for format_version in ("latest", "discover"):
            with ValidationContext(perform_io_checks=False, root=root):
                description = build_description(content, format_version=format_version)
            if not isinstance(description, InvalidDescr):
                if format_version == "discover":
                    notes.append(f"not convertible to the latest format ({_reasons(readings[0])}); read in its own format "
                                 f"{content.get('format_version')}")
                dumped = description.model_dump(mode="json", exclude_none=True)
                if not dated:
                    dumped.pop("timestamp", None)
                return dumped, notes
            readings.append(description)
        left_out = _left_out(readings[-1], content)
        if left_out is None:
            break
        content, note = left_out
        notes.append(note)
    raise Rejected(_reasons(readings[0]))


MAX_LEFT_OUT = 6  # fields or weights entries left out before a description counts as unreadable
STAND_IN_TIMESTAMP = "2000-01-01T00:00:00Z"


def _left_out(description: Any, content: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The content without the first thing the library could not read and the rest may be read
    without: a field it does not know, or a weights entry where others remain; and the note.
    ``description``: the content read in its own format, so the paths of its complaints are the content's."""
    weights = content.get("weights")
    for error in description.validation_summary.errors:
        loc = [str(part) for part in error.loc]
        if len(loc) >= 2 and loc[0] == "weights" and isinstance(weights, dict) and loc[1] in weights and len(weights) > 1 \
                and not (len(loc) > 2 and "Extra inputs" in error.msg):
            kept = {name: entry for name, entry in weights.items() if name != loc[1]}
            return {**content, "weights": kept}, f"weights.{loc[1]} left out: {_reasons(description)}"
        if "Extra inputs are not permitted" in error.msg and (copy := _without(content, loc)) is not None:
            return copy, f"{'.'.join(loc)} left out: no format of the spec has it"
    return None


def _without(content: dict[str, Any], loc: list[str]) -> dict[str, Any] | None:
    """A copy of ``content`` without the value at ``loc``; None where there is none."""
    copy = json.loads(json.dumps(content, default=str))
    node: Any = copy
    for part in loc[:-1]:
        node = node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or loc[-1] not in node:
        return None
    del node[loc[-1]]
    return copy


# The weights formats the library reads (format 0.4 names; 0.3's ``pytorch_script`` is converted by it).
WEIGHTS_FORMATS = ("keras_hdf5", "onnx", "pytorch_state_dict", "pytorch_script", "tensorflow_js", "tensorflow_saved_model_bundle", "torchscript")


def older_format_repairs(content: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """What formats 0.2 and 0.3 wrote that the library's converters do not turn into format 0.4,
    repaired as the format's own documentation meant it (each repair is a note):
    - no ``type``: a description with ``weights`` and ``inputs``/``outputs`` is a model (0.3.1 and
      older had no ``type``; the library's converter sets it only on the way from 0.3.1);
    - a weights entry's ``parent`` written as the parent's file (0.3) names the format of the entry
      with that ``source``;
    - a citation's ``doi`` written as a link (``https://doi.org/10...``) is the DOI;
    - the weights of formats 0.2 and 0.3.0, a list of entries with ``framework: pytorch``, are the
      ``pytorch_state_dict`` weights (the entry with id ``default``, else the first);
    - a tensor's single pre- or postprocessing step written alone is a list of one."""
    content, notes = json.loads(json.dumps(content, default=str)), []
    weights = content.get("weights")
    if "type" not in content and isinstance(weights, (dict, list)) and (content.get("inputs") or content.get("outputs")):
        content["type"] = "model"
        notes.append(f"format {content.get('format_version')} description without a type: read as a model (it has weights, inputs and outputs)")
    if isinstance(weights, list) and str(content.get("framework")).lower() == "pytorch":
        entries = [entry for entry in weights if isinstance(entry, dict) and entry.get("source")]
        if entries:
            chosen = next((entry for entry in entries if entry.get("id") == "default"), entries[0])
            content["weights"] = weights = {"pytorch_state_dict": {k: v for k, v in chosen.items() if k in ("source", "sha256", "authors", "attachments")}}
            notes.append(f"weights: a list of {len(entries)} (format {content.get('format_version')}, framework pytorch) read as the "
                         f"pytorch_state_dict weights {ascii(str(chosen.get('id') or chosen['source'])[:80])}")
    if isinstance(weights, dict):
        sources = {entry.get("source"): name for name, entry in weights.items() if isinstance(entry, dict) and isinstance(entry.get("source"), str)}
        for name, entry in weights.items():
            parent = entry.get("parent") if isinstance(entry, dict) else None
            if isinstance(parent, str) and parent not in WEIGHTS_FORMATS:
                if parent in sources and sources[parent] != name:
                    entry["parent"] = sources[parent]
                    notes.append(f"weights.{name}.parent {ascii(parent[:120])} read as the weights it names ({sources[parent]})")
                else:
                    entry.pop("parent")
                    notes.append(f"weights.{name}.parent {ascii(parent[:120])} names no weights of the description: left out")
    for direction in ("inputs", "outputs"):
        for position, tensor in enumerate(content.get(direction) or []):
            for steps in ("preprocessing", "postprocessing"):
                if isinstance(tensor, dict) and isinstance(tensor.get(steps), dict):
                    tensor[steps] = [tensor[steps]]
                    notes.append(f"{direction}.{position}.{steps}: one step written alone, read as a list of one")
    for position, cited in enumerate(content.get("cite") or []):
        doi = cited.get("doi") if isinstance(cited, dict) else None
        if isinstance(doi, str) and (bare := re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.IGNORECASE)) != doi.strip():
            cited["doi"] = bare
            notes.append(f"cite.{position}.doi {ascii(doi[:120])} read as the DOI {ascii(bare[:120])}")
    return content, notes


def with_json_infinities(content: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """JSON has no infinity: a JSON copy of a description writes an unbounded ``data_range``
    (``[-.inf, .inf]`` in the YAML) as ``[null, null]``, which the library refuses. Such bounds are
    read as unbounded again, and said so."""
    content, notes = json.loads(json.dumps(content, default=str)), []  # a copy; YAML dates as text
    for direction in ("inputs", "outputs"):
        for position, tensor in enumerate(content.get(direction) or []):
            bounds = tensor.get("data_range") if isinstance(tensor, dict) else None
            if isinstance(bounds, list) and len(bounds) == 2 and None in bounds:
                tensor["data_range"] = [float("-inf") if bounds[0] is None else bounds[0], float("inf") if bounds[1] is None else bounds[1]]
                notes.append(f"{direction}[{position}].data_range {bounds} read as unbounded (JSON has no infinity)")
    return content, notes


@functools.cache
def quiet_spec_library() -> None:
    """The spec's library logs every normalization it makes at DEBUG through loguru: thousands of
    lines a run. Only its warnings are kept (set up once per process)."""
    from loguru import logger

    logger.remove()
    logger.add(lambda message: log.warning("bioimageio.spec: %s", message.record["message"]), level="WARNING")


def _reasons(description: Any) -> str:
    """The library's complaints, each with the field it is about: a complaint that quotes a whole
    validation error ("1 validation error for An invalid resource description\\n<field>\\n  <message>")
    is read for its field and message."""
    reasons = []
    for error in description.validation_summary.errors[:5]:
        where, message = ".".join(str(part) for part in error.loc), error.msg
        quoted = re.match(r"\d+ validation errors? for [^\n]*\n(\S[^\n]*)\n\s+([^\n]+)", message)
        if quoted:
            where, message = ".".join(p for p in (where, quoted.group(1)) if p), quoted.group(2)
        reasons.append(f"{where or 'description'}: {message[:160]}")
    return "; ".join(reasons)[:1000] or "invalid"


COLLECTION_FILE = "collection.jsonl"


def aliases(resource: dict[str, Any]) -> list[str]:
    """The ids a description may name a resource by: its id in the index (with and without the
    collection's ``bioimage-io/``; a partner's ``partner:name`` also as ``partner/name``), the id its own description gives (older ids such as
    ``ilastik/livecell_dataset`` live on there) and its nickname; case is not significant."""
    description = resource.get("description") or {}
    config = description.get("config") if isinstance(description.get("config"), dict) else {}
    bioimageio = config.get("bioimageio") if isinstance(config.get("bioimageio"), dict) else {}
    local = resource["id"].removeprefix("bioimage-io/")
    # A partner's resource (``bioimage-io/imjoy:vizarr``) is named ``imjoy/vizarr`` by older descriptions.
    names = [resource["id"], local, local.replace(":", "/", 1), description.get("id"), bioimageio.get("nickname")]
    return list(dict.fromkeys(n.strip().lower() for n in names if isinstance(n, str) and n.strip()))


def named_resources(description: dict[str, Any]) -> list[str]:
    """The ids of other resources a model's description names: its training data, its parent and
    its ``links`` (a link that is a web address names no resource of the collection)."""
    named = [part.get("id") for part in (description.get("training_data"), description.get("parent")) if isinstance(part, dict)]
    named += [link for link in description.get("links") or [] if isinstance(link, str) and "://" not in link]
    return list(dict.fromkeys(str(n).strip() for n in named if n and str(n).strip()))


def alias_table(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every alias of every resource -> its id in the collection and its type."""
    return {alias: {"id": r["id"], "type": r.get("type")} for r in resources for alias in aliases(r)}


def with_collection_ids(model: dict[str, Any], table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The model with the resources its description names that the collection has, by the name used."""
    named = named_resources(model.get("description") or {})
    return {**model, "collection_ids": {name: table[name.lower()] for name in named if name.lower() in table}}


def merge_resources(run_folder: str, full_refresh: bool) -> dict[str, int]:
    """The models to transform (``models.jsonl``, unchanged ones skipped), each with the resources
    it names resolved to the collection's ids (``collection_ids``: name -> id and type), and the rest
    of the collection (``collection.jsonl``: datasets are Datasets of their own; applications and
    notebooks are recorded where a model links to them)."""
    run = RunFolder(Path(run_folder))
    harvested = list(read_jsonl(scaffolding.raw_file(run, HARVEST)))
    others = [r for r in harvested if r.get("type") != "model"]
    table = alias_table([*read_jsonl(scaffolding.raw_file(run, INDEX)), *harvested])
    counts = scaffolding.merge_harvests(run_folder, (HARVEST,), resource_revision, full_refresh)
    models = [with_collection_ids(r, table) for r in read_jsonl(run.file(STAGE, scaffolding.MODELS_FILE)) if r.get("type") == "model"]
    write_jsonl(run.file(STAGE, scaffolding.MODELS_FILE), models)
    write_jsonl(run.file(STAGE, COLLECTION_FILE), others)
    return {**counts, "models": len(models), "collection": len(others)}


def identify_entities(run_folder: str, kind: str, arxiv_client: Any = None, partitions: list[int] | None = None) -> int:
    """The papers the descriptions cite are looked up on arXiv (as every source's are); the
    applications and notebooks the models link to are the collection's own records; the other
    entities need no lookup: the collection's datasets are harvested as resources, people,
    licences and keywords are what the descriptions say."""
    run = RunFolder(Path(run_folder))
    keys = scaffolding.mentioned_keys(AI4LIFE, run, kind, partitions)
    if kind == "articles":
        found = scaffolding.identify_articles(run, keys, arxiv_client)
    elif kind == "software":
        collection = {r["id"]: r for r in read_jsonl(run.file(STAGE, COLLECTION_FILE))}
        found = {key: software_summary(collection[key]) for key in keys if key in collection}
    elif kind == "languages":
        found = scaffolding.identify_languages(run, keys)
    else:
        found = {key: {"name": key} for key in keys}
    scaffolding.write_identified(run, kind, found, partitions)
    log.info("%s: %d identified", kind, len(found))
    return len(found)


def software_summary(resource: dict[str, Any]) -> dict[str, Any]:
    """What the record of an application or notebook is made of (``linking._software``)."""
    description = resource.get("description") or {}
    kept = ("name", "description", "version", "license", "git_repo", "source")
    return {"id": resource["id"], "type": resource.get("type"), "revision": resource_revision(resource), "source": resource.get("source"),
            "description": {k: description[k] for k in kept if isinstance(description.get(k), str | int | float)}}


def bioimageio_client() -> BioImageIOClient:
    from mlentory.sources.bioimageio.hook import BioImageIOHook

    return BioImageIOHook().get_conn()


def finish_extraction(run_folder: str, max_error_rate: float) -> dict[str, Any]:
    run = RunFolder(Path(run_folder))
    collection = [r.get("type") for r in read_jsonl(run.file(STAGE, COLLECTION_FILE))]
    counts = {"datasets": collection.count("dataset"), "applications and notebooks": len(collection) - collection.count("dataset")}
    return scaffolding.finish_extraction(run_folder, max_error_rate, record_parts=(HARVEST,), counts=counts)


def identify_entities_with_connections(run_folder: str, kind: str, partitions: list[int] | None = None) -> int:
    """``identify_entities`` with the arXiv client from its connection, for the papers."""
    from mlentory.enrichment.arxiv_papers import ArxivHook

    return identify_entities(run_folder, kind, ArxivHook().get_conn() if AI4LIFE.entity_kind(kind).pool == ARXIV_POOL else None,
                             partitions)
