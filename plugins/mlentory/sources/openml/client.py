"""OpenML through its own client (``openml``), with the API's cost model kept in mind.

- flows (the models): ``flow/list`` pages of up to 10,000 rows (a few requests for all of OpenML's
  flows), then ``flow/{id}`` only for flows not seen before: a flow never changes once uploaded;
- evaluations: ``evaluation/list`` per measure and batch of flows, which gives run, task, dataset and
  value per row: never a page through all runs, never ``run/{id}`` per run;
- tasks and datasets: their descriptions only (never the data), for those the evaluations reference.

Every answer becomes a plain JSON record (the raw record kept in the run folder).
"""

from __future__ import annotations

import importlib
import logging
import types
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openml
import requests
from openml.exceptions import OpenMLServerNoResult

from mlentory import http_retry
from mlentory.http_retry import RETRYABLE_STATUS
from mlentory.numbers import as_float
from mlentory.outbound import Origins, origins_of
from mlentory.pipeline.budget import RequestBudget
from mlentory.settings import HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S

log = logging.getLogger(__name__)

OML = {"oml": "http://openml.org/openml"}
# OpenML's own servers: a request goes nowhere else (a description's URLs are data, never followed).
OPENML_ORIGINS = ("https://www.openml.org", "https://api.openml.org", "https://test.openml.org")
LIST_PAGE = 10_000  # OpenML's largest list page
FLOWS_PER_EVALUATION_REQUEST = 100  # flow ids in one evaluation/list path; the URL stays short


@dataclass(frozen=True)
class OpenMLSettings:
    server: str  # the API's base, e.g. https://www.openml.org/api/v1/xml
    api_key: str | None
    cache_dir: Path
    budget: RequestBudget | None = None  # every request waits for room in it (every task's, at once)
    connection: str = "openml_default"


def configure(settings: OpenMLSettings) -> None:
    """The ``openml`` client keeps its settings module-wide: set them before each use."""
    openml.config.server = settings.server
    openml.config.apikey = settings.api_key or ""
    openml.config.set_root_cache_directory(str(settings.cache_dir))
    # Its own retries cover dropped connections only, a few, quickly; rate limits and overload are
    # retried by ``with_retries`` (honouring Retry-After), and the task's retries come on top.
    openml.config.connection_n_retries = 3
    openml.config.retry_policy = "robot"
    _raise_rate_limits_as_http_errors()
    _spend_budget_before_requests(settings.budget, settings.connection)


# The budget of the client configured last, and the connection that named its server (the settings
# are module-wide too).
_budget: list[RequestBudget | None] = [None]
_connection: list[str] = ["openml_default"]


def allowed_origins() -> Origins:
    """Where the client may send requests: the server it is configured with (from the connection:
    named, so a mirror may be on loopback) and OpenML's own (public addresses only)."""
    return Origins(_connection[0], named=origins_of([openml.config.server]), known=origins_of(OPENML_ORIGINS))


def _spend_budget_before_requests(budget: RequestBudget | None, connection: str = "openml_default") -> None:
    """Each request the ``openml`` client sends is first checked against ``allowed_origins``
    (``outbound``), then waits for room in ``budget``. The client has no hook for this either: its
    one function that sends requests is wrapped, once."""
    _budget[0], _connection[0] = budget, connection
    api_calls = importlib.import_module("openml._api_calls")
    send = vars(api_calls).get("_send_request")
    if send is None or getattr(send, "_mlentory", False):
        if send is None:
            log.warning("openml %s has no _send_request: its requests are not counted in the budget", openml.__version__)
        return

    def send_request(*args: Any, **kwargs: Any) -> requests.Response:
        allowed_origins().check(kwargs.get("url", args[1] if len(args) > 1 else None))
        if _budget[0] is not None:
            _budget[0].acquire()
        return send(*args, **kwargs)

    send_request._mlentory = True  # type: ignore[attr-defined]
    api_calls._send_request = send_request
    # The function opens a ``requests.Session`` of its own, which follows redirects: it is given
    # ``requests`` with sessions that check every hop before it is sent.
    guarded = types.ModuleType("requests")
    guarded.__dict__.update(vars(requests))
    guarded.Session = _CheckedSession
    api_calls.requests = guarded


