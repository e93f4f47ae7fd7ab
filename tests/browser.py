"""The Airflow UI in a real browser: Debian's Chromium, driven by Playwright's Python package (no
browser download), against a running api-server. Used by ``test_local_stack.py`` while the main
job's stack is up; ``save_screenshots`` also makes the README's pictures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root, without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ERROR_TEXTS = ("Something went wrong", "Internal Server Error", "Page Not Found", "Unexpected error")


def required_marks(dialog: Any) -> dict[str, bool]:
    """The trigger form's fields: label -> whether the form marks it required."""
    labels = dialog.locator("label.chakra-field__label").evaluate_all(
        "els => els.map(e => [e.textContent.replace('*', '').trim(), e.hasAttribute('data-required')])")
    return dict(labels)


def check_the_ui(base: str, password: str, screenshots: Path) -> dict[str, Any]:
    """Log in, open the Assets lineage graph, a finished loading run's grid and the trigger forms;
    fail on an error page, a failed API call, or a form that marks an optional param required.
    Saves a screenshot of each page in ``screenshots``; returns what it saw."""
    from playwright.sync_api import sync_playwright

    screenshots.mkdir(parents=True, exist_ok=True)
    token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": password}).json()["access_token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    finished = [r for r in api.get("/api/v2/dags/hf_loading/dagRuns", params={"limit": 100}).json()["dag_runs"] if r["state"] == "success"]
    assert finished, "no finished hf_loading run to look at"
    failures: list[str] = []
    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        logged_in = [False]

        def on_response(response: Any) -> None:
            path = response.url.removeprefix(base)
            if response.status >= 500 or (logged_in[0] and response.status >= 400 and path.startswith(("/api/", "/ui/"))):
                failures.append(f"{response.status} {path}")

        page.on("response", on_response)

        def settle(name: str) -> str:
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(screenshots / f"{name}.png"))
            text = page.locator("#root").inner_text()
            for error in ERROR_TEXTS:
                assert error not in text, f"{name}: the page shows {error!r}"
            return text

        # Log in.
        page.goto(f"{base}/")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/", timeout=30_000)
        logged_in[0] = True
        settle("home")
        # The Assets lineage graph: the three DAGs of the Hub around its normalized models.
        page.goto(f"{base}/assets")
        settle("assets")
        page.get_by_role("link", name="hf_models_normalized", exact=True).click()
        page.locator(".react-flow").first.wait_for(timeout=30_000)
        graph = settle("asset_lineage")
        flow = page.locator(".react-flow").first.inner_text()
        seen["lineage"] = [name for name in ("hf_extraction", "hf_transformation", "hf_loading", "hf_raw_models", "hf_models_loaded")
                           if name in flow]
        assert "hf_models_normalized" in graph
        # A finished run's grid and task instances.
        run_id = finished[0]["dag_run_id"]
        page.goto(f"{base}/dags/hf_loading/runs/{quote(run_id)}")
        run_page = settle("loading_run")
        seen["run"] = {"success": "Success" in run_page, "report_task": "hf_loading_report" in run_page}
        # The trigger forms: a param the DAG lets be empty is never marked required.
        seen["forms"] = {}
        for dag_id in ("hf_extraction", "hf_loading", "mlentory_housekeeping"):
            params = api.get(f"/api/v2/dags/{dag_id}/details").json()["params"]
            page.goto(f"{base}/dags/{dag_id}")
            settle(f"{dag_id}_dag")
            page.get_by_role("button", name="Trigger").first.click()
            dialog = page.get_by_role("dialog")
            dialog.wait_for()
            page.wait_for_timeout(1000)
            dialog.screenshot(path=str(screenshots / f"{dag_id}_trigger.png"))
            marks = required_marks(dialog)
            for name, param in params.items():
                types = param["schema"].get("type", [])
                optional = "null" in (types if isinstance(types, list) else [types])
                assert name in marks, f"{dag_id}: the trigger form has no field {name}: {sorted(marks)}"
                if optional:
                    assert not marks[name], f"{dag_id}: the trigger form marks the optional param {name} required"
            assert dialog.get_by_role("button", name="Trigger").is_enabled(), f"{dag_id}: the form as opened cannot be triggered"
            seen["forms"][dag_id] = {name: marks[name] for name in params}
            page.keyboard.press("Escape")
        browser.close()
    api.close()
    assert not failures, f"failed requests while browsing: {failures}"
    return seen


def check_the_stack_ui(local: Path, screenshots: Path) -> dict[str, Any]:
    """``check_the_ui`` against the main job's stack in ``local`` (its ports and admin password)."""
    ports = json.loads((local / "ports.json").read_text())
    password = (local / "secrets" / "airflow_admin_password").read_text().strip()
    return check_the_ui(f"http://127.0.0.1:{ports['airflow']}", password, screenshots)


if __name__ == "__main__":  # the README's screenshots, from the running main job's stack
    import sys

    root = Path(__file__).resolve().parents[1]
    print(json.dumps(check_the_stack_ui(root / ".local", Path(sys.argv[1]) if len(sys.argv) > 1 else root / "docs" / "screenshots"), indent=1))
