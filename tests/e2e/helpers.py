"""Steps every browser test takes: log in, wait for a page, run queued tasks."""

from __future__ import annotations

from django.utils.module_loading import import_string
from django_q.models import OrmQ


def run_queued_tasks() -> list[str]:
    """What a qcluster would do, synchronously: run and remove every queued task."""
    ran = []
    for queued in OrmQ.objects.order_by("pk"):
        task = queued.task
        import_string(task["func"])(*task["args"], **task["kwargs"])
        ran.append(task["func"].rsplit(".", 1)[-1])
        queued.delete()
    return ran


def wait_for_text(browser, text: str, element_id: str | None = None, timeout: float = 15) -> str:
    """Wait for the next page (clicks navigate asynchronously) to show `text`."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(driver):
        element = (
            driver.find_element(By.ID, element_id) if element_id else driver.find_element(By.TAG_NAME, "body")
        )
        return element.text if text in element.text else False

    # WebDriverException: Chromium's "Node ... does not belong to the document"
    # while the page is being replaced; the next poll reads the new page.
    return WebDriverWait(
        browser,
        timeout,
        ignored_exceptions=(StaleElementReferenceException, NoSuchElementException, WebDriverException),
    ).until(found)


def admin_login(browser, base: str, *, username: str, password: str) -> None:
    """Log in to the admin and land on the operations dashboard: the password,
    then, where ADMIN_MFA_REQUIRED, the code of the user's authenticator app
    (tests/e2e/login.py)."""
    from django.conf import settings
    from selenium.webdriver.common.by import By

    from tests.e2e.login import log_in

    if settings.ADMIN_MFA_REQUIRED:
        log_in(browser, base, username, password)
    else:
        browser.get(f"{base}/admin/")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    wait_for_text(browser, "Operations", element_id="ops-dashboard")


def admin_action(browser, changelist_url: str, action: str, pks) -> None:
    """Tick rows of a changelist and run one of its actions."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(changelist_url)
    for pk in pks:
        browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value(action)
    browser.find_element(By.NAME, "index").click()