class _CheckedSession(requests.Session):
    """A session whose every request, each hop of a redirect too, goes only to the configured origins,
    and waits for an answer at most the timeouts every source call has (the client sets none: a
    server that never answers would hold the task until Airflow stops it)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        allowed_origins().check(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (HTTP_CONNECT_TIMEOUT_S, HTTP_READ_TIMEOUT_S)
        return super().send(request, **kwargs)


DATABASE_CONNECTION_ERROR = 107  # OpenML's "database connection error": the server is overloaded


def _raise_rate_limits_as_http_errors() -> None:
    """The client reads every non-200 answer as an OpenML error document: a 429 or 5xx from a proxy
    (a JSON or HTML body) would become an XML parse error, retried on the client's own schedule
    whatever ``Retry-After`` says. Such answers are raised as ``requests.HTTPError`` instead (which
    its HTTP layer passes through), for ``with_retries``. The client has no hook for this: its
    response check is wrapped, once."""
    api_calls = importlib.import_module("openml._api_calls")
    name = "__check_response"
    check = vars(api_calls).get(name)
    if check is None or getattr(check, "_mlentory", False):
        if check is None:
            log.warning("openml %s has no %s: rate limits are retried by the client's own schedule", openml.__version__, name)
        return

    def check_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code in RETRYABLE_STATUS:
            raise requests.HTTPError(f"{response.status_code} from {response.url}", response=response)
        check(response, *args, **kwargs)

    check_response._mlentory = True  # type: ignore[attr-defined]
    setattr(api_calls, name, check_response)


def is_transient(exc: BaseException) -> bool:
    return http_retry.is_transient(exc) or getattr(exc, "code", None) == DATABASE_CONNECTION_ERROR


retrying = http_retry.with_retries(attempts=5, initial_wait=1.0, max_wait=60.0)


def _find(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path, OML) if element is not None else None
    return found.text.strip() or None if found is not None and found.text else None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, OpenMLServerNoResult) or getattr(exc, "code", None) in (111, 151, 181, 220)


class OpenMLClient:
    def __init__(self, settings: OpenMLSettings) -> None:
        self.settings = settings
        configure(settings)

    @property
    def endpoint(self) -> str:
        return self.settings.server

    def flow_listing(self) -> Iterator[dict[str, Any]]:
        """Every flow's listing row (id, name, version, external version, uploader), page by page."""
        offset = 0
        while True:
            page = retrying(openml.flows.list_flows)(offset=offset, size=LIST_PAGE, output_format="dict")
            for flow_id in sorted(page):
                yield {key: (str(value) if key != "id" else int(value)) for key, value in page[flow_id].items() if value is not None}
            if len(page) < LIST_PAGE:
                return
            offset += LIST_PAGE

    def flow(self, flow_id: int) -> dict[str, Any]:
        """The flow's description as a plain record (components by their flow ids)."""
        return flow_record(retrying(openml.flows.get_flow)(flow_id))

    def evaluations(self, measure: str, flow_ids: list[int]) -> Iterator[dict[str, Any]]:
        """The run-level evaluations of ``measure`` for the flows, in batches of flows.

        The same requests as ``openml.evaluations.list_evaluations`` (the list, then the names of
        its uploaders), through the client's HTTP layer; but each row is read on its own: the
        client converts a whole page at once, so one row without a dataset or with a value such as
        "n/a" would cost every evaluation of the page. Such a row comes back as
        ``{"unreadable": reason, ...}`` and the others as they are."""
        from openml._api_calls import _perform_api_call

        for start in range(0, len(flow_ids), FLOWS_PER_EVALUATION_REQUEST):
            batch = ",".join(str(i) for i in flow_ids[start:start + FLOWS_PER_EVALUATION_REQUEST])
            offset = 0
            while True:
                try:
                    xml = retrying(_perform_api_call)(f"evaluation/list/function/{measure}/limit/{LIST_PAGE}/offset/{offset}/flow/{batch}", "get")
                except OpenMLServerNoResult:
                    break
                rows = ET.fromstring(xml).findall("oml:evaluation", OML)
                names = self._user_names({_find(row, "oml:uploader") for row in rows} - {None})
                for position, row in enumerate(rows, start=offset):
                    yield evaluation_row(row, position, names)
                if len(rows) < LIST_PAGE:
                    break
                offset += LIST_PAGE

    def user_names(self, user_ids: set[str]) -> dict[str, str]:
        """OpenML user id -> user name, in one request per call (``user/list``); unknown ids are left out."""
        return self._user_names(user_ids)

    def _user_names(self, user_ids: set[str]) -> dict[str, str]:
        from openml._api_calls import _perform_api_call

        numbered = sorted(u for u in user_ids if u.isdigit())
        if not numbered:
            return {}
        try:
            xml = retrying(_perform_api_call)("user/list/user_id/" + ",".join(numbered), "get")
        except OpenMLServerNoResult:
            return {}
        return {_find(user, "oml:id"): _find(user, "oml:username") for user in ET.fromstring(xml).findall("oml:user", OML)
                if _find(user, "oml:id") and _find(user, "oml:username")}

    def task(self, task_id: int) -> dict[str, Any]:
        """The task's description (type, dataset, target, estimation procedure), without its data.

        Read from ``task/{id}`` through the client's HTTP layer (its server, key and retries), not
        with ``get_task``: that also fetches the dataset's features, and its parser requires fields
        (``task_type_id``) that older tasks' descriptions lack."""
        from openml._api_calls import _perform_api_call

        root = ET.fromstring(retrying(_perform_api_call)(f"task/{task_id}", "get"))
        inputs = {element.get("name"): element for element in root.findall("oml:input", OML)}
        source = inputs.get("source_data")
        procedure = inputs.get("estimation_procedure")
        return {
            "id": int(_find(root, "oml:task_id") or task_id),
            "task_type": _find(root, "oml:task_type"),
            "dataset_id": int(_find(source, "oml:data_set/oml:data_set_id") or 0) or None,
            "target_name": _find(source, "oml:data_set/oml:target_feature"),
            "estimation_procedure": _find(procedure, "oml:estimation_procedure/oml:type"),
            "estimation_parameters": {p.get("name"): p.text.strip() for p in (procedure.findall("oml:estimation_procedure/oml:parameter", OML)
                                                                                 if procedure is not None else []) if p.text and p.text.strip()},
            "evaluation_measure": _find(inputs.get("evaluation_measures"), "oml:evaluation_measures/oml:evaluation_measure"),
        }

    def dataset(self, dataset_id: int) -> dict[str, Any]:
        """The dataset's description (``data/{id}``), without its data, features or qualities.

        Read through the client's HTTP layer rather than with ``get_dataset``, for the reason
        ``task`` gives: its parser fails a whole description over one odd field (a version that is
        no number), where the other fields are still worth having."""
        from openml._api_calls import _perform_api_call

        root = ET.fromstring(retrying(_perform_api_call)(f"data/{dataset_id}", "get"))

        def every(name: str) -> list[str]:
            return [text for element in root.findall(f"oml:{name}", OML) if (text := _text(element.text))]

        fields = ("name", "version", "description", "licence", "citation", "collection_date", "upload_date", "language",
                  "original_data_url", "paper_url", "status", "uploader")
        return {"id": _integer(_find(root, "oml:id")) or dataset_id, **{name: _find(root, f"oml:{name}") for name in fields},
                "creator": every("creator"), "contributor": every("contributor"), "tags": every("tag")}

