"""Small helpers for browser tests (the fixtures are in conftest.py)."""

import time
from collections.abc import Callable

from playwright.sync_api import Page


def reload_until(
    page: Page, shows: Callable[[Page], bool], *, timeout: float = 8, every: float = 0.5
) -> float:
    """Reload ``page`` until ``shows(page)`` is true; return the seconds it took.

    For changes made in the background (the watcher, the worker) that the page
    only shows once it is loaded again.
    """
    started = time.monotonic()
    while not shows(page):
        waited = time.monotonic() - started
        assert waited < timeout, f"{page.url} did not show the change within {timeout} s"
        time.sleep(every)
        page.reload()
    return time.monotonic() - started
