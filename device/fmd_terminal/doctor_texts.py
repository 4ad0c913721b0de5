"""What ``fmd-terminal doctor`` prints, in French, English and German (issue 12: doctor speaks ``--lang``).

Merged into the commands' texts (``outbox.texts``) by ``fmd_terminal.messages``. Each service answer
class has its own fix (``commands.doctor.service_fix``).
"""

from __future__ import annotations

_FR = {
    "d_config_ok": "configuration valide",
    "d_opened": "{url} ouvert",
    "d_library": "{url} : bibliothèque absente ({library})",
    "d_scanner_missing": "{url} : lecteur absent ({why})",
    "fix_library": "make venv (installe l'extra device)",
    "fix_scanner": "brancher le lecteur ; l'utilisateur doit être dans le groupe input (evdev) ou dialout "
                   "(série) ; voir les règles udev de device/system",
    "fix_screen": "vérifier le câblage et l'adresse de l'écran OLED (i2cdetect -y 1), activer l'I2C, groupe i2c",
    "fix_pins": "vérifier les numéros de broches BCM de l'URL indicators et le groupe gpio",
    "d_no_file": "aucun fichier de configuration (valeurs par défaut et options)",
    "d_world_writable": "{path} modifiable par tous ({mode})",
    "d_private": "{path} mode {mode} ; secrets privés",
    "d_answered": "{url} a répondu en {ms} ms",
    "d_not_answered": "{url} : {why}",
    "fix_credentials": "renseigner FMD_CLIENT_ID et FMD_CLIENT_SECRET ou un secrets_file",
    "fix_secret": "identifiant ou secret refusé : vérifier client_id et client_secret (ou FMD_CLIENT_ID / "
                  "FMD_CLIENT_SECRET)",
    "fix_path": "le service ne connaît pas ce chemin : vérifier le chemin de base de [service] url "
                "(par ex. https://hôte/api)",
    "fix_network": "service injoignable : vérifier le réseau, le nom d'hôte et le port de [service] url ; "
                   "les scans restent enregistrés hors ligne",
    "fix_client_cert": "certificat client refusé : installer un certificat valide (client_cert, client_key)",
    "fix_server_cert": "certificat du service non reconnu : vérifier ca_bundle et l'heure du terminal",
    "fix_busy": "service occupé ou en panne : réessayer plus tard ; les scans restent enregistrés hors ligne",
    "fix_service_other": "réponse inattendue : vérifier [service] url et l'état du service",
    "d_no_cert": "aucun certificat client configuré",
    "d_cert_unreadable": "{path} n'est pas un certificat PEM lisible",
    "d_cert_expired": "{path} expiré le {day}",
    "d_cert_not_yet": "{path} valide seulement à partir du {day}",
    "d_cert_expires": "{path} expire le {day}, dans {days} jours",
    "d_cert_valid": "{path} valide jusqu'au {day}",
    "fix_cert_renew": "demander un certificat client renouvelé à l'organisation nationale ; renseigner "
                      "client_cert et client_key",
    "fix_cert_clock": "vérifier l'heure ; sinon installer un certificat valide maintenant",
    "d_clock_wrong": "l'horloge indique {when}",
    "fix_clock_set": "se connecter à un réseau avec NTP, ou régler l'heure",
    "d_clock_unsynced": "{when}, non synchronisée",
    "fix_clock_sync": "activer systemd-timesyncd ou chrony ; la limite d'annulation demande une heure fiable",
    "d_clock_ok": "{when}, synchronisée",
    "d_storage": "{url} : {pending} en attente, {attention} à traiter",
    "d_free": "{mb} Mo libres",
    "fix_free": "libérer de la place sur la partition de données",
    "fix_attention": "fmd-terminal attention (les traiter)",
    "d_summary": "{ok} ok, {warn} avertissement(s), {fail} échec(s)",
    "d_fix": "à corriger : {names}",
    "fix": "à faire",
}

_EN = {
    "d_config_ok": "configuration valid",
    "d_opened": "{url} opened",
    "d_library": "{url}: library missing ({library})",
    "d_scanner_missing": "{url}: scanner absent ({why})",
    "fix_library": "make venv (installs the device extra)",
    "fix_scanner": "plug the scanner in; the user needs group 'input' (evdev) or 'dialout' (serial); "
                   "see device/system udev rules",
    "fix_screen": "check the OLED wiring and address (i2cdetect -y 1), enable I2C, group 'i2c'",
    "fix_pins": "check the BCM pin numbers in the indicators URL and group 'gpio'",
    "d_no_file": "no configuration file (defaults and flags)",
    "d_world_writable": "{path} is writable by everyone ({mode})",
    "d_private": "{path} mode {mode}; secrets private",
    "d_answered": "{url} answered in {ms} ms",
    "d_not_answered": "{url}: {why}",
    "fix_credentials": "set FMD_CLIENT_ID and FMD_CLIENT_SECRET or a secrets_file",
    "fix_secret": "login refused: check client_id and client_secret (or FMD_CLIENT_ID / FMD_CLIENT_SECRET)",
    "fix_path": "the service does not know this path: check the base path of [service] url "
                "(e.g. https://host/api)",
    "fix_network": "service not reachable: check the network, the host name and port of [service] url; "
                   "scans are still recorded offline",
    "fix_client_cert": "client certificate refused: install a valid certificate (client_cert, client_key)",
    "fix_server_cert": "the service's certificate is not trusted: check ca_bundle and the terminal's clock",
    "fix_busy": "the service is busy or down: try again later; scans are still recorded offline",
    "fix_service_other": "unexpected answer: check [service] url and the service's status",
    "d_no_cert": "no client certificate configured",
    "d_cert_unreadable": "{path} is not a readable PEM certificate",
    "d_cert_expired": "{path} expired on {day}",
    "d_cert_not_yet": "{path} not valid before {day}",
    "d_cert_expires": "{path} expires on {day}, in {days} days",
    "d_cert_valid": "{path} valid until {day}",
    "fix_cert_renew": "ask the national organisation for a renewed client certificate; set client_cert and "
                      "client_key",
    "fix_cert_clock": "check the clock; else install a certificate that is valid now",
    "d_clock_wrong": "the clock says {when}",
    "fix_clock_set": "connect to a network with NTP, or set the time",
    "d_clock_unsynced": "{when}, not synchronised",
    "fix_clock_sync": "enable systemd-timesyncd or chrony; the undo limit needs a trusted time",
    "d_clock_ok": "{when}, synchronised",
    "d_storage": "{url}: {pending} pending, {attention} need attention",
    "d_free": "{mb} MB free",
    "fix_free": "free space on the data partition",
    "fix_attention": "fmd-terminal attention (resolve them)",
    "d_summary": "{ok} ok, {warn} warning(s), {fail} failed",
    "d_fix": "fix: {names}",
    "fix": "fix",
}

