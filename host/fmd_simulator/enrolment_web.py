"""The subscription site and the enrolment endpoint over HTTP (issue 14), in front of the simulator's app.

| Path | What |
|---|---|
| ``GET /subscribe[?lang=fr|en|de]`` | the form: letter identifier, FINESS géographique, route (French first) |
| ``POST /subscribe`` (form) | the account, and a one-time enrolment code as a Data Matrix (screen and print) |
| ``GET /subscribe/code/<token>.png`` | the code's Data Matrix as a PNG (the page's image) |
| ``GET /enrol/ca.pem`` | the enrolment CA certificate (public; the code carries its SHA-256) |
| ``POST /enrol`` (JSON ``{code, csr, terminalTime}``) | certificate and credentials, once per code |

Refusals of ``/enrol`` are JSON ``{"code": "ENROL_...", "description": ...}`` with their status.
"""

from __future__ import annotations

import html
import io
import json
from typing import Any
from urllib.parse import parse_qs

from fmd_simulator.enrolment import CODE_LIFE_S, ROUTES, Enrolment, EnrolmentRefused
from fmd_simulator.rest import SMALL_BODY, Dropped, HTTPProblem, read_body, respond

PAGES = {
    "fr": {"title": "Abonnement France MVS (simulateur)", "identifier": "Identifiant unique (courrier)",
           "finess": "N° FINESS géographique", "route": "Mode de connexion",
           "direct": "Connexion directe (certificat du terminal)", "connector": "Connecteur de l'Ordre (carte CPS)",
           "submit": "S'abonner et obtenir un code d'inscription", "account": "Compte de {name} ({finess})",
           "scan": "Scannez ce code avec le terminal. Valable 15 minutes, une seule fois (jusqu'à {until} UTC).",
           "print": "Imprimer", "again": "Nouveau code", "refused": "Refusé : identifiant ou n° FINESS inconnu, "
           "ou ne correspondant pas au courrier. Vérifiez le courrier et recommencez."},
    "en": {"title": "France MVS subscription (simulator)", "identifier": "Unique identifier (letter)",
           "finess": "FINESS géographique number", "route": "Connection route",
           "direct": "Direct connection (terminal certificate)", "connector": "The Ordre's connector (CPS card)",
           "submit": "Subscribe and get an enrolment code", "account": "Account of {name} ({finess})",
           "scan": "Scan this code with the terminal. Valid 15 minutes, once (until {until} UTC).",
           "print": "Print", "again": "New code", "refused": "Refused: unknown identifier or FINESS number, or "
           "not those of the letter. Check the letter and try again."},
    "de": {"title": "France-MVS-Abonnement (Simulator)", "identifier": "Eindeutige Kennung (Brief)",
           "finess": "FINESS-géographique-Nummer", "route": "Verbindungsweg",
           "direct": "Direkte Verbindung (Zertifikat des Terminals)", "connector": "Konnektor des Ordre (CPS-Karte)",
           "submit": "Abonnieren und Registrierungscode erhalten", "account": "Konto von {name} ({finess})",
           "scan": "Diesen Code mit dem Terminal scannen. 15 Minuten gültig, nur einmal (bis {until} UTC).",
           "print": "Drucken", "again": "Neuer Code", "refused": "Abgelehnt: Kennung oder FINESS-Nummer unbekannt "
           "oder nicht die des Briefs. Brief prüfen und erneut versuchen."},
}


