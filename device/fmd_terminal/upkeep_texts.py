"""What a pharmacist or installer meets keeping a terminal up, in French, English and German: installing a
release bundle (``fmd-terminal update``), backups and restores, the quarter report, enrolment from a file
and the account upkeep (ARCHITECTURE.md: one line, the problem and the fix, in the person's language).

Merged into the commands' texts (``outbox.texts``) by ``fmd_terminal.messages``; an error names one with
``TerminalError.text(id, **fields)``.
"""

from __future__ import annotations

_FR = {
    # fmd-terminal update: the command
    "update_needs": "update demande un fichier de version (fmd-terminal-VERSION.tar) ou --rollback",
    "update_switched": "fmd-terminal : version {version} installée, le terminal l'utilise désormais",
    "update_back": "fmd-terminal : retour à la version {version}",
    "update_key_unreadable": "la clé de publication {path} est illisible ({why}) : install.sh la copie depuis le "
                             "release.pub du paquet de l'appareil. La réinstaller",
    "update_restart": "version installée, mais systemctl restart {service} a échoué : {why}. Redémarrer le "
                      "service à la main",
    "update_no_previous": "aucune version précédente sur laquelle revenir",
    # the bundle and its signed manifest
    "bundle_not": "{path} n'est pas un paquet de version : {why}. Vérifier le fichier téléchargé",
    "bundle_member_missing": "{path} n'est pas un paquet de version : {name} manque. Télécharger le paquet à "
                             "nouveau",
    "bundle_extra": "le paquet contient des fichiers que son manifeste signé ne nomme pas : {names}. Ne pas "
                    "l'installer ; demander un paquet officiel",
    "bundle_lacks": "il manque au paquet {name}, que son manifeste signé nomme. Télécharger le paquet à nouveau",
    "bundle_digest": "{name} dans le paquet n'est pas le fichier signé (SHA-256 différent). Ne pas l'installer ; "
                     "demander un paquet officiel",
    "bundle_signature": "la signature du paquet n'est pas valable : il a été modifié après signature, ou signé "
                        "avec une autre clé. Ne pas l'installer ; demander un paquet officiel",
    "bundle_manifest": "le manifeste du paquet est illisible ({why}). Demander un paquet officiel",
    "bundle_format": "le manifeste du paquet est au format {format} inconnu ici : mettre d'abord fmd-terminal à jour",
    "bundle_version": "version {version} refusée : attendu un nombre pointé tel que 1.4.0",
    "release_key": "la clé de publication n'est pas une clé publique Ed25519 au format PEM. Réinstaller "
                   "release.pub depuis le paquet de l'appareil",
    "update_downgrade": "la version {version} est plus ancienne que la version en service {known} : un retour en "
                        "arrière est refusé",
    "update_below_floor": "la version {version} est sous la version minimale admise ici, {known} : un retour en "
                          "arrière est refusé",
    "update_same": "la version {version} est déjà en service : rien à faire",
    "update_step_slow": "{step} n'a pas fini en {seconds} s. Relancer la mise à jour ; la version en service "
                        "reste active",
    "update_step_start": "{step} ne démarre pas : {why}. Vérifier l'installation (make venv ou install.sh)",
    "update_step_failed": "{step} a échoué (code {code}) : {output}. La version en service reste active",
    # backups and restores
    "backup_check": "{path} : la sauvegarde est endommagée (contrôle d'intégrité : {why}). Prendre une autre "
                    "sauvegarde",
    "backup_no_directory": "{path} : le dossier n'existe pas. Le créer, ou choisir un autre --to",
    "backup_is_outbox": "{path} est la file elle-même. Choisir un autre fichier pour --to",
    "backup_failed": "la sauvegarde de {outbox} vers {path} a échoué : {why}. Vérifier la place libre et les "
                     "droits du dossier",
    "restore_raced": "{path} : un terminal a ouvert la file pendant la restauration ; rien n'a été remplacé. "
                     "Arrêter le terminal, puis restaurer à nouveau",
    # other commands
    "file_unreadable": "impossible de lire {path} : {why}. Vérifier le chemin",
    "bad_quarter": "--quarter {value} refusé. Attendu un trimestre tel que 2026Q4",
    "outbox_no_file": "l'URL de la file {url} ne nomme aucun fichier. Attendu : sqlite:///chemin/outbox.db",
    "outbox_newer": "{path} : file au schéma {version}, ce logiciel connaît le {known}. Mettre fmd-terminal à jour "
                    "(ou revenir à la version qui l'a écrite : update --rollback)",
    "account_needs_rest": "cette démarche de compte demande le service REST (https://...) ; en SOAP seul le "
                          "changement de mot de passe (G445) est possible",
    "account_answer": "{what} : le service a répondu {answer}. Réessayer plus tard, ou voir le portail du service",
}

