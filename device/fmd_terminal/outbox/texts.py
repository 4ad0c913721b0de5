"""What the outbox commands (``attention``, ``sync``, ``export``) print for a person, in French, English, German.

ARCHITECTURE.md: user-facing messages exist in French (the default), English and German. The
terminal's gettext catalogues (``fmd_terminal.i18n``) hold the screen's texts; these command-line
texts are a small table of their own, like ``commands.calibrate`` and ``commands.decode`` keep, so
the commands' wording can change without recompiling the screen's catalogues.

The language comes from ``--lang``, else the ``FMD_LANG`` environment variable, else French.
Machine-readable output (JSON lines, CSV column names, the tokens a person types such as ``retry``
or ``never_left_pharmacy``) stays as it is; only the words around it are translated.

The procedures per return code are the project's defaults for OFFLINE-QUEUE.md section 8; the
France MVS wording is to be confirmed with the NMVO.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from fmd_terminal.errors import ConfigError
from fmd_terminal.i18n import DEFAULT_LANGUAGE, LANGUAGES

LANG_HELP = "language of the texts for a person: fr, en or de (default: $FMD_LANG, else fr)"

_FR = {
    # attention list
    "nothing": "rien à traiter",
    "entry": "opération {seq} : {kind}{offline} {product_code} n° de série {serial} lot {batch} par {user}, "
             "heure {time_quality}",
    "offline": " (enregistrée hors ligne)",
    "service": "  service : {code} {description} alerte {alert_id} ({alert_code}) transaction {trx} le {time}",
    "terminal": "  terminal : {attempts} tentative(s), {verifies} vérification(s) de rapprochement ; "
                "bloque {blocks}",
    "blocks_nothing": "rien",
    "procedure": "  procédure : {text}",
    "actions": "  actions : réessayer (attention retry {seq} --user QUI --rescan CODE), accepter la réponse "
               "(attention accept {seq} --user QUI), annuler (attention cancel {seq} --user QUI --reason MOTIF)",
    "resolved": "opération {seq} : {state}",
    "resumed": "file d'envoi reprise (pause : {cause})",
    "not_paused": "aucune",
    # attention refusals
    "needs_user": "attention {action} demande --user (la personne qui agit est enregistrée)",
    "needs_seq": "attention {action} demande le numéro de l'opération",
    "no_op": "aucune opération n° {seq}. fmd-terminal attention liste les opérations à traiter",
    "not_attention": "l'opération {seq} est {state} : seule une opération à traiter peut être résolue",
    "cancel_reason": "une annulation demande --reason parmi {reasons}",
    "cancel_note": "une annulation pour un autre motif demande --note",
    "retry_rescan": "réessayer demande --rescan avec la même boîte scannée à nouveau (code produit, "
                    "n° de série, lot, date de péremption)",
    "bad_rescan": "--rescan {raw} n'est pas un code de boîte lisible",
    # sync
    "no_service": "aucun service de vérification : renseigner [service] url dans la configuration ou --service URL",
    "run_beside": "{path} : un autre processus (un terminal ou fmd-terminal sync) a la file ouverte ; "
                  "deux envois sur la même file pourraient désactiver deux fois une boîte. L'arrêter d'abord",
    "sync_beside": "{path} : un autre processus (le terminal ?) a la file ouverte ; un second envoi "
                   "enverrait deux fois la même boîte. Arrêter le terminal avant fmd-terminal sync",
    "pending": "fmd-terminal : {count} opération(s) encore en attente après {timeout} s :",
    "pending_op": "  opération {seq} {kind} {state} n° de série ...{serial} dernière erreur : {error}",
    # export
    "exported": "{count} opération(s) exportée(s)",
    "receipts_listed": "{count} réception(s) listée(s), {files} fichier(s) écrit(s)",
    "export_needs": "export demande --csv FICHIER et/ou --jsonl FICHIER",
    "excel_needs_csv": "--excel s'applique au CSV : ajouter --csv FICHIER",
    # report
    "report_needs": "report demande --quarter (le trimestre en cours) ou --quarter 2026Q4",
    "report_quarter": "trimestre {quarter} : {count} boîte(s) désactivée(s) acceptée(s) par le service ; dernière : {last}",
    "report_never": "aucune",
    # account
    "account_password": "mot de passe renouvelé (fait sur le terminal)",
    "account_certificate": "certificat renouvelé avec une nouvelle clé : {path}",
    "account_terms": "conditions générales acceptées",
    "account_due": "{what} : {left} jour(s) restant(s)",
    "account_expired": "{what} : expiré",
    "account_nothing_due": "rien à renouveler dans les 30 jours",
    "account_needs_dir": "l'entretien du compte demande enrolment_dir dans la configuration (là où fmd-terminal enrol a écrit les identifiants)",
    "kind_password": "mot de passe", "kind_certificate": "certificat", "kind_terms": "conditions générales à accepter",
    # enrol
    "not_enrolled": "terminal non inscrit : aucun code d'inscription n'a été lu ; ouvrir la page d'abonnement et scanner son code",
    "enrolled": "inscrit : {name} (FINESS {finess}, {route}) ; identifiants dans {directory}",
    "enrol_needs": "enrol demande le texte du code, ou --file FICHIER (- pour l'entrée standard), et un dossier d'inscription (enrolment_dir dans la configuration, ou --dir)",
    "report_open": "{count} désactivation(s) de ce trimestre encore en attente ou à traiter (fmd-terminal attention)",
    "cannot_write": "impossible d'écrire {path} : {why}",
    "none": "-",
    # backup
    "backup_needs_file": "--outbox {url} : la sauvegarde demande une file sur fichier, sqlite:///chemin/outbox.db",
    "backup_needs": "rien à faire : indiquer --to FICHIER, --prune-older-than JOURS ou --restore FICHIER",
    "prune_days": "--prune-older-than demande un nombre de jours, 0 ou plus",
    "restore_and_prune": "--restore et --prune-older-than ne vont pas ensemble",
    "restore_exists": "{path} : une file existe déjà ; --force la remplace (elle est mise de côté, pas effacée)",
    "restore_open": "{path} : un terminal a la file ouverte ; l'arrêter avant de restaurer",
    "backed_up": "sauvegarde de {ops} opération(s) dans {to}",
    "pruned": "{ops} opération(s) terminée(s) de plus de {days} jours supprimée(s) (une sauvegarde les garde)",
    "restored": "{path} restaurée : {ops} opération(s) ; ancienne file mise de côté : {replaced}",
}

_EN = {
    "nothing": "nothing needs attention",
    "entry": "seq {seq}: {kind}{offline} {product_code} serial {serial} batch {batch} by {user}, time {time_quality}",
    "offline": " (recorded offline)",
    "service": "  service: {code} {description} alert {alert_id} ({alert_code}) trx {trx} at {time}",
    "terminal": "  terminal: {attempts} attempt(s), {verifies} reconciling verify; blocks {blocks}",
    "blocks_nothing": "nothing",
    "procedure": "  procedure: {text}",
    "actions": "  actions: retry (attention retry {seq} --user WHO --rescan CODE), accept the service's answer "
               "(attention accept {seq} --user WHO), cancel (attention cancel {seq} --user WHO --reason REASON)",
    "resolved": "seq {seq}: {state}",
    "resumed": "queue resumed (was paused: {cause})",
    "not_paused": "not paused",
    "needs_user": "attention {action} needs --user (who acts is recorded)",
    "needs_seq": "attention {action} needs the op's seq",
    "no_op": "no op with seq {seq}. fmd-terminal attention lists the ops that need a person",
    "not_attention": "op {seq} is {state}: only an op that needs attention can be resolved",
    "cancel_reason": "a cancel needs --reason, one of {reasons}",
    "cancel_note": "a cancel for another reason needs --note",
    "retry_rescan": "retry needs --rescan with the same pack scanned again (product code, serial, batch, expiry)",
    "bad_rescan": "--rescan {raw} is not a readable pack code",
    "no_service": "no verification service: set [service] url in the configuration or --service URL",
    "run_beside": "{path}: another process (a terminal or fmd-terminal sync) has the outbox open; two "
                  "senders on one outbox could decommission a pack twice. Stop it first",
    "sync_beside": "{path}: another process (the terminal?) has the outbox open; a second sync could send "
                   "the same pack twice. Stop the terminal before fmd-terminal sync",
    "pending": "fmd-terminal: {count} operation(s) still pending after {timeout} s:",
    "pending_op": "  seq {seq} {kind} {state} serial ...{serial} last error: {error}",
    "exported": "{count} operation(s) exported",
    "receipts_listed": "{count} receipt(s) listed, {files} file(s) written",
    "export_needs": "export needs --csv FILE and/or --jsonl FILE",
    "excel_needs_csv": "--excel applies to the CSV file: add --csv FILE",
    # report
    "report_needs": "report needs --quarter (the current quarter) or --quarter 2026Q4",
    "report_quarter": "quarter {quarter}: {count} pack(s) decommissioned and accepted by the service; last: {last}",
    "report_never": "none",
    # account
    "account_password": "password renewed (made on the terminal)",
    "account_certificate": "certificate renewed with a new key: {path}",
    "account_terms": "terms and conditions accepted",
    "account_due": "{what}: {left} day(s) left",
    "account_expired": "{what}: expired",
    "account_nothing_due": "nothing to renew within 30 days",
    "account_needs_dir": "account upkeep needs enrolment_dir in the configuration (where fmd-terminal enrol wrote the credentials)",
    "kind_password": "password", "kind_certificate": "certificate", "kind_terms": "terms to accept",
    # enrol
    "not_enrolled": "terminal not enrolled: no enrolment code was read; open the subscription page and scan its code",
    "enrolled": "enrolled: {name} (FINESS {finess}, {route}); credentials in {directory}",
    "enrol_needs": "enrol needs the code's text, or --file FILE (- for standard input), and an enrolment directory (enrolment_dir in the configuration, or --dir)",
    "report_open": "{count} decommission(s) of this quarter still pending or needing attention (fmd-terminal attention)",
    "cannot_write": "cannot write {path}: {why}",
    "none": "-",
    "backup_needs_file": "--outbox {url}: backups need a file outbox, sqlite:///path/outbox.db",
    "backup_needs": "nothing to do: give --to FILE, --prune-older-than DAYS or --restore FILE",
    "prune_days": "--prune-older-than needs a number of days, 0 or more",
    "restore_and_prune": "--restore and --prune-older-than do not go together",
    "restore_exists": "{path}: an outbox exists; --force replaces it (it is kept aside, not deleted)",
    "restore_open": "{path}: a terminal has the outbox open; stop it before restoring",
    "backed_up": "backup of {ops} operation(s) written to {to}",
    "pruned": "{ops} final operation(s) older than {days} days deleted (a backup holds them)",
    "restored": "{path} restored: {ops} operation(s); the replaced outbox is kept aside: {replaced}",
}

_DE = {
    "nothing": "nichts zu bearbeiten",
    "entry": "Vorgang {seq}: {kind}{offline} {product_code} Seriennummer {serial} Charge {batch} von {user}, "
             "Zeit {time_quality}",
    "offline": " (offline erfasst)",
    "service": "  Service: {code} {description} Alarm {alert_id} ({alert_code}) Transaktion {trx} am {time}",
    "terminal": "  Terminal: {attempts} Versuch(e), {verifies} Abgleichsprüfung(en); blockiert {blocks}",
    "blocks_nothing": "nichts",
    "procedure": "  Vorgehen: {text}",
    "actions": "  Aktionen: erneut senden (attention retry {seq} --user WER --rescan CODE), Antwort annehmen "
               "(attention accept {seq} --user WER), stornieren (attention cancel {seq} --user WER --reason GRUND)",
    "resolved": "Vorgang {seq}: {state}",
    "resumed": "Warteschlange fortgesetzt (war pausiert: {cause})",
    "not_paused": "nicht pausiert",
    "needs_user": "attention {action} braucht --user (wer handelt, wird festgehalten)",
    "needs_seq": "attention {action} braucht die Nummer des Vorgangs",
    "no_op": "kein Vorgang mit Nummer {seq}. fmd-terminal attention listet die zu bearbeitenden Vorgänge",
    "not_attention": "Vorgang {seq} ist {state}: nur ein Vorgang, der zu bearbeiten ist, kann erledigt werden",
    "cancel_reason": "eine Stornierung braucht --reason, eines von {reasons}",
    "cancel_note": "eine Stornierung aus anderem Grund braucht --note",
    "retry_rescan": "erneut senden braucht --rescan mit derselben, erneut gescannten Packung (Produktcode, "
                    "Seriennummer, Charge, Verfalldatum)",
    "bad_rescan": "--rescan {raw} ist kein lesbarer Packungscode",
    "no_service": "kein Verifikationsdienst: [service] url in der Konfiguration oder --service URL angeben",
    "run_beside": "{path}: ein anderer Prozess (ein Terminal oder fmd-terminal sync) hat die Warteschlange "
                  "geöffnet; zwei Sender könnten eine Packung doppelt deaktivieren. Zuerst beenden",
    "sync_beside": "{path}: ein anderer Prozess (das Terminal?) hat die Warteschlange geöffnet; ein zweites "
                   "Senden könnte dieselbe Packung doppelt senden. Terminal vor fmd-terminal sync beenden",
    "pending": "fmd-terminal: {count} Vorgang/Vorgänge nach {timeout} s noch offen:",
    "pending_op": "  Vorgang {seq} {kind} {state} Seriennummer ...{serial} letzter Fehler: {error}",
    "exported": "{count} Vorgang/Vorgänge exportiert",
    "receipts_listed": "{count} Wareneingang/-gänge aufgeführt, {files} Datei(en) geschrieben",
    "export_needs": "export braucht --csv DATEI und/oder --jsonl DATEI",
    "excel_needs_csv": "--excel gilt für die CSV-Datei: --csv DATEI angeben",
    # report
    "report_needs": "report braucht --quarter (das laufende Quartal) oder --quarter 2026Q4",
    "report_quarter": "Quartal {quarter}: {count} Packung(en) ausgebucht und vom Dienst angenommen; letzte: {last}",
    "report_never": "keine",
    # account
    "account_password": "Passwort erneuert (auf dem Terminal erzeugt)",
    "account_certificate": "Zertifikat mit neuem Schlüssel erneuert: {path}",
    "account_terms": "Geschäftsbedingungen angenommen",
    "account_due": "{what}: noch {left} Tag(e)",
    "account_expired": "{what}: abgelaufen",
    "account_nothing_due": "in den nächsten 30 Tagen nichts zu erneuern",
    "account_needs_dir": "die Kontopflege braucht enrolment_dir in der Konfiguration (wo fmd-terminal enrol die Zugangsdaten ablegte)",
    "kind_password": "Passwort", "kind_certificate": "Zertifikat", "kind_terms": "Geschäftsbedingungen annehmen",
    # enrol
    "not_enrolled": "Terminal nicht registriert: kein Registrierungscode gelesen; Abonnementseite öffnen und ihren Code scannen",
    "enrolled": "registriert: {name} (FINESS {finess}, {route}); Zugangsdaten in {directory}",
    "enrol_needs": "enrol braucht den Text des Codes oder --file DATEI (- für die Standardeingabe) und ein Registrierungsverzeichnis (enrolment_dir in der Konfiguration oder --dir)",
    "report_open": "{count} Ausbuchung(en) dieses Quartals noch wartend oder zu bearbeiten (fmd-terminal attention)",
    "cannot_write": "{path} kann nicht geschrieben werden: {why}",
    "none": "-",
    "backup_needs_file": "--outbox {url}: Sicherungen brauchen eine Warteschlange in einer Datei, "
                         "sqlite:///pfad/outbox.db",
    "backup_needs": "nichts zu tun: --to DATEI, --prune-older-than TAGE oder --restore DATEI angeben",
    "prune_days": "--prune-older-than braucht eine Anzahl Tage, 0 oder mehr",
    "restore_and_prune": "--restore und --prune-older-than gehen nicht zusammen",
    "restore_exists": "{path}: eine Warteschlange existiert; --force ersetzt sie (sie wird beiseitegelegt, "
                      "nicht gelöscht)",
    "restore_open": "{path}: ein Terminal hat die Warteschlange geöffnet; vor dem Wiederherstellen beenden",
    "backed_up": "Sicherung von {ops} Vorgang/Vorgängen nach {to} geschrieben",
    "pruned": "{ops} abgeschlossene(r) Vorgang/Vorgänge älter als {days} Tage gelöscht (eine Sicherung "
              "enthält sie)",
    "restored": "{path} wiederhergestellt: {ops} Vorgang/Vorgänge; die ersetzte Warteschlange liegt "
                "beiseite: {replaced}",
}

# Operation kinds (OFFLINE-QUEUE.md section 3), states (4.1), answer classes (4.1, 4.3), time quality (7).
_WORDS = {
    "fr": {
        "verify": "vérification", "dispense": "délivrance", "undo_dispense": "annulation de délivrance",
        "destroy": "destruction",
        "queued": "en attente", "in_flight": "en cours d'envoi", "uncertain": "incertaine", "done": "terminée",
        "rejected": "refusée", "needs_attention": "à traiter", "cancelled": "annulée",
        "success": "succès", "refused": "refus du service", "invalid": "donnée refusée comme invalide",
        "not_sent": "non envoyée", "retry_later": "service occupé, nouvel essai plus tard",
        "unknown": "issue inconnue", "duplicate_id": "identifiant de transaction déjà utilisé",
        "not_applied": "vérifiée : pas encore reçue par le service, elle sera renvoyée",
        "pause_auth": "connexion refusée", "pause_cert": "certificat", "pause_clock": "attente de l'heure correcte",
        "pause_software": "interface incompatible",
        "exact": "exacte", "corrected": "corrigée", "bounded": "encadrée", "unknown_time": "inconnue",
    },
    "en": {
        "verify": "verify", "dispense": "dispense", "undo_dispense": "undo dispense", "destroy": "destroy",
        "queued": "queued", "in_flight": "in flight", "uncertain": "uncertain", "done": "done",
        "rejected": "rejected", "needs_attention": "needs attention", "cancelled": "cancelled",
        "success": "success", "refused": "refused by the service", "invalid": "refused as invalid",
        "not_sent": "not sent", "retry_later": "service busy, retry later", "unknown": "outcome unknown",
        "duplicate_id": "transaction id already used",
        "not_applied": "checked: not yet received by the service, it will be sent again",
        "pause_auth": "login refused", "pause_cert": "certificate", "pause_clock": "waiting for correct time",
        "pause_software": "interface mismatch",
        "exact": "exact", "corrected": "corrected", "bounded": "bounded", "unknown_time": "unknown",
    },
    "de": {
        "verify": "Prüfung", "dispense": "Abgabe", "undo_dispense": "Rücknahme der Abgabe", "destroy": "Vernichtung",
        "queued": "wartend", "in_flight": "wird gesendet", "uncertain": "ungewiss", "done": "erledigt",
        "rejected": "abgelehnt", "needs_attention": "zu bearbeiten", "cancelled": "storniert",
        "success": "Erfolg", "refused": "vom Dienst abgelehnt", "invalid": "als ungültig abgelehnt",
        "not_sent": "nicht gesendet", "retry_later": "Dienst ausgelastet, später erneut",
        "unknown": "Ausgang unbekannt", "duplicate_id": "Transaktionsnummer schon verwendet",
        "not_applied": "geprüft: beim Dienst noch nicht angekommen, wird erneut gesendet",
        "pause_auth": "Anmeldung abgelehnt", "pause_cert": "Zertifikat", "pause_clock": "warte auf korrekte Uhrzeit",
        "pause_software": "Schnittstelle passt nicht",
        "exact": "exakt", "corrected": "korrigiert", "bounded": "eingegrenzt", "unknown_time": "unbekannt",
    },
}

# The recommended procedure per return code (OFFLINE-QUEUE.md section 8); "" is any other code.
PROCEDURES = {
    "fr": {
        "NMVS_NC_PC_02": "Mettre la boîte en quarantaine ; suivre la procédure d'alerte (n° de série inconnu).",
        "NMVS_FE_LOT_03": "Mettre la boîte en quarantaine ; suivre la procédure d'alerte (lot inconnu).",
        "NMVS_FE_LOT_12": "Mettre la boîte en quarantaine ; suivre la procédure d'alerte (péremption différente).",
        "NMVS_FE_LOT_13": "Mettre la boîte en quarantaine ; suivre la procédure d'alerte (lot différent).",
        "NMVS_NC_PCK_19": "Boîte déjà désactivée ailleurs : ne pas délivrer ; vérifier avec le fournisseur.",
        "NMVS_NC_PCK_22": "Boîte inactive pour une autre raison : ne pas délivrer ; la mettre en quarantaine.",
        "NMVS_NC_PCK_20": "Délai d'annulation dépassé : la boîte reste désactivée ; la mettre de côté.",
        "NMVS_FE_LOT_01": "Lot rappelé : ne pas délivrer ; le retourner selon l'avis de rappel.",
        "NMVS_FE_LOT_08": "Lot ou produit retiré : ne pas délivrer.",
        "NMVS_NC_PCK_02": "Boîte périmée : ne pas délivrer.",
        "": "Vérifier la boîte et le portail du service.",
    },
    "en": {
        "NMVS_NC_PC_02": "Quarantine the pack; follow the alert procedure (serial unknown).",
        "NMVS_FE_LOT_03": "Quarantine the pack; follow the alert procedure (batch unknown).",
        "NMVS_FE_LOT_12": "Quarantine the pack; follow the alert procedure (expiry mismatch).",
        "NMVS_FE_LOT_13": "Quarantine the pack; follow the alert procedure (batch mismatch).",
        "NMVS_NC_PCK_19": "Pack already decommissioned elsewhere: do not supply; check with the supplier.",
        "NMVS_NC_PCK_22": "Pack inactive for another reason: do not supply; quarantine it.",
        "NMVS_NC_PCK_20": "Undo period over: the pack stays decommissioned; keep it aside.",
        "NMVS_FE_LOT_01": "Batch recalled: do not supply; return it as the recall notice says.",
        "NMVS_FE_LOT_08": "Batch or product withdrawn: do not supply.",
        "NMVS_NC_PCK_02": "Pack expired: do not supply.",
        "": "Check the pack and the service's portal.",
    },
    "de": {
        "NMVS_NC_PC_02": "Packung in Quarantäne nehmen; dem Alarmverfahren folgen (Seriennummer unbekannt).",
        "NMVS_FE_LOT_03": "Packung in Quarantäne nehmen; dem Alarmverfahren folgen (Charge unbekannt).",
        "NMVS_FE_LOT_12": "Packung in Quarantäne nehmen; dem Alarmverfahren folgen (Verfalldatum abweichend).",
        "NMVS_FE_LOT_13": "Packung in Quarantäne nehmen; dem Alarmverfahren folgen (Charge abweichend).",
        "NMVS_NC_PCK_19": "Packung anderswo schon ausgebucht: nicht abgeben; mit dem Lieferanten klären.",
        "NMVS_NC_PCK_22": "Packung aus anderem Grund inaktiv: nicht abgeben; in Quarantäne nehmen.",
        "NMVS_NC_PCK_20": "Rücknahmefrist abgelaufen: die Packung bleibt ausgebucht; beiseitelegen.",
        "NMVS_FE_LOT_01": "Charge zurückgerufen: nicht abgeben; wie im Rückruf beschrieben zurücksenden.",
        "NMVS_FE_LOT_08": "Charge oder Produkt zurückgezogen: nicht abgeben.",
        "NMVS_NC_PCK_02": "Packung verfallen: nicht abgeben.",
        "": "Packung und Portal des Dienstes prüfen.",
    },
}

def _tables() -> dict[str, dict[str, str]]:
    """These texts and the terminal's problem messages (``fmd_terminal.messages``), by language."""
    from fmd_terminal.messages import MESSAGES

    return {lang: {**table, **MESSAGES[lang]} for lang, table in (("fr", _FR), ("en", _EN), ("de", _DE))}


