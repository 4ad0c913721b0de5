"""The fleet page: one row per device, red rows first (offline, backlog, alerts, expiring credentials),
in French, English or German (``?lang=``, else the browser's Accept-Language, else French)."""

from __future__ import annotations

import html
import time
from typing import Any

TEXTS = {
    "fr": {"title": "Parc de terminaux FMD", "site": "Site", "device": "Terminal", "level": "État",
           "why": "Pourquoi", "pending": "En attente", "alerts": "Alertes aujourd'hui", "seen": "Vu à",
           "version": "Version", "red": "rouge", "amber": "orange", "ok": "bon",
           "offline": "hors ligne", "backlog": "retard d'envoi", "alerts_r": "alerte aujourd'hui",
           "alert_rate": "taux d'alertes > 0,05 %", "attention": "à traiter", "expiring": "expiration proche",
           "scanner": "scanner non réglé", "ledger": "registre du site hors ligne",
           "summary": "{red} rouges, {amber} orange, {ok} bons"},
    "en": {"title": "FMD terminal fleet", "site": "Site", "device": "Terminal", "level": "Level",
           "why": "Why", "pending": "Pending", "alerts": "Alerts today", "seen": "Seen at",
           "version": "Version", "red": "red", "amber": "amber", "ok": "ok",
           "offline": "offline", "backlog": "send backlog", "alerts_r": "alert today",
           "alert_rate": "alert rate > 0.05 %", "attention": "needs attention", "expiring": "expiring soon",
           "scanner": "scanner not set up", "ledger": "site ledger offline",
           "summary": "{red} red, {amber} amber, {ok} ok"},
    "de": {"title": "FMD-Terminalflotte", "site": "Standort", "device": "Terminal", "level": "Stand",
           "why": "Grund", "pending": "Wartend", "alerts": "Alarme heute", "seen": "Gesehen um",
           "version": "Version", "red": "rot", "amber": "gelb", "ok": "gut",
           "offline": "offline", "backlog": "Sendestau", "alerts_r": "Alarm heute",
           "alert_rate": "Alarmquote > 0,05 %", "attention": "zu bearbeiten", "expiring": "läuft bald ab",
           "scanner": "Scanner nicht eingerichtet", "ledger": "Standortregister offline",
           "summary": "{red} rot, {amber} gelb, {ok} gut"},
}
LANGUAGES = tuple(TEXTS)
COLOURS = {"red": "#f4c7c3", "amber": "#fce8b2", "ok": "#ffffff"}


def language(query_lang: str | None, accept: str | None) -> str:
    if query_lang in TEXTS:
        return str(query_lang)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in TEXTS:
            return code
    return "fr"


def render(rows: list[tuple[str, str, list[str], dict[str, Any]]], lang: str, limit: int = 2000) -> str:
    """The page; at most ``limit`` rows (red first), the counts of all in the summary."""
    t = TEXTS[lang]
    counts = {"red": 0, "amber": 0, "ok": 0}
    for row in rows:
        counts[row[1]] += 1
    out = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{t['title']}</title>"
           "<meta http-equiv='refresh' content='30'></head><body>",
           f"<h1>{t['title']}</h1><p>{html.escape(t['summary'].format(**counts))}</p><table border='1'>",
           "<tr>" + "".join(f"<th>{t[k]}</th>" for k in ("site", "device", "level", "why", "pending", "alerts",
                                                         "seen", "version")) + "</tr>"]
    for key, level, reasons, health in rows[:limit]:
        site, device = key.split("/", 1)
        why = ", ".join(t["alerts_r" if r == "alerts" else r] for r in reasons)
        seen = health.get("at")
        seen_text = time.strftime("%d/%m %H:%M", time.localtime(seen)) if isinstance(seen, int | float) else ""
        cells = [site, health.get("counter") and f"{device} ({health['counter']})" or device, t[level], why,
                 health.get("pending", ""), health.get("alerts_today", ""), seen_text, health.get("version", "")]
        out.append(f"<tr style='background:{COLOURS[level]}'>"
                   + "".join(f"<td>{html.escape(str(c if c is not None else ''))}</td>" for c in cells) + "</tr>")
    out.append("</table></body></html>")
    return "".join(out)
