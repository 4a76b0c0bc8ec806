"""Drive /api/v1/docs in headless Chromium and report what happened, as JSON on stdout.

Run by ``test_docs_browser.py`` as a process of its own: the test process is eventlet-patched (Nameko
runs inside it), and Playwright's asyncio under eventlet hangs. This script imports nothing of the suite.

    python tests/e2e/docs_browser.py --base-url URL --token JWT --chromium PATH [--screenshot FILE]

Each step waits on a selector with a timeout (never a sleep). The report holds the step that failed (if
any) with its message, every URL the page requested, the console errors, and what the page showed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

TIMEOUT_MS = 15_000


def drive(base_url: str, token: str, chromium: str, screenshot: str | None) -> dict:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    report: dict = {
        "failed_step": None,
        "error": None,
        "requests": [],
        "console_errors": [],
        "failed_responses": [],
        "shown": {},
        "seconds": {},
    }
    started = time.monotonic()

    def mark(name: str) -> str:
        report["seconds"][name] = round(time.monotonic() - started, 2)
        return name

    # as root (containers, CI) Chromium refuses to start with its sandbox on
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        mark("playwright started")
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = browser.new_context().new_page()
        page.set_default_timeout(TIMEOUT_MS)
        mark("chromium launched")

        def on_response(response):
            if response.status >= 400:
                report["failed_responses"].append(f"{response.status} {response.request.method} {response.url}")

        def on_console(message):
            if message.type == "error":
                report["console_errors"].append(f"{message.text} at {message.location.get('url')}")

        page.on("request", lambda request: report["requests"].append(request.url))
        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda error: report["console_errors"].append(f"uncaught: {error}"))
        try:
            step = mark("open the docs page")
            page.goto(f"{base_url}/api/v1/docs", wait_until="domcontentloaded")

            step = mark("see POST /api/v1/tickets listed")
            create_ticket = page.locator("#operations-tickets-post_api_v1_tickets")
            expect(create_ticket).to_be_visible()
            expect(create_ticket.locator(".opblock-summary-method")).to_have_text("POST")
            expect(create_ticket.locator(".opblock-summary-path")).to_have_attribute("data-path", "/api/v1/tickets")
            report["shown"]["tickets_operations"] = page.locator("[id^=operations-tickets-]").count()

            step = mark("authorize with the bearer token")
            page.locator(".auth-wrapper button.authorize").click()
            dialog = page.locator(".dialog-ux .modal-ux")
            expect(dialog).to_be_visible()
            dialog.locator("section input").first.fill(token)
            dialog.locator("button.modal-btn.authorize").click()
            expect(dialog.locator("button.modal-btn.authorize")).to_be_hidden()  # becomes "Logout" once authorized
            dialog.locator("button.btn-done").click()
            expect(dialog).to_be_hidden()

            step = mark("try out GET /api/v1/auth/me")
            me = page.locator("#operations-auth-get_api_v1_auth_me")
            me.locator(".opblock-summary-control").click()
            me.locator("button.try-out__btn").click()
            with page.expect_response(lambda response: response.url.endswith("/api/v1/auth/me")) as answer:
                me.locator("button.execute").click()
            report["shown"]["me_http_status"] = answer.value.status
            live = me.locator(".live-responses-table tr.response")  # the header row is not a .response
            expect(live.locator("td.response-col_status")).to_have_text("200")
            report["shown"]["me_status"] = live.locator("td.response-col_status").inner_text()
            report["shown"]["me_body"] = live.locator("td.response-col_description").inner_text()
            report["shown"]["me_request_url"] = me.locator(".request-url pre").inner_text()
            mark("done")
            step = None
        except Exception as error:  # the report names the step; the test turns it into a failure
            report["failed_step"], report["error"] = step, f"{type(error).__name__}: {error}"
            if screenshot:
                page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--screenshot")
    options = parser.parse_args()
    report = drive(options.base_url.rstrip("/"), options.token, options.chromium, options.screenshot)
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
