"""Outcome and details -> translated ``ScreenModel`` (SCANNERS-AND-HARDWARE.md section 4).

A 128x64 OLED shows a headline and at most three short lines, so the presenter chooses: the alert
code and id first (the NMVO follow-up needs them: VERIFICATION-SERVICE.md section 10), then the
service code's short text (section 9: our own text, descriptions vary between systems), then the
product code and the serial's last four characters (never the whole serial: ARCHITECTURE.md,
"Errors and logging"). Lines are cut to ``LINE_CHARS``.

While the outbox's queue is paused (OFFLINE-QUEUE.md 4.3: login, certificate, clock, software), the
badge names the cause instead of the pending count, and the idle screen says what to do with the
count below it (issue 6, item 3: "the screen says the certificate must be renewed").

Scanner calibration (issue 8; SCANNERS-AND-HARDWARE.md 3.2): a calibration result is a notice
("Scanner OK", or "change scanner settings"), a held scan an amber verdict; both list what to change
on the scanner, one short line per problem (``line.scanner.<problem>``), then the set-up sheet codes
to scan as far as lines remain. A held scan of a changed scanner first says to scan the calibration
code. A headline longer than one row keeps two rows (at most two detail lines then).

Late results (issue 11, item 5): the idle screen's first line says how many came since it last did
("3 réponses reçues"); the alerts among them also have their own red notice (``late_alert``).

The queue on the screen (issue 5, item 3; ``fmd_core.outcomes.queue_notice``): the badge names the
most urgent of storage fault (OFFLINE-QUEUE.md 2.3), "not sent for 4 h" (6.4), the pause (4.3), the
ops needing a person (6.4, 8), low free space (2.3: below 30 days of ops, amber), a WAL past 64 MiB
(2.3: an admin alarm, badge only, no light), else the pending count; the idle screen says the same in
words, in the alarm's light (amber after 15 min or low space, red after 4 h or a storage fault; never
green), and points to the reconciliation list, which lives on the pharmacy computer
(``fmd-terminal attention``): the terminal has no keyboard. A decoder failure is shown as a short translated reason (``line.reason.<code>``,
PACK-CODES.md reason codes), never as the raw code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fmd_core.calibration import setup_code
from fmd_core.flow import Notice, Verdict
from fmd_core.outcomes import (
    BACKLOG_AMBER,
    BACKLOG_RED,
    NEEDS_ATTENTION,
    QUEUE_PAUSED,
    STORAGE_FAULT,
    STORAGE_SPACE,
    STORAGE_WAL,
    QueueNotice,
    queue_notice,
)
from fmd_core.screen import ScreenModel
from fmd_terminal.i18n import Translator

LINE_CHARS = 21  # 128 px / 6 px per character of the OLED's pixel font
MAX_LINES = 3
# held scans whose remedy is a new calibration scan (``fmd_core.outcomes.of_scanner_hold``)
RECALIBRATE = ("scanner_settings_changed", "scanner_not_calibrated")
# queue notices with a badge of their own (the others: the pause's cause, or the pending count)
_BADGE = {STORAGE_FAULT: "badge.storage_fault", BACKLOG_RED: "badge.backlog_red",
          NEEDS_ATTENTION: "badge.attention", STORAGE_SPACE: "badge.storage_space", STORAGE_WAL: "badge.storage_wal"}


def _cut(text: str) -> str:
    return text if len(text) <= LINE_CHARS else text[: LINE_CHARS - 1] + "…"


def _room_below(headline: str) -> int:
    """Detail lines a screen may use: a headline longer than one row keeps two rows (the renderer
    gives it one row under three detail lines, and a verdict such as "Not recorded – set pack aside"
    or "settings changed" must stay whole; the lines come most important first)."""
    return MAX_LINES if len(headline) <= LINE_CHARS else MAX_LINES - 1


def _distinct(headline: str, lines: list[str]) -> list[str]:
    """Each text once on a screen: a line that repeats the headline or an earlier line ("Lot rappelé"
    as headline and as the service code's text) is left out, so it leaves its row to the next one."""
    seen = {headline.casefold()}
    kept = []
    for line in lines:
        if line.casefold() not in seen:
            seen.add(line.casefold())
            kept.append(line)
    return kept


def _queue(pending: int, paused: str | None, queue: QueueNotice | None) -> QueueNotice:
    """The queue notice to show: the one given, else the one the bare counts make (no alarm ages)."""
    return queue if queue is not None else queue_notice({"pending": pending, "paused": paused})


def local_time(wall_ns: int) -> str:
    return time.strftime("%d/%m %H:%M", time.localtime(wall_ns / 1e9))


def age_text(age_ns: int) -> str:
    """A waiting time as a pharmacist reads it: "45 s", "3 min", "2 h" (the same in fr, en, de)."""
    seconds = max(0, age_ns // 1_000_000_000)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _product(pack: dict) -> dict[str, str]:
    """French packs read better by their CIP13: GTIN 0 + 3400... (VERIFICATION-SERVICE.md section 9)."""
    code = pack["product_code"]
    if pack.get("product_code_scheme", "GTIN") == "GTIN" and code.startswith("03400"):
        return {"scheme": "CIP", "code": code[1:]}
    return {"scheme": pack.get("product_code_scheme") or "GTIN", "code": code}


def quarter_lines(outbox: Any, translate: Translator) -> list[str]:
    """The screen's lines of the current quarter (issue 14, item 6): the count of decommissions the
    service accepted and the date of the last one, the same figure as ``fmd-terminal report --quarter``."""
    from fmd_terminal.commands.report import last_text, outbox_summary
    from fmd_terminal.errors import StorageError

    try:
        label, summary = outbox_summary(outbox)
    except (StorageError, AttributeError):  # the outbox could not be opened at start (storage fault)
        return [translate("line.record_by_hand")]
    lines = [translate("line.quarter_count", quarter=label, n=summary["count"]),
             translate("line.quarter_last", last=last_text(summary["last_ns"], translate("line.quarter_never"))[:10])]
    if summary["open"]:
        lines.append(translate("line.quarter_open", n=summary["open"]))
    return lines


class Presenter:
    # What the idle screen says of the credentials (``credential_health.idle_lines``; issue 14): set by
    # ``app.build``, none by default.
    health: Callable[[], list[str]] = staticmethod(lambda: [])  # type: ignore[assignment]
    # The quarter's figure on request (``quarter_lines``; issue 14, item 6): set by ``app.build``.
    quarter: Callable[[], list[str]] = staticmethod(lambda: [])  # type: ignore[assignment]
    # The web console's address, shown as a QR code on request (``FMD-MODE-ADMIN``, issue 15): set by
    # ``fmd-terminal run`` once the console listens; "" while it is off.
    console_address: str = ""
    # The receiving session's progress on the idle screen (issue 17): set while a session is open.
    session: Callable[[], list[str]] = staticmethod(lambda: [])  # type: ignore[assignment]

    def __init__(self, translate: Translator) -> None:
        self.t = translate

    def mode_label(self, mode: str) -> str:
        return self.t("mode." + mode)

    def badge(self, pending: int = 0, paused: str | None = None, queue: QueueNotice | None = None) -> str:
        """The corner badge: the most urgent queue notice (storage fault, 4 h, the pause's cause, ops to
        resolve, low space, WAL), else the pending count, else nothing."""
        q = _queue(pending, paused, queue)
        if q.kind in _BADGE:
            return self.t(_BADGE[q.kind], n=q.attention)
        if q.kind == QUEUE_PAUSED and self.t.has("badge." + q.paused):
            return self.t("badge." + q.paused)
        return self.t("badge.pending", n=q.pending) if q.pending else ""

    def queue_lines(self, queue: QueueNotice) -> list[str]:
        """The idle screen's words for the queue (OFFLINE-QUEUE.md 2.3, 4.3, 6.4, 8), most urgent first;
        ops needing a person are always named while there is room."""
        t, q, lines = self.t, queue, []
        if q.kind == STORAGE_FAULT:
            lines.append(t("line.record_by_hand"))
        elif q.kind == BACKLOG_RED:
            lines += [t("line.backlog_red"), t("line.contact_support")]
        elif q.kind == QUEUE_PAUSED and t.has("line." + q.paused):
            lines.append(t("line." + q.paused))  # the idle screen says what the pause needs
        elif q.kind == NEEDS_ATTENTION:
            lines += [t("badge.attention", n=q.attention), t("line.attention_list")]
        elif q.kind == BACKLOG_AMBER:
            lines.append(t("line.backlog_amber"))
        elif q.kind == STORAGE_SPACE:
            lines += [t("line.storage_space"), t("line.storage_space_do")]
        if q.kind in (QUEUE_PAUSED, BACKLOG_AMBER, STORAGE_SPACE) and lines and q.pending:
            lines.append(t("badge.pending", n=q.pending))
        if q.attention and q.kind != NEEDS_ATTENTION:
            lines.append(t("badge.attention", n=q.attention))
        return [_cut(line) for line in lines[:MAX_LINES]]

    def headline(self, verdict: Verdict) -> str:
        site = verdict.details.get("site")
        if site and "explained" not in verdict.details:
            return self.site_text(verdict.message_id, site)
        problem = self._receiving_problem(verdict)
        if problem is not None:
            return self.t("receive." + problem)
        return self.t(verdict.message_id)

    @staticmethod
    def _receiving_problem(verdict: Verdict) -> str | None:
        """The delivery note's first difference (issue 17), the headline unless the verdict is red (an
        alert's or a refusal's headline stays) or the pack was already scanned (its own headline)."""
        check = verdict.details.get("receiving")
        if check is None or not check.problems or verdict.light == "red" or verdict.message_id == "receive_already_scanned":
            return None
        return check.problems[0]

    def receiving_lines(self, verdict: Verdict) -> list[str]:
        """The note's line and what it holds now ("Doliprane 1000 : 38/40"), the other differences,
        "verified only" where a dock did not decommission, and the service's word when a difference took
        the headline (issue 17)."""
        check = verdict.details.get("receiving")
        if check is None:
            return []
        lines = []
        if check.line is not None:
            room = LINE_CHARS - len(self.t("line.receive_progress", name="", counted=check.counted,
                                           quantity=check.quantity))
            name = check.label if len(check.label) <= room else check.label[: max(1, room - 1)] + "…"
            lines.append(self.t("line.receive_progress", name=name, counted=check.counted, quantity=check.quantity))
        first = self._receiving_problem(verdict)
        lines += [self.t("receive." + p) for p in check.problems if p != first and p != "already_scanned"]
        if verdict.details.get("verify_only"):
            lines.append(self.t("line.receive_verify_only"))
        if first is not None and verdict.message_id != "receive_already_scanned":
            lines.append(self.t(verdict.message_id))
        return lines

    def site_text(self, reason: str, site: dict) -> str:
        """The site ledger's word (issue 16): "Déjà délivrée au comptoir 2 à 10:42"."""
        at = site.get("at")
        return self.t(reason, n=site.get("counter") or "?",
                      time=time.strftime("%H:%M", time.localtime(at)) if at else "?")

    def verdict(self, verdict: Verdict, pending: int = 0, paused: str | None = None,
                queue: QueueNotice | None = None) -> ScreenModel:
        headline = self.headline(verdict)
        lines = _distinct(headline, self._lines(verdict))[: _room_below(headline)]  # a long headline stays whole
        return ScreenModel(light=verdict.light, headline=headline,
                           lines=[_cut(line) for line in lines],
                           mode=self.mode_label(verdict.mode), badge=self.badge(pending, paused, queue))

    def notice(self, notice: Notice, pending: int = 0, paused: str | None = None,
               queue: QueueNotice | None = None) -> ScreenModel:
        """A notice screen. The idle screen ("ready") also carries the queue: its lines, and the alarm's
        light (a storage fault replaces the headline: the terminal is not ready for scans)."""
        q = _queue(pending, paused, queue)
        if notice.message_id == "console_address":
            return self.console_screen(notice.mode, q)
        headline, light = self.t(notice.message_id), None
        lines = [_cut(notice.detail)] if notice.detail else []
        if notice.message_id == "restart_list":
            lines += [_cut(line) for line in self.restart_lines(notice.items)]
        scanner = self.scanner_lines(notice.problems)[: _room_below(headline)]
        lines += [_cut(line) for line in scanner]
        if notice.message_id == "mode_not_in_role":  # issue 17: which role, which mode, where to change it
            role, mode = notice.items
            lines = [self.t("line.role", role=self.t("role." + role)),
                     _cut(self.t("line.mode_refused", mode=self.mode_label(mode))), self.t("line.role_fix")]
        if notice.message_id == "quarter_report":
            lines += [_cut(line) for line in self.quarter()][: _room_below(headline)]
        if notice.message_id == "ready":
            light = q.level
            if q.kind == STORAGE_FAULT:
                headline = self.t("storage_fault")
            if notice.received:
                lines.append(_cut(self.received(notice.received)))
            lines += [_cut(line) for line in self.session()][: max(0, _room_below(headline) - len(lines))]
            lines += self.queue_lines(q)[: max(0, _room_below(headline) - len(lines))]
            lines += [_cut(line) for line in self.health()][: max(0, _room_below(headline) - len(lines))]
        return ScreenModel(light=light, headline=headline, lines=lines, mode=self.mode_label(notice.mode),
                           badge=self.badge(queue=q), busy=notice.busy)

    def console_screen(self, mode: str, queue: QueueNotice) -> ScreenModel:
        """The web console's address as a QR code with the URL beside it (issue 15), or, while the console
        is off, that it is off and how to turn it on. The URL is never cut: a person may type it."""
        if not self.console_address:
            return ScreenModel(headline=self.t("console_off"), lines=[self.t("line.console_off")],
                               mode=self.mode_label(mode), badge=self.badge(queue=queue))
        return ScreenModel(headline=self.t("console_address"), lines=[self.console_address],
                           mode=self.mode_label(mode), badge=self.badge(queue=queue), qr=self.console_address)

    def receiving(self, headline: str, lines: list[str], mode: str, light: str | None = None,
                  queue: QueueNotice | None = None) -> ScreenModel:
        """A receiving session's own screen (issue 17: started, closed with its tally, a note refused),
        from texts already translated."""
        return ScreenModel(light=light, headline=headline, lines=[_cut(line) for line in lines[:MAX_LINES]],
                           mode=self.mode_label(mode), badge=self.badge(queue=queue))

    def received(self, n: int) -> str:
        """The idle screen's queue notice of late results (issue 11, item 5): "3 réponses reçues"; the
        catalogues have no plural forms, so one, up to 99 and more than 99 (one OLED row) have their own."""
        if n == 1:
            return self.t("line.received_one")
        return self.t("line.received", n=n) if n <= 99 else self.t("line.received_many")

    def restart_lines(self, items: tuple) -> list[str]:
        """The restart list (OFFLINE-QUEUE.md 5.3): the newest op recorded before the restart, the one
        whose result a power cut may have hidden, in words: what was done and when, the product code
        with the serial's last characters, and where the op stands ("Délivrance à 14:02",
        "3400930012345 …mEQy", "Pas encore envoyée"). Items: (kind, product_code, serial, state[,
        wall_ns]), newest first; the older ones are in the log and ``fmd-terminal export``."""
        if not items:
            return []
        kind, product_code, serial, state = items[0][:4]
        wall_ns = items[0][4] if len(items[0]) > 4 else None
        what = self.t("kind." + kind)
        if wall_ns is None:
            when = what
        elif time.strftime("%Y%m%d") == time.strftime("%Y%m%d", time.localtime(wall_ns / 1e9)):
            when = self.t("line.restart_at", kind=what, time=time.strftime("%H:%M", time.localtime(wall_ns / 1e9)))
        else:
            when = self.t("line.restart_on", kind=what, date=time.strftime("%d/%m", time.localtime(wall_ns / 1e9)))
        code = _product({"product_code": product_code})["code"]
        return [when, f"{code} …{serial[-4:]}", self.t("state." + state)]

    def scanner_lines(self, problems: tuple, recalibrate: bool = False) -> list[str]:
        """What to change on the scanner (``fmd_core.calibration.problems`` items), one line each, then
        the set-up sheet codes (``setup_code``: changes that are not mere advice, and the keyboard advice
        of a country with blind partners), as far as the screen has room."""
        lines = [self.t("line.scan_calibration")] if recalibrate else []
        setups: list[str] = []
        for problem, parameters in problems:
            key = "line.scanner." + problem
            lines.append(self.t(key, **parameters) if self.t.has(key) else problem)
            setup = setup_code(problem)
            if setup and setup not in setups:
                setups.append(setup)
        return lines + setups[: max(0, MAX_LINES - len(lines))]

    def fault(self, mode: str) -> ScreenModel:
        """The neutral screen of the top-level loop after an unexpected error: no light, no verdict."""
        return ScreenModel(light=None, headline=self.t("fault"), mode=self.mode_label(mode))

    def since(self, wall_ns: int) -> str:
        """When an earlier op was done: "à 10:42" today, "le 02/12 10:42" before (issue 11, item 6)."""
        if time.strftime("%Y%m%d", time.localtime(wall_ns / 1e9)) == time.strftime("%Y%m%d"):
            return self.t("line.since_today", when=time.strftime("%H:%M", time.localtime(wall_ns / 1e9)))
        return self.t("line.since", when=local_time(wall_ns))

    def _late_lines(self, verdict: Verdict) -> list[str]:
        """A late red result's own notice (issue 11, item 5): which pack (CIP, serial's end), what to do;
        or, when the site ledger explains it, the pack and the site's decommission (issue 16)."""
        pack = verdict.pack or {}
        lines = [self.t("line.product", **_product(pack))] if pack.get("product_code") else []
        if verdict.details.get("explained"):  # the site ledger explains it (issue 16): where and when
            return lines + [self.t("line." + verdict.details["explained"]),
                            self.site_text("line.site", verdict.details["site"])]
        if pack.get("serial"):
            lines.append(self.t("line.serial", tail=pack["serial"][-4:]))
        return lines + [self.t("line.late_do")]

    def _lines(self, verdict: Verdict) -> list[str]:
        t, details = self.t, verdict.details
        if details.get("late"):
            return self._late_lines(verdict)
        lines = self.receiving_lines(verdict)
        if verdict.alert_code or details.get("alert_id"):  # both kept for the NMVO follow-up (s. 10)
            lines.append(t("line.alert", code=verdict.alert_code or ""))
            if details.get("explained"):  # an alert the site ledger explains (issue 16)
                lines.append(t("line." + details["explained"]))
                lines.append(self.site_text("line.site", details["site"]))
            if details.get("alert_id"):
                lines.append(details["alert_id"])
        if "earlier" in details:
            lines.append(t(details["earlier"]))
        if verdict.service_code and verdict.service_code != "NMVS_SUCCESS":
            key = "op." + verdict.service_code
            lines.append(t(key) if t.has(key) else t("line.code", code=verdict.service_code))
        if details.get("since_wall_ns"):
            lines.append(self.since(details["since_wall_ns"]))
        if details.get("age_ns") is not None:  # a pending op: how long it has waited for its answer
            lines.append(t("line.waiting_for", age=age_text(details["age_ns"])))
        if "scanner" in details:
            scanner = self.scanner_lines(details["scanner"], verdict.message_id in RECALIBRATE)
            lines += scanner[: _room_below(self.headline(verdict))]
        if verdict.decode_error:  # a short translated reason; an unknown code is shown as it is
            key = "line.reason." + verdict.decode_error
            lines.append(t(key) if t.has(key) else t("line.decode_error", reason=verdict.decode_error))
        pack = verdict.pack or {}
        if pack.get("product_code"):
            lines.append(t("line.product", **_product(pack)))
        if pack.get("serial"):
            lines.append(t("line.serial", tail=pack["serial"][-4:]))
        return lines