_EN = {
    "update_needs": "update needs a bundle file (fmd-terminal-VERSION.tar) or --rollback",
    "update_switched": "fmd-terminal: version {version} installed and switched to",
    "update_back": "fmd-terminal: back on version {version}",
    "update_key_unreadable": "the release key {path} cannot be read ({why}): install.sh copies it from the device "
                             "bundle's release.pub. Install it again",
    "update_restart": "switched, but systemctl restart {service} failed: {why}. Restart the service by hand",
    "update_no_previous": "there is no previous release to fall back to",
    "bundle_not": "{path} is not a release bundle: {why}. Check the downloaded file",
    "bundle_member_missing": "{path} is not a release bundle: {name} is missing. Download the bundle again",
    "bundle_extra": "the bundle holds files its signed manifest does not name: {names}. Do not install it; ask for "
                    "an official bundle",
    "bundle_lacks": "the bundle lacks {name}, which its signed manifest names. Download the bundle again",
    "bundle_digest": "{name} in the bundle is not the file that was signed (SHA-256 differs). Do not install it; "
                     "ask for an official bundle",
    "bundle_signature": "the bundle's signature does not verify: it was changed after signing, or signed with "
                        "another key. Do not install it; ask for an official bundle",
    "bundle_manifest": "the bundle's manifest cannot be read ({why}). Ask for an official bundle",
    "bundle_format": "the bundle's manifest is in format {format}, unknown here: update fmd-terminal first",
    "bundle_version": "release version {version} refused: expected a dotted number such as 1.4.0",
    "release_key": "the release key is not an Ed25519 public key in PEM. Install release.pub again from the "
                   "device bundle",
    "update_downgrade": "version {version} is older than the running version {known}: a downgrade is refused",
    "update_below_floor": "version {version} is below the lowest version allowed here, {known}: a downgrade is "
                          "refused",
    "update_same": "version {version} is already running: nothing to do",
    "update_step_slow": "{step} did not finish within {seconds} s. Run the update again; the running version "
                        "stays in service",
    "update_step_start": "{step} cannot start: {why}. Check the installation (make venv or install.sh)",
    "update_step_failed": "{step} failed (exit {code}): {output}. The running version stays in service",
    "backup_check": "{path}: the backup is damaged (integrity check: {why}). Take another backup",
    "backup_no_directory": "{path}: the directory does not exist. Create it, or choose another --to",
    "backup_is_outbox": "{path} is the outbox itself. Choose another file for --to",
    "backup_failed": "backup of {outbox} to {path} failed: {why}. Check the free space and the directory's "
                     "permissions",
    "restore_raced": "{path}: a terminal opened the outbox during the restore; nothing replaced. Stop the terminal, "
                     "then restore again",
    "file_unreadable": "cannot read {path}: {why}. Check the path",
    "bad_quarter": "--quarter {value} refused. Expected a quarter such as 2026Q4",
    "outbox_no_file": "the outbox URL {url} names no file. Expected: sqlite:///path/outbox.db",
    "outbox_newer": "{path}: outbox schema version {version}, this software knows {known}. Update fmd-terminal (or "
                    "go back to the version that wrote it: update --rollback)",
    "account_needs_rest": "this account upkeep needs the REST service (https://...); over SOAP only the password "
                          "change (G445) is available",
    "account_answer": "{what}: the service answered {answer}. Try again later, or see the service's portal",
}