def page_language(scope: dict[str, Any], form: dict[str, str] | None = None) -> str:
    """``?lang=`` or the form's ``lang``, else the first of fr/en/de in Accept-Language, else French."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    wanted = (form or {}).get("lang") or (query.get("lang") or [""])[0]
    if wanted in PAGES:
        return wanted
    accept = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1").lower()
    for part in accept.split(","):
        tag = part.split(";")[0].strip()[:2]
        if tag in PAGES:
            return tag
    return "fr"


def code_png(text: str, scale: int = 6) -> bytes:
    """The Data Matrix of ``text`` as a PNG (zxing-cpp, as the provisioning sheets draw theirs)."""
    import zxingcpp
    from PIL import Image

    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    view = memoryview(barcode.to_image(scale=scale))  # type: ignore[arg-type]  # zxing-cpp Image: a buffer
    height, width = view.shape or (0, 0)
    out = io.BytesIO()
    Image.frombytes("L", (width, height), bytes(view)).save(out, "PNG")
    return out.getvalue()


def _page(lang: str, body: str) -> bytes:
    t = PAGES[lang]
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(t["title"])}'
            f'</title></head><body><h1>{html.escape(t["title"])}</h1>{body}</body></html>').encode()


def form_page(lang: str) -> bytes:
    t = PAGES[lang]
    routes = "".join(f'<label><input type="radio" name="route" value="{r}"{" checked" if r == "direct" else ""}>'
                     f"{html.escape(t[r])}</label><br>" for r in ROUTES)
    return _page(lang, f'<form method="post" action="/subscribe"><input type="hidden" name="lang" value="{lang}">'
                       f'<label>{html.escape(t["identifier"])} <input name="identifier" required></label><br>'
                       f'<label>{html.escape(t["finess"])} <input name="finess" required></label><br>'
                       f'<fieldset><legend>{html.escape(t["route"])}</legend>{routes}</fieldset>'
                       f'<button type="submit">{html.escape(t["submit"])}</button></form>')


def code_page(lang: str, subscription: Any, token: str, text: str, expires: float, form: dict[str, str]) -> bytes:
    import time

    t = PAGES[lang]
    until = time.strftime("%H:%M", time.gmtime(expires))
    again = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in form.items())
    return _page(lang, f'<p>{html.escape(t["account"].format(name=subscription.letter.name, finess=subscription.letter.finess))}'
                       f' : {html.escape(t[subscription.route])}</p>'
                       f'<p>{html.escape(t["scan"].format(until=until))}</p>'
                       f'<p><img id="enrolment-code" alt="{html.escape(text)}" src="/subscribe/code/{token}.png"></p>'
                       f'<p><code id="enrolment-text">{html.escape(text)}</code></p>'
                       f'<button onclick="window.print()">{html.escape(t["print"])}</button>'
                       f'<form method="post" action="/subscribe">{again}<button>{html.escape(t["again"])}</button></form>')


async def _send(send: Any, status: int, content_type: bytes, data: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(data)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": data})


def base_url_of(scope: dict[str, Any]) -> str:
    host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


def with_enrolment(inner: Any, enrolment: Enrolment) -> Any:
    """An ASGI app serving the subscription site and ``/enrol`` from ``enrolment``, the rest from ``inner``."""
    HTML = b"text/html; charset=utf-8"

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == "/subscribe" or path.startswith("/subscribe/") or path.startswith("/enrol")):
            await inner(scope, receive, send)
            return
        method = scope["method"]
        headers = dict(scope["headers"])
        try:
            if path == "/subscribe" and method == "GET":
                return await _send(send, 200, HTML, form_page(page_language(scope)))
            if path == "/subscribe" and method == "POST":
                body = await read_body(receive, headers, SMALL_BODY)
                form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                lang = page_language(scope, form)
                try:
                    subscription = enrolment.subscribe(form.get("identifier", ""), form.get("finess", ""),
                                                       form.get("route", "direct"))
                except EnrolmentRefused as refused:
                    return await _send(send, refused.status, HTML,
                                       _page(lang, f'<p id="refused">{html.escape(PAGES[lang]["refused"])}</p>'))
                token, expires = enrolment.new_code(subscription)
                text = enrolment.code_text(token, base_url_of(scope))
                return await _send(send, 200, HTML, code_page(lang, subscription, token, text, expires, form))
            if path.startswith("/subscribe/code/") and path.endswith(".png") and method == "GET":
                token = path.removeprefix("/subscribe/code/").removesuffix(".png")
                if token not in enrolment.codes:
                    raise HTTPProblem(404, "ENROL_UNKNOWN", "no such code")
                return await _send(send, 200, b"image/png", code_png(enrolment.code_text(token, base_url_of(scope))))
            if path == "/enrol/ca.pem" and method == "GET":
                return await _send(send, 200, b"application/x-pem-file", enrolment.ca.cert_pem)
            if path == "/enrol" and method == "POST":
                body = await read_body(receive, headers, SMALL_BODY)
                try:
                    data = json.loads(body)
                    if not isinstance(data, dict) or not isinstance(data.get("code"), str) \
                            or not isinstance(data.get("csr"), str):
                        raise ValueError("code and csr are required")
                    answer = enrolment.redeem(data["code"], data["csr"], data.get("terminalTime"),
                                              base_url_of(scope))
                except EnrolmentRefused as refused:
                    return await respond(send, refused.status, {"code": refused.code, "description": refused.detail})
                except ValueError as exc:
                    return await respond(send, 400, {"code": "ENROL_BAD_REQUEST", "description": str(exc)[:200]})
                return await respond(send, 200, answer)
            raise HTTPProblem(404, "NMVS_TE_JS_01", f"unknown path {path!r}.")
        except HTTPProblem as problem:
            await respond(send, problem.status, {"code": problem.code, "description": problem.detail})
        except Dropped:
            return

    app.inner = inner  # type: ignore[attr-defined]
    app.enrolment = enrolment  # type: ignore[attr-defined]
    return app


__all__ = ["CODE_LIFE_S", "with_enrolment"]
