"""Return codes of the verification service (VERIFICATION-SERVICE.md, section 5).

One row per code: the HTTP status of a verify and of a state change, the hub alert code it raises
(``None`` for none; the double-scan and PCK_19 rows are switchable, see ``engine.Options``) and a
description in English, French and German. Clients decide from ``alertId``, never from the code alone.
"""

from __future__ import annotations

from typing import NamedTuple


class ReturnCode(NamedTuple):
    """One row of the return-code table (VERIFICATION-SERVICE.md, section 5)."""

    name: str
    http_verify: int
    http_change: int
    alert: str | None
    en: str
    fr: str
    de: str

    def http_status(self, is_change: bool) -> int:
        return self.http_change if is_change else self.http_verify

    def description(self, language: str = "fr") -> str:
        return getattr(self, language if language in ("en", "fr", "de") else "fr")


def _row(name: str, verify: int, change: int, alert: str | None, en: str, fr: str, de: str) -> ReturnCode:
    return ReturnCode(name, verify, change, alert, en, fr, de)


SUCCESS = "NMVS_SUCCESS"

_ROWS = [
    _row(SUCCESS, 200, 200, None, "Processed.", "Traitement effectué.", "Verarbeitet."),
    _row("NMVS_FE_LOT_01", 409, 409, None, "Batch recalled.", "Lot rappelé.", "Charge zurückgerufen."),
    _row("NMVS_FE_LOT_03", 200, 409, "A2", "Batch unknown for this product.",
         "Lot inconnu pour ce produit.", "Charge für dieses Produkt unbekannt."),
    _row("NMVS_FE_LOT_07", 400, 400, None, "Expiry is not a valid date (YYMMDD).",
         "La date de péremption n'est pas une date valide (AAMMJJ).", "Verfalldatum ist kein gültiges Datum (JJMMTT)."),
    _row("NMVS_FE_LOT_08", 409, 409, None, "Batch or product withdrawn.", "Lot ou produit retiré.",
         "Charge oder Produkt zurückgezogen."),
    _row("NMVS_FE_LOT_12", 200, 409, "A52", "Expiry differs from the stored batch expiry.",
         "La date de péremption diffère de celle du lot enregistré.", "Verfalldatum weicht vom gespeicherten ab."),
    _row("NMVS_FE_LOT_13", 200, 409, "A68", "Serial number exists under another batch.",
         "Le numéro de série existe sous un autre lot.", "Seriennummer existiert unter einer anderen Charge."),
    _row("NMVS_NC_PC_01", 200, 409, None, "Product unknown.", "Produit inconnu.", "Produkt unbekannt."),
    _row("NMVS_NC_PC_02", 200, 409, "A3", "Serial number unknown for this product.",
         "Numéro de série inconnu pour ce produit.", "Seriennummer für dieses Produkt unbekannt."),
    _row("NMVS_NC_PC_06", 200, 409, None, "Product not held by this system.",
         "Produit non géré par ce système.", "Produkt wird von diesem System nicht geführt."),
    _row("NMVS_NC_PC_11", 400, 400, None, "National number (NHRN) invalid.",
         "Numéro national (NHRN) invalide.", "Nationale Nummer (NHRN) ungültig."),
    _row("NMVS_NC_PCK_02", 409, 409, None, "Pack expired.", "Boîte périmée.", "Packung verfallen."),
    _row("NMVS_NC_PCK_06", 409, 409, "A24", "Undo does not fit the pack's present status.",
         "L'annulation ne correspond pas au statut actuel de la boîte.",
         "Rücknahme passt nicht zum aktuellen Status der Packung."),
    _row("NMVS_NC_PCK_19", 409, 409, "A7", "Requested status already set, by another client.",
         "Statut demandé déjà positionné, par un autre client.",
         "Angeforderter Status bereits gesetzt, von einem anderen Kunden."),
    _row("NMVS_NC_PCK_20", 409, 409, "A24", "Undo window (10 days) exceeded.",
         "Délai d'annulation (10 jours) dépassé.", "Rücknahmefrist (10 Tage) überschritten."),
    _row("NMVS_NC_PCK_21", 409, 409, "A24", "Undo by a client other than the one that set the status.",
         "Annulation par un autre client que celui qui a positionné le statut.",
         "Rücknahme durch einen anderen Kunden als den, der den Status gesetzt hat."),
    _row("NMVS_NC_PCK_22", 409, 409, "A24", "Pack is inactive already, for a different reason.",
         "La boîte est déjà inactive, pour une autre raison.", "Packung ist bereits inaktiv, aus einem anderen Grund."),
    _row("NMVS_NC_PCK_23", 409, 409, "A7", "Same status already set by this client (double scan).",
         "Statut déjà positionné par ce client (double scan).",
         "Status bereits von diesem Kunden gesetzt (Doppelscan)."),
    _row("NMVS_NC_PCK_27", 409, 409, "A24", "Intermarket status change could not be performed.",
         "Le changement de statut intermarché n'a pas pu être effectué.",
         "Marktübergreifende Statusänderung konnte nicht durchgeführt werden."),
    _row("NMVS_FE_TX_01", 409, 409, None, "refClientTrxId matches no operation of this client on this pack.",
         "refClientTrxId ne correspond à aucune opération de ce client sur cette boîte.",
         "refClientTrxId passt zu keiner Operation dieses Kunden an dieser Packung."),
    _row("NMVS_FE_TX_02", 202, 202, None, "Bulk result not ready yet.", "Résultat du lot pas encore prêt.",
         "Sammelergebnis noch nicht bereit."),
    _row("NMVS_FE_TX_05", 409, 409, None, "Referenced operation cannot be undone.",
         "L'opération référencée ne peut pas être annulée.", "Die referenzierte Operation kann nicht zurückgenommen werden."),
    _row("NMVS_TE_TX_01", 409, 409, None, "Client transaction id already used; not executed.",
         "Identifiant de transaction client déjà utilisé ; non exécuté.",
         "Kunden-Transaktions-ID bereits verwendet; nicht ausgeführt."),
    _row("NMVS_TE_JS_01", 400, 400, None, "Message malformed.", "Message mal formé.", "Nachricht fehlerhaft."),
    _row("NMVS_TE_JS_02", 400, 400, None, "Message does not match the schema.",
         "Le message ne respecte pas le schéma.", "Nachricht entspricht nicht dem Schema."),
    _row("NMVS_TI_TO_01", 500, 500, None, "Processing time limit exceeded; outcome unknown.",
         "Délai de traitement dépassé ; résultat inconnu.", "Verarbeitungszeit überschritten; Ergebnis unbekannt."),
    _row("NMVS_FE_AU_01", 401, 401, None, "Wrong credentials.", "Identifiants incorrects.", "Falsche Zugangsdaten."),
    _row("NMVS_FE_AU_02", 401, 401, None, "Account locked.", "Compte verrouillé.", "Konto gesperrt."),
    _row("NMVS_FE_AU_11", 401, 401, None, "Password expired.", "Mot de passe expiré.", "Passwort abgelaufen."),
    _row("NMVS_FE_AU_23", 401, 401, None, "New terms must be accepted.", "De nouvelles conditions doivent être acceptées.",
         "Neue Nutzungsbedingungen müssen akzeptiert werden."),
    _row("NMVS_FE_PKI_01", 401, 401, None, "Client certificate out of date.", "Certificat client périmé.",
         "Client-Zertifikat abgelaufen."),
    _row("NMVS_FE_PKI_05", 401, 401, None, "Client certificate absent.", "Certificat client absent.",
         "Client-Zertifikat fehlt."),
    _row("NMVS_FE_BR_01", 403, 403, None, "Operation not permitted for this role.",
         "Opération non autorisée pour ce rôle.", "Operation für diese Rolle nicht erlaubt."),
    _row("NMVS_FI_SE_CLI_01", 429, 429, None, "Allowed request rate exceeded.", "Débit de requêtes autorisé dépassé.",
         "Erlaubte Anfragerate überschritten."),
    _row("NMVS_ERROR", 500, 500, None, "Technical error.", "Erreur technique.", "Technischer Fehler."),
    _row("NMVS_FE_GR_01", 400, 400, None, "Product code invalid (length, digits or check digit).",
         "Code produit invalide (longueur, chiffres ou clé de contrôle).",
         "Produktcode ungültig (Länge, Ziffern oder Prüfziffer)."),
    _row("NMVS_FE_GR_02", 400, 400, None, "PZN check digit wrong in the PPN.", "Clé de contrôle du PZN erronée dans le PPN.",
         "PZN-Prüfziffer im PPN falsch."),
]

CODES: dict[str, ReturnCode] = {row.name: row for row in _ROWS}


def code(name: str) -> ReturnCode:
    """Return the row for ``name`` (a KeyError names a programming error, not user input)."""
    return CODES[name]
