"""Recorded OpenML API v1 (XML) answers, for the real ``openml`` client pointed at the replay.

Snapshot layout, under ``<snapshot>/openml/`` (the layout of OpenML's own caches, so a folder of
recorded responses such as ``../shared/realdata/openml/openml-r`` is a snapshot as it is)::

    flows/<id>/flow.xml            GET flow/{id}
    runs/<id>/run.xml              its evaluations answer evaluation/list; its uploader, user/list
    tasks/<id>/task.xml            GET task/{id}
    datasets/<id>/description.xml  GET data/{id}

List routes are built from those files, as the server builds them from its database:
``flow/list[/limit/N/offset/M]`` (by id), ``evaluation/list/function/F[/flow/1,2][/limit/N/offset/M]``
and ``user/list/user_id/1,2``. An empty list is OpenML's "no results" error (HTTP 412).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://openml.org/openml"
OML = {"oml": NS}
PREFIX = "/api/v1/xml/"
# OpenML's "no results" codes, by list route (the client turns them into OpenMLServerNoResult).
NO_RESULT_CODES = {"flow": 500, "evaluation": 542, "user": 500, "task": 482, "data": 111}


def _text(element: ET.Element, name: str) -> str:
    found = element.find(f"oml:{name}", OML)
    return (found.text or "").strip() if found is not None and found.text else ""


def _path_filters(parts: list[str]) -> dict[str, str]:
    """``limit/10/offset/20/flow/1,2`` -> {"limit": "10", "offset": "20", "flow": "1,2"}."""
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def error(code: int, message: str) -> str:
    return (f'<oml:error xmlns:oml="{NS}">\n  <oml:code>{code}</oml:code>\n'
            f"  <oml:message>{escape(message)}</oml:message>\n</oml:error>\n")


class OpenMLSnapshot:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.flows = {flow_id: self._parse(path, "flow") for flow_id, path in self._ids("flows", "flow.xml").items()}
        self.runs = {run_id: self._parse(path, "run") for run_id, path in self._ids("runs", "run.xml").items()}

    @staticmethod
    def _parse(path: Path, kind: str) -> ET.Element:
        """A recorded document; one that does not parse is still listed (by its id, as the server
        lists what its database holds) and served as recorded, for the client to fail on."""
        try:
            return ET.parse(path).getroot()
        except ET.ParseError:
            return ET.fromstring(f'<oml:{kind} xmlns:oml="{NS}"><oml:id>{int(path.parent.name)}</oml:id></oml:{kind}>')

    def _ids(self, kind: str, name: str) -> dict[int, Path]:
        folder = self.root / kind
        found = {int(p.parent.name): p for p in folder.glob(f"*/{name}")} if folder.is_dir() else {}
        return dict(sorted(found.items()))

    def _file(self, kind: str, item: str, name: str) -> str | None:
        path = self.root / kind / item / name
        return path.read_text(encoding="utf-8") if item.isdigit() and path.exists() else None

    def answer(self, path: str) -> tuple[int, str]:
        """(HTTP status, XML body) for an API path below ``/api/v1/xml/``."""
        parts = [p for p in path.removeprefix(PREFIX).split("/") if p]
        if not parts:
            return 404, error(0, "no route")
        route = parts[0]
        if route == "flow" and parts[1:2] == ["list"]:
            return self._flow_list(_path_filters(parts[2:]))
        if route == "evaluation" and parts[1:3] == ["list", "function"] and len(parts) > 3:
            return self._evaluation_list(parts[3], _path_filters(parts[4:]))
        if route == "user" and parts[1:3] == ["list", "user_id"] and len(parts) > 3:
            return self._user_list({int(i) for i in parts[3].split(",") if i.isdigit()})
        files = {"flow": ("flows", "flow.xml"), "task": ("tasks", "task.xml"), "data": ("datasets", "description.xml"),
                 "run": ("runs", "run.xml")}
        if route in files and len(parts) == 2:
            body = self._file(*files[route][:1], parts[1], files[route][1])
            if body is None:
                return 412, error({"flow": 181, "task": 151, "data": 111, "run": 220}[route], f"Unknown {route}")
            return 200, body
        return 404, error(0, f"no route for {path}")

    @staticmethod
    def _page(items: list, filters: dict[str, str]) -> list:
        offset = int(filters.get("offset", 0))
        limit = int(filters.get("limit", len(items)))
        return items[offset:offset + limit]

    def _flow_list(self, filters: dict[str, str]) -> tuple[int, str]:
        page = self._page(list(self.flows.items()), filters)
        if not page:
            return 412, error(NO_RESULT_CODES["flow"], "No results")
        rows = "".join(
            f"  <oml:flow>\n    <oml:id>{flow_id}</oml:id>\n"
            f"    <oml:full_name>{escape(_text(flow, 'name'))}({escape(_text(flow, 'version'))})</oml:full_name>\n"
            f"    <oml:name>{escape(_text(flow, 'name'))}</oml:name>\n    <oml:version>{escape(_text(flow, 'version'))}</oml:version>\n"
            f"    <oml:external_version>{escape(_text(flow, 'external_version'))}</oml:external_version>\n"
            f"    <oml:uploader>{escape(_text(flow, 'uploader'))}</oml:uploader>\n  </oml:flow>\n"
            for flow_id, flow in page)
        return 200, f'<oml:flows xmlns:oml="{NS}">\n{rows}</oml:flows>\n'

    def _evaluation_list(self, function: str, filters: dict[str, str]) -> tuple[int, str]:
        flows = {int(i) for i in filters["flow"].split(",")} if "flow" in filters else None
        rows = []
        for run_id, run in self.runs.items():
            flow_id = int(_text(run, "flow_id") or 0)
            if flows is not None and flow_id not in flows:
                continue
            dataset = run.find("oml:input_data/oml:dataset", OML)
            for evaluation in run.findall("oml:output_data/oml:evaluation", OML):
                if _text(evaluation, "name") != function or "fold" in evaluation.attrib:
                    continue  # per-fold values are not listed, only the run's aggregate
                rows.append(
                    f"  <oml:evaluation>\n    <oml:run_id>{run_id}</oml:run_id>\n    <oml:task_id>{_text(run, 'task_id')}</oml:task_id>\n"
                    f"    <oml:setup_id>{_text(run, 'setup_id')}</oml:setup_id>\n    <oml:flow_id>{flow_id}</oml:flow_id>\n"
                    f"    <oml:flow_name>{escape(_text(run, 'flow_name'))}</oml:flow_name>\n"
                    f"    <oml:data_id>{_text(dataset, 'did') if dataset is not None else ''}</oml:data_id>\n"
                    f"    <oml:data_name>{escape(_text(dataset, 'name')) if dataset is not None else ''}</oml:data_name>\n"
                    f"    <oml:function>{escape(function)}</oml:function>\n    <oml:upload_time>{_text(run, 'upload_time')}</oml:upload_time>\n"
                    f"    <oml:uploader>{_text(run, 'uploader')}</oml:uploader>\n"
                    + (f"    <oml:value>{_text(evaluation, 'value')}</oml:value>\n" if _text(evaluation, "value") else "")
                    + "  </oml:evaluation>\n")
        page = self._page(rows, filters)
        if not page:
            return 412, error(NO_RESULT_CODES["evaluation"], "No results")
        return 200, f'<oml:evaluations xmlns:oml="{NS}">\n{"".join(page)}</oml:evaluations>\n'

    def _user_list(self, user_ids: set[int]) -> tuple[int, str]:
        users = {}
        for run in self.runs.values():
            uploader = int(_text(run, "uploader") or 0)
            if uploader in user_ids:
                users[uploader] = _text(run, "uploader_name") or f"user {uploader}"
        if not users:
            return 412, error(NO_RESULT_CODES["user"], "No results")
        rows = "".join(f"  <oml:user>\n    <oml:id>{uid}</oml:id>\n    <oml:username>{escape(name)}</oml:username>\n  </oml:user>\n"
                       for uid, name in sorted(users.items()))
        return 200, f'<oml:users xmlns:oml="{NS}">\n{rows}</oml:users>\n'