_TABLES = _tables()


class Phrase:
    """A text to be rendered in the reader's language inside another (``allowed`` in a config message)."""

    __slots__ = ("text_id", "fields")

    def __init__(self, text_id: str, **fields: object) -> None:
        self.text_id = text_id
        self.fields = fields

    def __repr__(self) -> str:
        return f"Phrase({self.text_id!r}, {self.fields!r})"


def language(lang: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``--lang`` if given, else ``FMD_LANG``, else French; an unknown ``FMD_LANG`` is a configuration error."""
    if lang:
        return lang
    value = (os.environ if environ is None else environ).get("FMD_LANG", "").strip()
    if not value:
        return DEFAULT_LANGUAGE
    if value not in LANGUAGES:
        raise ConfigError.text("bad_fmd_lang", value=repr(value), known=", ".join(LANGUAGES))
    return value


class Texts:
    """The commands' texts in one language: ``texts("entry", seq=1, ...)``, ``texts.word("queued")``."""

    __slots__ = ("lang", "_table", "_words")

    def __init__(self, lang: str | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.lang = language(lang, environ)
        self._table = _TABLES[self.lang]
        self._words = _WORDS[self.lang]

    def __call__(self, key: str, /, **fields: object) -> str:
        text = self._table[key]
        if not fields:
            return text
        return text.format(**{name: self(value.text_id, **value.fields) if isinstance(value, Phrase) else value
                              for name, value in fields.items()})

    def word(self, token: str | None) -> str:
        """A kind, state, answer class or pause class as a person reads it; an unknown token as it is."""
        if not token:
            return self._table["none"]
        return self._words.get(token, token)

    def time_quality(self, quality: str | None) -> str:
        return self._words["unknown_time"] if quality in (None, "unknown") else self.word(quality)

    def procedure(self, return_code: str | None) -> str:
        table = PROCEDURES[self.lang]
        return table.get(return_code or "", table[""])