_DE = {
    "update_needs": "update braucht eine Versionsdatei (fmd-terminal-VERSION.tar) oder --rollback",
    "update_switched": "fmd-terminal: Version {version} installiert, das Terminal verwendet sie jetzt",
    "update_back": "fmd-terminal: zurück auf Version {version}",
    "update_key_unreadable": "der Veröffentlichungsschlüssel {path} kann nicht gelesen werden ({why}): install.sh "
                             "kopiert ihn aus release.pub des Gerätepakets. Neu installieren",
    "update_restart": "umgeschaltet, aber systemctl restart {service} ist fehlgeschlagen: {why}. Den Dienst von "
                      "Hand neu starten",
    "update_no_previous": "es gibt keine frühere Version, zu der zurückgekehrt werden kann",
    "bundle_not": "{path} ist kein Versionspaket: {why}. Die heruntergeladene Datei prüfen",
    "bundle_member_missing": "{path} ist kein Versionspaket: {name} fehlt. Das Paket erneut herunterladen",
    "bundle_extra": "das Paket enthält Dateien, die sein signiertes Manifest nicht nennt: {names}. Nicht "
                    "installieren; ein offizielles Paket anfordern",
    "bundle_lacks": "dem Paket fehlt {name}, das sein signiertes Manifest nennt. Das Paket erneut herunterladen",
    "bundle_digest": "{name} im Paket ist nicht die signierte Datei (SHA-256 weicht ab). Nicht installieren; ein "
                     "offizielles Paket anfordern",
    "bundle_signature": "die Signatur des Pakets ist ungültig: es wurde nach dem Signieren verändert oder mit einem "
                        "anderen Schlüssel signiert. Nicht installieren; ein offizielles Paket anfordern",
    "bundle_manifest": "das Manifest des Pakets kann nicht gelesen werden ({why}). Ein offizielles Paket anfordern",
    "bundle_format": "das Manifest des Pakets hat das hier unbekannte Format {format}: zuerst fmd-terminal "
                     "aktualisieren",
    "bundle_version": "Version {version} abgelehnt: erwartet eine Zahl mit Punkten wie 1.4.0",
    "release_key": "der Veröffentlichungsschlüssel ist kein öffentlicher Ed25519-Schlüssel im PEM-Format. "
                   "release.pub aus dem Gerätepaket neu installieren",
    "update_downgrade": "Version {version} ist älter als die laufende Version {known}: ein Zurückstufen wird "
                        "abgelehnt",
    "update_below_floor": "Version {version} liegt unter der hier niedrigsten erlaubten Version {known}: ein "
                          "Zurückstufen wird abgelehnt",
    "update_same": "Version {version} läuft bereits: nichts zu tun",
    "update_step_slow": "{step} ist nicht in {seconds} s fertig geworden. Die Aktualisierung erneut starten; die "
                        "laufende Version bleibt in Betrieb",
    "update_step_start": "{step} startet nicht: {why}. Die Installation prüfen (make venv oder install.sh)",
    "update_step_failed": "{step} ist fehlgeschlagen (Code {code}): {output}. Die laufende Version bleibt in "
                          "Betrieb",
    "backup_check": "{path}: die Sicherung ist beschädigt (Integritätsprüfung: {why}). Eine andere Sicherung "
                    "nehmen",
    "backup_no_directory": "{path}: das Verzeichnis existiert nicht. Anlegen oder ein anderes --to wählen",
    "backup_is_outbox": "{path} ist die Warteschlange selbst. Eine andere Datei für --to wählen",
    "backup_failed": "die Sicherung von {outbox} nach {path} ist fehlgeschlagen: {why}. Freien Platz und Rechte des "
                     "Verzeichnisses prüfen",
    "restore_raced": "{path}: ein Terminal hat die Warteschlange während der Wiederherstellung geöffnet; nichts "
                     "ersetzt. Das Terminal beenden, dann erneut wiederherstellen",
    "file_unreadable": "{path} kann nicht gelesen werden: {why}. Den Pfad prüfen",
    "bad_quarter": "--quarter {value} abgelehnt. Erwartet ein Quartal wie 2026Q4",
    "outbox_no_file": "die Warteschlangen-URL {url} nennt keine Datei. Erwartet: sqlite:///pfad/outbox.db",
    "outbox_newer": "{path}: Warteschlange mit Schema {version}, diese Software kennt {known}. fmd-terminal "
                    "aktualisieren (oder zur Version zurück, die sie schrieb: update --rollback)",
    "account_needs_rest": "diese Kontopflege braucht den REST-Dienst (https://...); über SOAP ist nur die "
                          "Passwortänderung (G445) möglich",
    "account_answer": "{what}: der Dienst antwortete {answer}. Später erneut versuchen oder das Portal des "
                      "Dienstes ansehen",
}

UPKEEP = {"fr": _FR, "en": _EN, "de": _DE}
