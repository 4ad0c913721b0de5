"""The console's browser: Debian's headless Chromium driven by Selenium through chromium-driver, one
for the whole module (the terminals and helpers are in ``console_browser``)."""

from __future__ import annotations

import shutil

import pytest
from console_browser import SCREENSHOTS


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium from Debian (``chromium``, ``chromium-driver``), one for the module."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (make venv)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no Chromium here: apt-get install chromium chromium-driver (make system-packages)")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1000,900", "--ignore-certificate-errors",  # the test CA of the HTTPS console
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--disable-extensions"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(10)  # a lookup right after a click waits for the page the click loads
    driver.downloads = downloads
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


