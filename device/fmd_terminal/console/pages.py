"""The console's HTML: server-rendered, one stylesheet and one small script served by the console
itself (no CDN, no build step; works without internet). Every value is escaped here."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from fmd_core.modes import MODES
from fmd_core.op_states import CANCEL_REASONS
from fmd_terminal.console.texts import text
from fmd_terminal.credential_health import KINDS
from fmd_terminal.i18n import LANGUAGES

NAV = ("status", "attention", "receiving", "history", "export", "calibration", "settings", "enrol", "logs")
PATHS = {"status": "/", "attention": "/attention", "receiving": "/receiving", "history": "/history", "export": "/export",
         "calibration": "/calibration", "settings": "/settings", "enrol": "/enrol", "logs": "/logs"}

CSS = """body{font-family:sans-serif;margin:0;color:#111;background:#f6f6f4}
header{background:#124;color:#fff;padding:.5em 1em;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
header a{color:#fff}main{padding:1em;max-width:60em}dt{font-weight:bold;margin-top:.6em}
table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}
.green{background:#9d9}.amber{background:#fc6}.red{background:#e44;color:#fff}.message{padding:.5em;background:#def;margin:.5em 0}
.refused{padding:.5em;background:#fdd;margin:.5em 0}form.inline{display:inline}
label{display:block;margin-top:.5em}"""

# The live status page (server-sent events): each message is the status as JSON; elements with
# data-field show one field (and its light, for those the view gives a level), the alert list is
# rebuilt. Text only (textContent): nothing is parsed as HTML.
SCRIPT = """(function(){
var source=new EventSource('/events');
source.onmessage=function(m){var s=JSON.parse(m.data);
document.querySelectorAll('[data-field]').forEach(function(e){var v=s.view[e.dataset.field];
if(v!==undefined){e.textContent=v;}var l=s.view.levels[e.dataset.field];if(l!==undefined){e.className=l;}});
var list=document.getElementById('alerts');if(list){list.textContent='';
s.view.alert_lines.forEach(function(line){var li=document.createElement('li');li.textContent=line;
li.className='red';list.appendChild(li);});}
document.body.dataset.level=s.level||'';};})();"""


def t(lang: str, key: str, **fields: object) -> str:
    return escape(text(key, lang, **fields))


def page(lang: str, title_key: str, body: str, *, user: str | None = None, csrf: str = "",
         script: bool = False, refresh_s: int | None = None) -> str:
    nav = ""
    if user is not None:
        links = " ".join(f'<a href="{PATHS[name]}">{t(lang, "nav." + name)}</a>' for name in NAV)
        nav = (f"{links}<span>{t(lang, 'signed_in', user=user)}</span>"
               f'<form class="inline" method="post" action="/logout">{csrf_field(csrf)}'
               f'<button>{t(lang, "logout")}</button></form>')
    js = '<script src="/console.js"></script>' if script else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            + (f'<meta http-equiv="refresh" content="{int(refresh_s)}">' if refresh_s else "") +
            f'<title>{t(lang, title_key)} · {t(lang, "title")}</title><link rel="stylesheet" href="/console.css">'
            f'</head><body><header><strong>{t(lang, "title")}</strong>{nav}</header>'
            f'<main><h1>{t(lang, title_key)}</h1>{body}</main>{js}</body></html>')


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def message(text_html: str, refused: bool = False) -> str:
    return f'<p class="{"refused" if refused else "message"}" id="message">{text_html}</p>' if text_html else ""


def login(lang: str, pre: str, note: str = "", refused: bool = False) -> str:
    body = (message(note, refused) + f'<form method="post" action="/login">{csrf_field(pre)}'
            f'<label>{t(lang, "user")}<input name="user" id="user" required maxlength="60"></label>'
            f'<label>{t(lang, "password")}<input type="password" name="password" id="password" required></label>'
            f'<button id="login">{t(lang, "login")}</button></form>' + _languages(lang, "/login"))
    return page(lang, "login", body)


def setup(lang: str, pre: str, note: str = "", refused: bool = False) -> str:
    body = (message(note, refused) + f'<p>{t(lang, "setup_help")}</p><form method="post" action="/setup">'
            f'{csrf_field(pre)}<label>{t(lang, "setup_code")}<input name="code" id="code" required></label>'
            f'<label>{t(lang, "new_password")}<input type="password" name="password" id="password" '
            f'minlength="10" required></label><button id="save">{t(lang, "save")}</button></form>'
            + _languages(lang, "/setup"))
    return page(lang, "setup", body)


def _languages(lang: str, path: str) -> str:
    return "<p>" + " · ".join(f'<a href="{path}?lang={code}">{code.upper()}</a>' for code in LANGUAGES) + "</p>"


FIXES = {"certificate": "fix_cert_renew", "password": "fix_password", "terms": "fix_terms"}


def health_line(item: dict[str, Any], lang: str) -> str:
    """One credential's state and, unless it is fine, what to do (the fixes ``doctor`` gives)."""
    from fmd_terminal.outbox.texts import Texts

    state, kind = item["state"], item["kind"]
    if state == "none":
        return Texts(lang)("d_no_cert")
    if state == "ok":
        return text("health.ok_until", lang, until=item["until"][:10]) if item["until"] else text("health.ok", lang)
    said = text("health." + state, lang, days=item["days"], until=item["until"][:10])
    if state == "unknown" and kind != "certificate":
        fix = text("health.fix_unknown" if item.get("tracked", True) else "health.fix_untracked", lang)
    else:
        fix = Texts(lang)(FIXES[kind])
    return said + " — " + text("todo", lang, fix=fix)


def status_view(status: dict[str, Any], lang: str) -> dict[str, Any]:
    """The status's words in ``lang``: field -> text, as the page shows them and the live stream sends them."""
    age = status["oldest_age_s"]
    oldest = (text("oldest_value", lang, seq=status["oldest_seq"], minutes=int(age // 60))
              if age is not None and status["oldest_seq"] is not None else text("none", lang))
    return {
        "link": text("link." + (status["link"] if status["link"] in ("closed", "open", "half_open") else "unknown"),
                     lang) + (" — " + text("paused", lang, cause=status["paused"]) if status["paused"] else ""),
        "pending": str(status["pending"]), "oldest": oldest, "attention": str(status["attention"]),
        "last_decommission": status["last_decommission"] or text("none", lang),
        "scanner": text("scanner." + status["scanner"], lang),
        "storage": text("storage_value", lang, free=status["free_mb"], total=status["total_mb"])
        + "".join(" — " + alarm for alarm in status["storage_alarms"].values()),
        "mode": status["mode"], "version": status["version"], "alarm": status["alarm"] or "",
        **{"health_" + item["kind"]: health_line(item, lang) for item in status["credentials"]},
        "levels": {"health_" + item["kind"]: item["level"] for item in status["credentials"]},
        "alert_lines": [text("alert_line", lang, seq=a["seq"], kind=a["kind"], product_code=a["product_code"],
                             serial=a["serial"], code=a["alert_code"] or a["return_code"], state=a["state"])
                        for a in status["alerts"]],
    }


def status(view: dict[str, Any], lang: str, level: str | None) -> str:
    rows = "".join(f'<dt>{t(lang, key)}</dt><dd data-field="{field}" id="{field}">{escape(view[field])}</dd>'
                   for key, field in (("link", "link"), ("pending", "pending"), ("oldest", "oldest"),
                                      ("attention_count", "attention"), ("last_decommission", "last_decommission"),
                                      ("scanner", "scanner"), ("storage", "storage"), ("mode", "mode"),
                                      ("version", "version")))
    rows += "".join(f'<dt>{t(lang, "health." + kind)}</dt><dd data-field="health_{kind}" id="health_{kind}" '
                    f'class="{escape(view["levels"]["health_" + kind])}">{escape(view["health_" + kind])}</dd>'
                    for kind in KINDS)
    alerts = "".join(f'<li class="red">{escape(line)}</li>' for line in view["alert_lines"])
    return (f'<p class="{escape(level or "")}" data-field="alarm" id="alarm">{escape(view["alarm"])}</p>'
            f"<dl>{rows}</dl><h2>{t(lang, 'alerts')}</h2><ul id=\"alerts\">{alerts}</ul>"
            f"<p><small>{t(lang, 'live')}</small></p>")


def attention(entries: Iterable[dict[str, Any]], lang: str, csrf: str, procedure_of) -> str:
    out = []
    for entry in entries:
        seq = entry["seq"]
        form = f'<form method="post" action="/attention">{csrf_field(csrf)}<input type="hidden" name="seq" value="{seq}">'
        reasons = "".join(f'<option value="{r}">{r}</option>' for r in CANCEL_REASONS)
        out.append(
            f'<section id="op-{seq}"><h2>{escape(text("alert_line", lang, seq=seq, kind=entry["kind"], product_code=entry["product_code"], serial=entry["serial"], code=entry["alert_code"] or entry["return_code"] or "", state=entry["description"] or ""))}</h2>'
            f'<p>{t(lang, "procedure")} : {escape(procedure_of(entry["return_code"]))}</p>'
            f'{form}<input type="hidden" name="action" value="accept"><button id="accept-{seq}">{t(lang, "accept")}</button></form>'
            f'{form}<input type="hidden" name="action" value="retry"><label>{t(lang, "rescan")}'
            f'<input name="rescan" id="rescan-{seq}"></label><button id="retry-{seq}">{t(lang, "retry")}</button></form>'
            f'{form}<input type="hidden" name="action" value="cancel"><label>{t(lang, "reason")}'
            f'<select name="reason" id="reason-{seq}">{reasons}</select></label><label>{t(lang, "note")}'
            f'<input name="note" id="note-{seq}"></label><button id="cancel-{seq}">{t(lang, "cancel")}</button></form></section>')
    return "".join(out) or f"<p>{t(lang, 'nothing')}</p>"


# the open session's columns on the receiving page (of ``receiving.report.COLUMNS``, titled as the summary)
PROGRESS = ("line", "product_code", "designation", "batch", "ordered", "accepted", "pending", "refused", "missing",
            "extra", "alerts")
PAST_TOTALS = ("ordered", "accepted", "refused", "missing", "extra", "alerts")


def receiving(lang: str, csrf: str, view: dict[str, Any], high_mb: int) -> str:
    """The receiving page (issue 17): the note's upload form, the open session's tally per note line
    with its close button, the past sessions with their summary's CSV and PDF."""
    from fmd_terminal.receiving.report import COLUMNS, TITLES, cells

    titles = TITLES[lang if lang in TITLES else "fr"]
    out = (f'<p>{t(lang, "receiving_help", high=high_mb)}</p><form method="post" action="/receiving" '
           f'enctype="multipart/form-data">{csrf_field(csrf)}<input type="hidden" name="action" value="start">'
           f'<label>{t(lang, "note_file")}<input type="file" name="note" id="note" accept=".csv,.xml,text/csv,'
           f'application/xml,text/xml"></label><button id="start">{t(lang, "receive_start")}</button></form>')
    current = view["current"]
    if current is None:
        out += f'<p id="open-none">{t(lang, "receiving_none")}</p>'
    else:
        keep = [COLUMNS.index(name) for name in PROGRESS]
        head = "".join(f"<th>{escape(titles[name])}</th>" for name in PROGRESS)
        rows = "".join("<tr>" + "".join(f"<td>{escape(row[i])}</td>" for i in keep) + "</tr>"
                       for row in cells(current, lang))
        out += (f'<h2 id="open-title">{t(lang, "receiving_open", reference=current.reference, source=current.source)}'
                f'</h2><table id="progress"><tr>{head}</tr>{rows}</table>'
                f'<form method="post" action="/receiving">{csrf_field(csrf)}<input type="hidden" name="action" '
                f'value="close"><button id="close">{t(lang, "receive_close")}</button></form>')
    head = "".join(f"<th>{t(lang, key)}</th>" for key in ("col.reference", "col.source", "col.started", "col.closed"))
    head += "".join(f"<th>{escape(titles[name])}</th>" for name in PAST_TOTALS) + f'<th>{t(lang, "col.files")}</th>'
    rows = ""
    for past in view["past"]:
        files = (f'<a id="csv-{past["id"]}" href="/receipt.csv?id={past["id"]}">CSV</a> '
                 f'<a id="pdf-{past["id"]}" href="/receipt.pdf?id={past["id"]}">PDF</a>') if past["closed"] else ""
        rows += (f'<tr id="receipt-{past["id"]}"><td>{escape(past["reference"])}</td><td>{escape(past["source"])}</td>'
                 f'<td>{escape(past["started"])}</td><td>{escape(past["closed"] or text("receipt_open", lang))}</td>'
                 + "".join(f'<td>{escape(str(past["totals"].get(name, "")))}</td>' for name in PAST_TOTALS)
                 + f"<td>{files}</td></tr>")
    return out + (f'<h2>{t(lang, "receipts_past")}</h2><table id="receipts"><tr>{head}</tr>{rows}</table>'
                  if rows else "")


def history(rows: list[dict[str, Any]], lang: str, query: dict[str, str]) -> str:
    form = ('<form method="get" action="/history">'
            + "".join(f'<label>{t(lang, key)}<input name="{key}" id="{key}" value="{escape(query.get(key, ""))}"'
                      f'{" type=date" if key == "day" else ""}></label>' for key in ("product_code", "serial", "day"))
            + f'<button id="search">{t(lang, "search")}</button></form>')
    if not rows:
        return form + f"<p>{t(lang, 'no_ops')}</p>"
    head = "".join(f"<th>{t(lang, key)}</th>" for key in ("col.time", "col.kind", "product_code", "serial",
                                                           "col.state", "col.answer", "col.user"))
    body = "".join(
        f'<tr><td>{escape(r["time"])}</td><td>{escape(r["kind"])}</td><td>{escape(r["product_code"])}</td>'
        f'<td>{escape(r["serial"])}</td><td>{escape(r["state"])}</td><td>{escape(r["return_code"] or "")}'
        f' {escape(r["alert_code"] or "")}</td><td>{escape(r["user_id"] or "")}</td></tr>' for r in rows)
    return form + f'<table id="ops"><tr>{head}</tr>{body}</table>'


def export(lang: str, has_backup: bool) -> str:
    backup = (f'<li><a id="backup" href="/backup.db">{t(lang, "backup")}</a></li>' if has_backup
              else f"<li>{t(lang, 'no_backup')}</li>")
    return (f'<ul><li><a id="csv" href="/export.csv">{t(lang, "export_csv")}</a></li>'
            f'<li><a id="jsonl" href="/export.jsonl">{t(lang, "export_jsonl")}</a></li>{backup}</ul>')


def calibration(info: dict[str, Any], lang: str) -> str:
    out = f"<p>{t(lang, 'calibration_help')}</p>"
    if not info["guarded"]:
        return out + f"<p>{t(lang, 'scanner.unguarded')}</p>"
    if info["profile"] is None:
        return out + f"<p>{t(lang, 'calibration_none')}</p>"
    lines = "".join(f"<li>{escape(line)}</li>" for line in info["advice"])
    return out + f'<h2>{t(lang, "calibration_last")}</h2><ul id="advice">{lines}</ul>'


def settings(lang: str, values: dict[str, str], pending: dict[str, str], path: str, main: str, csrf: str,
             ignored: str = "") -> str:
    """The settings form: mode and language (at once), scanner and indicators (at the next restart;
    ``pending``: key -> what is in use until then, for a key saved but not yet in use), all saved in
    the settings file ``path``, where they replace those of the configuration file ``main``;
    ``ignored``: why the settings file was not used at start (``settings_ignored``), in ``lang``."""
    modes = "".join(f'<option value="{m}"{" selected" if m == values["mode"] else ""}>{m}</option>' for m in MODES)
    langs = "".join(f'<option value="{code}"{" selected" if code == values["lang"] else ""}>{code}</option>'
                    for code in LANGUAGES)

    def url_field(key: str, label: str) -> str:
        note = (f'<small id="{key}-pending">{t(lang, "settings_pending", value=pending[key])}</small>'
                if key in pending else "")
        return (f'<label>{t(lang, label)}<input name="{key}" id="{key}" value="{escape(values[key])}" '
                f'size="50" maxlength="300" required></label>{note}')

    warning = f'<p class="refused" id="settings-ignored">{escape(ignored)}</p>' if ignored else ""
    return (f'{warning}<form method="post" action="/settings">{csrf_field(csrf)}'
            f'<label>{t(lang, "mode")}<select name="mode" id="mode">{modes}</select></label>'
            f'<p><small>{t(lang, "settings_mode_help")}</small></p>'
            f'<label>{t(lang, "language")}<select name="lang" id="lang">{langs}</select></label>'
            f'<p><small>{t(lang, "settings_lang_help")}</small></p>'
            f'{url_field("scanner", "scanner_url")}{url_field("indicators", "indicators_url")}'
            f'<p><small>{t(lang, "settings_restart_help")}</small></p>'
            f'<p><small id="saved-in">{t(lang, "settings_file_help", path=path, main=main)}</small></p>'
            f'<button id="save">{t(lang, "save")}</button></form>')


def enrolment(lang: str, csrf: str, *, waiting: bool, job: Any, service: str) -> str:
    """The enrolment page: the latest attempt (its steps, then its result), and the code's form while
    the terminal waits for its enrolment, or the service a running terminal uses."""
    from fmd_terminal.enrolment import STEPS
    from fmd_terminal.enrolment_screen import refusal_line

    out = ""
    if job is not None:
        last = job.steps[-1] if job.steps else None
        # the step started last is running (amber), or where a refusal stopped the attempt (red)
        ending = {"waiting": ("amber", "enrol_current"), "working": ("amber", "enrol_current"),
                  "refused": ("red", "enrol_failed"), "enrolled": ("green", "enrol_done")}[job.state]

        def shown(step: str) -> tuple[str, str]:
            return ending if step == last else ("green", "enrol_done") if step in job.steps else ("", "enrol_later")

        items = "".join(f'<li id="step-{step}" class="{shown(step)[0]}">{t(lang, "enrol_step." + step)} — '
                        f"{t(lang, shown(step)[1])}</li>" for step in STEPS)
        if job.state == "enrolled":
            result = message(t(lang, "enrol_enrolled", name=job.enrolled.pharmacy_name, finess=job.enrolled.finess,
                                route=job.enrolled.route))
        elif job.state == "refused":
            said = refusal_line(job.refused, lang) if job.refused is not None else text("enrol_superseded", lang)
            result = message(escape(said), refused=True)
        else:
            result = f'<p id="enrol-state">{t(lang, "enrol_working" if job.steps else "enrol_handed")}</p>'
        out += f'<h2>{t(lang, "enrol_attempt", user=job.user)}</h2><ol id="steps">{items}</ol>' + result.replace(
            'id="message"', 'id="enrol-result"')
    if waiting:
        return out + (f'<p>{t(lang, "enrol_help")}</p><form method="post" action="/enrol">{csrf_field(csrf)}'
                      f'<label>{t(lang, "enrol_code")}<input name="code" id="code" autocomplete="off" '
                      f'spellcheck="false" size="70" required></label>'
                      f'<button id="enrol">{t(lang, "enrol_submit")}</button></form>')
    return out + f'<p id="enrol-running">{t(lang, "enrol_running", service=service or "—")}</p>'


def audit_lines(audit: list[dict[str, Any]]) -> list[str]:
    return [" ".join(f"{k}={v}" for k, v in entry.items()) for entry in audit]


def logs(audit: list[dict[str, Any]], records: list[str], lang: str, level: str) -> str:
    def listing(lines: list[str], ident: str) -> str:
        if not lines:
            return f'<p id="{ident}">{t(lang, "empty")}</p>'
        return f'<ul id="{ident}">' + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"

    levels = "".join(f'<option value="{name}"{" selected" if name == level else ""}>{name}</option>'
                     for name in ("DEBUG", "INFO", "WARNING", "ERROR"))
    choose = (f'<form method="get" action="/logs"><label>{t(lang, "logs_level")}<select name="level" id="level">'
              f'{levels}</select></label><button id="filter">{t(lang, "logs_filter")}</button> '
              f'<a id="download" href="/logs.txt?level={escape(level)}">{t(lang, "logs_download")}</a></form>')
    return (f"<h2>{t(lang, 'logs_audit')}</h2>{listing(audit_lines(audit), 'audit')}"
            f"<h2>{t(lang, 'logs_terminal')}</h2>{choose}{listing(records, 'records')}")