_DE = {
    "d_config_ok": "Konfiguration gültig",
    "d_opened": "{url} geöffnet",
    "d_library": "{url}: Bibliothek fehlt ({library})",
    "d_scanner_missing": "{url}: Scanner fehlt ({why})",
    "fix_library": "make venv (installiert das Extra device)",
    "fix_scanner": "Scanner anschließen; der Benutzer braucht die Gruppe input (evdev) oder dialout (seriell); "
                   "siehe die udev-Regeln in device/system",
    "fix_screen": "Verkabelung und Adresse des OLED prüfen (i2cdetect -y 1), I2C aktivieren, Gruppe i2c",
    "fix_pins": "die BCM-Pinnummern in der indicators-URL und die Gruppe gpio prüfen",
    "d_no_file": "keine Konfigurationsdatei (Standardwerte und Optionen)",
    "d_world_writable": "{path} ist für alle schreibbar ({mode})",
    "d_private": "{path} Modus {mode}; Geheimnisse privat",
    "d_answered": "{url} hat in {ms} ms geantwortet",
    "d_not_answered": "{url}: {why}",
    "fix_credentials": "FMD_CLIENT_ID und FMD_CLIENT_SECRET oder eine secrets_file angeben",
    "fix_secret": "Anmeldung abgelehnt: client_id und client_secret prüfen (oder FMD_CLIENT_ID / "
                  "FMD_CLIENT_SECRET)",
    "fix_path": "der Dienst kennt diesen Pfad nicht: den Basispfad von [service] url prüfen "
                "(z. B. https://host/api)",
    "fix_network": "Dienst nicht erreichbar: Netz, Hostname und Port von [service] url prüfen; "
                   "Scans werden weiter offline erfasst",
    "fix_client_cert": "Client-Zertifikat abgelehnt: ein gültiges Zertifikat installieren (client_cert, client_key)",
    "fix_server_cert": "dem Zertifikat des Dienstes wird nicht vertraut: ca_bundle und die Uhr des Terminals prüfen",
    "fix_busy": "der Dienst ist ausgelastet oder gestört: später erneut versuchen; Scans werden weiter offline "
                "erfasst",
    "fix_service_other": "unerwartete Antwort: [service] url und den Zustand des Dienstes prüfen",
    "d_no_cert": "kein Client-Zertifikat konfiguriert",
    "d_cert_unreadable": "{path} ist kein lesbares PEM-Zertifikat",
    "d_cert_expired": "{path} abgelaufen am {day}",
    "d_cert_not_yet": "{path} erst gültig ab {day}",
    "d_cert_expires": "{path} läuft am {day} ab, in {days} Tagen",
    "d_cert_valid": "{path} gültig bis {day}",
    "fix_cert_renew": "bei der nationalen Organisation ein erneuertes Client-Zertifikat anfordern; client_cert "
                      "und client_key setzen",
    "fix_cert_clock": "die Uhr prüfen; sonst ein jetzt gültiges Zertifikat installieren",
    "d_clock_wrong": "die Uhr zeigt {when}",
    "fix_clock_set": "mit einem Netz mit NTP verbinden oder die Uhr stellen",
    "d_clock_unsynced": "{when}, nicht synchronisiert",
    "fix_clock_sync": "systemd-timesyncd oder chrony aktivieren; die Rücknahmefrist braucht eine verlässliche Zeit",
    "d_clock_ok": "{when}, synchronisiert",
    "d_storage": "{url}: {pending} wartend, {attention} zu bearbeiten",
    "d_free": "{mb} MB frei",
    "fix_free": "Platz auf der Datenpartition freigeben",
    "fix_attention": "fmd-terminal attention (bearbeiten)",
    "d_summary": "{ok} ok, {warn} Warnung(en), {fail} Fehler",
    "d_fix": "zu beheben: {names}",
    "fix": "zu tun",
}

DOCTOR = {"fr": _FR, "en": _EN, "de": _DE}