def _integer(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def evaluation_row(row: ET.Element, position: int, user_names: dict[str, str]) -> dict[str, Any]:
    """One row of ``evaluation/list``. Ids are numbers and the value a finite number; a row whose
    run or flow cannot be told is unreadable, a missing task or dataset is left out, and a value
    that is no number is None (with the reason) rather than the whole row lost."""
    run_id, flow_id = _integer(_find(row, "oml:run_id")), _integer(_find(row, "oml:flow_id"))
    if run_id is None or flow_id is None:
        return {"unreadable": f"row {position}: no run or flow id", "run_id": _find(row, "oml:run_id")}
    value_text = _find(row, "oml:value")
    value, problem = as_float(value_text) if value_text is not None else (None, None)
    uploader = _find(row, "oml:uploader")
    return {
        "run_id": run_id, "flow_id": flow_id, "task_id": _integer(_find(row, "oml:task_id")),
        "setup_id": _integer(_find(row, "oml:setup_id")), "data_id": _integer(_find(row, "oml:data_id")),
        "data_name": _find(row, "oml:data_name"), "upload_time": _find(row, "oml:upload_time"),
        "uploader": _integer(uploader), "uploader_name": user_names.get(uploader or ""),
        "value": value, **({"value_problem": f"{problem}: {value_text[:40]!r}"} if problem else {}),
    }


def flow_record(flow: Any) -> dict[str, Any]:
    return {
        "id": int(flow.flow_id),
        "name": flow.name,
        "custom_name": flow.custom_name,
        "class_name": flow.class_name,
        "version": _text(flow.version),
        "external_version": flow.external_version,
        "description": flow.description,
        "upload_date": flow.upload_date,
        "uploader": _text(flow.uploader),
        "language": flow.language,
        "dependencies": flow.dependencies,
        "tags": list(flow.tags or []),
        "components": {name: int(component.flow_id) for name, component in (flow.components or {}).items() if component.flow_id},
        "parameters": sorted(flow.parameters or {}),
    }
