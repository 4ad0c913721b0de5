"""What the console's browser tests share: a real ``fmd-terminal run`` child process serving the
console on loopback, with a real SQLite outbox and the real simulator (REST over mutual TLS), and
screenshots of each page in ``build/console-screenshots/`` (review artefacts, not golden files).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from two_protocols import service_config

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "build" / "console-screenshots"
PASSWORD = "pharmacie-du-port"
SECRET = "demo-secret"  # the simulator's demo account's


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningTerminal:
    """``fmd-terminal run`` reading scans from its standard input, with the console on loopback."""

    def __init__(self, tmp_path: Path, sim, *, session_minutes: float = 15, tls: tuple[str, str] | None = None,
                 cert: tuple[str, str] | None = None, enrolment_dir: str = "", enrolled: bool = True,
                 settings: str = ""):
        """``cert``: the terminal's client certificate and key (default: the simulator's, a year);
        ``enrolment_dir``: where enrolment writes (and the account's dates are read); ``enrolled=False``:
        no service and no login yet, the terminal starts on its enrolment screen; ``settings``: more
        top-level lines of the configuration (``role = "pui_dock"``)."""
        self.dir = tmp_path
        self.port = free_port()
        self.state_dir = tmp_path / "console"
        self.outbox = tmp_path / "outbox.db"
        tls_lines = f'certificate = "{tls[0]}"\nkey = "{tls[1]}"\n' if tls else ""
        self.config = tmp_path / "etc" / "terminal.toml"  # the installer's, in its own folder as deployed
        self.config.parent.mkdir()
        self.state = tmp_path / "state"  # the unit's StateDirectory= (0700): the console's settings file
        self.state.mkdir(mode=0o700)
        self.enrolled = enrolled
        top = (f'enrolment_dir = "{tmp_path / enrolment_dir}"\n' if enrolment_dir else "") + settings  # relative
        self.config.write_text(
            "# the console's browser tests (the settings page keeps this comment)\n"
            'lang = "fr"\n' + top + (service_config(sim, "rest", cert) if enrolled else "") +
            "[sync]\nstart_jitter_s = 0\nprobe_gap_s = 0.01\nbreaker_open_s = 0.2\nbreaker_open_cap_s = 0.5\n"
            "backoff_base_s = 0.1\nquiet_s = 0\n"
            f'[console]\nlisten = "127.0.0.1:{self.port}"\nstate_dir = "{self.state_dir}"\n'
            f"session_minutes = {session_minutes}\n{tls_lines}", encoding="utf-8")
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.screen = tmp_path / "screen.txt"  # the console screen's blocks, as the terminal draws them
        self.start()

    def start(self) -> None:
        """``fmd-terminal run --config`` (language and mode from the file, as a deployed terminal runs)."""
        tmp_path = self.dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("FMD_")}
        env["PYTHONUNBUFFERED"] = "1"
        env["STATE_DIRECTORY"] = str(self.state)  # as systemd sets it from the unit's StateDirectory=
        if self.enrolled:
            env.update({"FMD_CLIENT_ID": "pharmacy-demo", "FMD_CLIENT_SECRET": SECRET})
        self.log = (tmp_path / "terminal.log").open("a")
        self.screen_out = self.screen.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fmd_terminal", "-v", "run", "--config", str(self.config), "--scanner", "stdin://",
             "--screen", "console://?color=0", "--indicators", "recording://", "--outbox",
             f"sqlite://{self.outbox}"],
            stdin=subprocess.PIPE, stdout=self.screen_out, stderr=self.log, text=True, env=env)
        deadline = time.monotonic() + 30
        while not (self.state_dir / "setup-code").exists() and not (self.state_dir / "admin-password").exists():
            assert self.proc.poll() is None, (tmp_path / "terminal.log").read_text()
            assert time.monotonic() < deadline, "the console did not start"
            time.sleep(0.05)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert self.proc.poll() is None, (tmp_path / "terminal.log").read_text()
                assert time.monotonic() < deadline, "the console does not listen"
                time.sleep(0.05)

    def restart(self) -> None:
        """Stop the terminal (its input ends) and start it again from its configuration file."""
        self.stop()
        self.start()

    def scan(self, raw: str) -> None:
        self.proc.stdin.write(raw + "\n")  # a pipe: the group separator travels as it is
        self.proc.stdin.flush()

    def load(self, **overrides):
        """The configuration as ``run`` reads it here: the file, then the settings file, then ``overrides``."""
        from fmd_terminal import config

        return config.load(str(self.config), environ={"STATE_DIRECTORY": str(self.state)}, overrides=overrides)

    def audit(self) -> list[dict]:
        return [json.loads(line) for line in (self.state_dir / "audit.jsonl").read_text().splitlines()]

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.screen_out.close()
        self.log.close()


def shoot(driver, name: str) -> None:
    """A screenshot of the page, a review artefact."""
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


WAIT_S = 30  # generous: the machine is shared


def wait_for(predicate, what: str, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout} s for {what}")


def by_id(driver, ident):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, ident)


def choose(driver, ident, value):
    """Pick an option of a <select> by its value (typing into it depends on the typing speed)."""
    from selenium.webdriver.support.select import Select

    Select(by_id(driver, ident)).select_by_value(value)


def first_use_and_login(driver, terminal: RunningTerminal, user: str) -> None:
    driver.get(terminal.base + "/")
    assert "/setup" in driver.current_url  # no default password: the console asks for one
    by_id(driver, "code").send_keys((terminal.state_dir / "setup-code").read_text().strip())
    by_id(driver, "password").send_keys(PASSWORD)
    by_id(driver, "save").click()
    login(driver, user)
    wait_for(lambda: "/login" not in driver.current_url, "the page after logging in")


def login(driver, user: str, password: str = PASSWORD) -> None:
    wait_for(lambda: "/login" in driver.current_url, "the login page")  # a click before may still be loading
    by_id(driver, "user").send_keys(user)
    by_id(driver, "password").send_keys(password)
    by_id(driver, "login").click()
