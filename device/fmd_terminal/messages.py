"""The terminal's problem messages in French, English and German (issue 12: one line, the problem and the fix).

``TerminalError.text(id, **fields)`` names one of these; ``fmd-terminal``'s ``main`` prints it in the
person's language (``--lang``, else ``FMD_LANG``, else French), ``str(error)`` keeps the English for
logs. The commands' own texts are in ``outbox.texts``, which merges these in.
"""

from __future__ import annotations

_FR = {
    # configuration (config_rules)
    "config_bad": "configuration : {key} = {value} refusé ; attendu : {allowed}. Corriger {key}",
    "config_http": "configuration : {key} = {value} refusé : en http:// le secret et le jeton passeraient en clair "
                   "sur le réseau. Utiliser https:// (http:// seulement vers 127.0.0.1 ou ::1)",
    "config_key_open": "configuration : {key} : le fichier de clé {path} est lisible par le groupe ou les autres "
                       "(mode {mode}). Exécuter : chmod 600 {path}",
    "config_unknown_key": "configuration {source} : clé inconnue {key}. Clés connues : {known}",
    "config_gather": "configuration : sync.gather_count = {count} refusé : un envoi groupé porte au plus "
                     "sync.batch_size = {size} boîtes. Mettre sync.gather_count à {size} ou moins",
    "allowed_seconds": "un nombre de secondes de {low} à {high}, sans guillemets",
    "allowed_number": "un nombre de {low} à {high}, sans guillemets",
    "allowed_url": "une URL {schemes}",
    "allowed_choice": "l'une des valeurs {choices}",
    "allowed_text": "un texte entre guillemets",
    "allowed_table": "une table avec les clés {keys}",
    "allowed_keys": "l'une des clés {keys}",
    "allowed_whole": "un nombre entier de {low} ou plus",
    "allowed_listen": "une adresse hôte:port entre guillemets, par ex. \"127.0.0.1:8470\"",
    "allowed_minutes": "un nombre de minutes plus grand que 0 et jusqu'à {high}, sans guillemets",
    "config_console_pair": "configuration : console.certificate et console.key vont ensemble (le certificat propre du terminal et sa clé). Renseigner les deux, ou aucun",
    "console_certificate": "console : impossible de charger le certificat {path} ({why}). Vérifier console.certificate et console.key (le certificat du terminal et sa clé, en PEM)",
    "config_console_tls": "configuration : console.listen = {value} est au-delà de la boucle locale : renseigner console.certificate et console.key (ceux du terminal) pour servir la console en HTTPS, ou écouter sur 127.0.0.1",
    "allowed_days": "un nombre entier de jours de 0 (jamais) à {high}, sans guillemets",
    "allowed_mount": "un chemin absolu entre guillemets, là où la clé USB est montée (\"/media/fmd-usb\"), ou \"\" pour ne lire aucune clé",
    "not_utf8": "{path} n'est pas en UTF-8 (octet {position}). L'enregistrer en UTF-8",
    "config_unsaved": "configuration {path} non enregistrée ({why}) ; rien n'a changé. Vérifier que le terminal peut écrire ce fichier et son dossier",
    "settings_ignored": "réglages {path} ignorés : {why}. Les valeurs de {main} sont utilisées ; corriger ou supprimer {path}, ou enregistrer de nouveau les réglages dans la console",
    "settings_open": "{path} est modifiable par le groupe ou les autres (mode {mode}). Exécuter : chmod 600 {path}",
    # storage (outbox)
    "storage_read_only": "{path} : le dossier {directory} n'est pas inscriptible ({why}). Le rendre inscriptible "
                         "pour l'utilisateur du terminal (chown, chmod ou partition remontée en écriture)",
    "storage_no_directory": "{path} : le dossier {directory} n'existe pas. Le créer pour l'utilisateur du "
                            "terminal, ou corriger outbox",
    "storage_absent": "{path} : aucune file ici. Vérifier --outbox ou la clé outbox de la configuration",
    "storage_damaged": "{path} : la file est endommagée ({why}). Rien n'a été déplacé ; fmd-terminal run la met "
                       "de côté et en crée une neuve, ou restaurer une sauvegarde (backup --restore)",
    "storage_not_outbox": "{path} : ce fichier n'est pas une file du terminal ({why}). Vérifier --outbox ou la "
                          "clé outbox de la configuration",
    "storage_unusable": "{path} : la file ne peut pas être ouverte ({why}). Libérer de la place ou vérifier le "
                        "support de données",
    "storage_refusing": "STOCKAGE EN DÉFAUT : {why} ; les scans sont refusés, noter les boîtes à la main",
    # commands and input
    "usage_error": "{problem}. Les options : {prog} --help",
    "unknown_scheme": "URL {port} {url} inconnue. Attendu : {known}",
    "journal_unwritable": "impossible d'ouvrir le journal d'événements {path} : {why}. Vérifier --events-jsonl",
    "script_unreadable": "impossible de lire le script du lecteur {path} : {why}. Vérifier script://CHEMIN",
    "backup_absent": "{path} : aucune sauvegarde ici. Vérifier le chemin donné à --restore",
    "bad_escape": "--text : {escape} n'est pas un échappement. Attendu \\xHH, \\uHHHH, \\\\, \\r, \\n ou \\t",
    "bad_fmd_lang": "FMD_LANG={value} inconnue. Attendu l'une des valeurs {known}",
    "bad_substitutes": "--substitutes {value} refusé ({why}). Donner des remplaçants non vides du "
                       "séparateur GS, par ex. --substitutes '|' '^'",
    "drain_tried": "essayé {attempts} fois en {timeout} s vers {service} ; dernière réponse : "
                   "{last}. Vérifier le réseau et le service, puis relancer",
    # delivery note (receiving, issue 17)
    "note_unreadable": "{path} : bon de livraison illisible ({why}). Vérifier le chemin du fichier",
    "note_too_big": "{path} : bon de livraison de plus de {high} Mo. Le découper en plusieurs fichiers",
    "note_empty": "{path} : le bon de livraison n'a aucune ligne de produit. Exporter la feuille avec ses lignes",
    "note_no_header": "{path} ligne {line} : colonnes non reconnues ({found}). La première ligne doit nommer au "
                      "moins code produit ; désignation ; quantité",
    "note_empty_cell": "{path} ligne {line} : {column} est vide. Le remplir ou supprimer la ligne",
    "note_bad_code": "{path} ligne {line} : code produit {value} refusé ; attendu un CIP13 ou GTIN-14 (13 ou 14 "
                     "chiffres, clé de contrôle juste). Corriger le code",
    "note_code_number": "{path} ligne {line} : code produit {value} écrit comme un nombre par le tableur. "
                        "Mettre la colonne au format texte et exporter à nouveau",
    "note_bad_quantity": "{path} ligne {line} : quantité {value} refusée ; attendu un nombre entier de 1 à {high}. "
                         "Corriger la quantité",
    "note_bad_date": "{path} ligne {line} : péremption {value} refusée ; écrire JJ/MM/AAAA, MM/AAAA ou AAAA-MM-JJ",
    "note_not_found": "bon de livraison {reference} introuvable dans {directory}. Y déposer le fichier {reference}.csv, ou vérifier notes_dir",
    "receipt_unwritable": "{path} : impossible d'écrire le bilan de réception ({why}). Vérifier receipts_dir ou --out",
    "receive_damaged": "réception {reference} non reprise après le redémarrage : session enregistrée illisible ({why}). Close comme interrompue avec ce qu'elle contient ; rescanner le bon de livraison pour continuer",
}

_EN = {
    "config_bad": "configuration: {key} = {value} refused; expected: {allowed}. Correct {key}",
    "config_http": "configuration: {key} = {value} refused: over http:// the secret and the token would cross "
                   "the network in clear. Use https:// (http:// only to 127.0.0.1 or ::1)",
    "config_key_open": "configuration: {key}: the key file {path} is readable by group or others (mode {mode}). "
                       "Run: chmod 600 {path}",
    "config_unknown_key": "configuration {source}: unknown key {key}. Known keys: {known}",
    "config_gather": "configuration: sync.gather_count = {count} refused: a bulk carries at most "
                     "sync.batch_size = {size} packs. Set sync.gather_count to {size} or less",
    "allowed_seconds": "a number of seconds from {low} to {high}, without quotes",
    "allowed_number": "a number from {low} to {high}, without quotes",
    "allowed_url": "a URL {schemes}",
    "allowed_choice": "one of {choices}",
    "allowed_text": "a text in quotes",
    "allowed_table": "a table with the keys {keys}",
    "allowed_keys": "one of the keys {keys}",
    "allowed_whole": "a whole number of {low} or more",
    "allowed_listen": "an address host:port in quotes, for example \"127.0.0.1:8470\"",
    "allowed_minutes": "a number of minutes above 0 and up to {high}, without quotes",
    "config_console_pair": "configuration: console.certificate and console.key go together (the device's own certificate and its key). Set both, or neither",
    "console_certificate": "console: cannot load the certificate {path} ({why}). Check console.certificate and console.key (the device's certificate and its key, PEM)",
    "config_console_tls": "configuration: console.listen = {value} is beyond loopback: set console.certificate and console.key (the device's own) so that the console is served over HTTPS, or listen on 127.0.0.1",
    "allowed_days": "a whole number of days from 0 (never) to {high}, without quotes",
    "allowed_mount": "an absolute path in quotes, where the USB stick is mounted (\"/media/fmd-usb\"), or \"\" to read no stick",
    "not_utf8": "{path} is not UTF-8 (byte {position}). Save it as UTF-8",
    "config_unsaved": "configuration {path} not saved ({why}); nothing changed. Check that the terminal may write this file and its folder",
    "settings_ignored": "settings {path} ignored: {why}. The values of {main} are used; correct or delete {path}, or save the settings again in the console",
    "settings_open": "{path} can be changed by group or others (mode {mode}). Run: chmod 600 {path}",
    "storage_read_only": "{path}: the directory {directory} is not writable ({why}). Make it writable for the "
                         "terminal's user (chown, chmod, or remount the partition read-write)",
    "storage_no_directory": "{path}: the directory {directory} does not exist. Create it for the terminal's "
                            "user, or correct outbox",
    "storage_absent": "{path}: no outbox here. Check --outbox or the configuration's outbox key",
    "storage_damaged": "{path}: the outbox is damaged ({why}). Nothing was moved; fmd-terminal run keeps it aside "
                       "and starts a fresh one, or restore a backup (backup --restore)",
    "storage_not_outbox": "{path}: this file is not a terminal outbox ({why}). Check --outbox or the "
                          "configuration's outbox key",
    "storage_unusable": "{path}: the outbox cannot be opened ({why}). Free some space or check the storage medium",
    "storage_refusing": "STORAGE FAULT: {why}; scans are refused, record packs by hand",
    "usage_error": "{problem}. The options: {prog} --help",
    "unknown_scheme": "unknown {port} URL {url}. Expected one of {known}",
    "journal_unwritable": "cannot open the events journal {path}: {why}. Check --events-jsonl",
    "script_unreadable": "the scanner script {path} cannot be read: {why}. Check script://PATH",
    "backup_absent": "{path}: no backup here. Check the path given to --restore",
    "bad_escape": "--text: {escape} is not an escape. Expected \\xHH, \\uHHHH, \\\\, \\r, \\n or \\t",
    "bad_fmd_lang": "FMD_LANG={value} is unknown. Expected one of {known}",
    "bad_substitutes": "--substitutes {value} refused ({why}). Give stand-ins that are not empty for the GS "
                       "separator, e.g. --substitutes '|' '^'",
    "drain_tried": "tried {attempts} time(s) in {timeout} s to reach {service}; last answer: {last}. "
                   "Check the network and the service, then run again",
    # delivery note (receiving, issue 17)
    "note_unreadable": "{path}: delivery note unreadable ({why}). Check the file's path",
    "note_too_big": "{path}: delivery note larger than {high} MB. Split it into several files",
    "note_empty": "{path}: the delivery note has no product line. Export the sheet with its lines",
    "note_no_header": "{path} line {line}: columns not recognised ({found}). The first line must name at least "
                      "product code, designation, quantity",
    "note_empty_cell": "{path} line {line}: {column} is empty. Fill it in or delete the line",
    "note_bad_code": "{path} line {line}: product code {value} refused; expected a CIP13 or GTIN-14 (13 or 14 "
                     "digits, right check digit). Correct the code",
    "note_code_number": "{path} line {line}: product code {value} was written as a number by the spreadsheet. "
                        "Format the column as text and export again",
    "note_bad_quantity": "{path} line {line}: quantity {value} refused; expected a whole number from 1 to {high}. "
                         "Correct the quantity",
    "note_bad_date": "{path} line {line}: expiry {value} refused; write DD/MM/YYYY, MM/YYYY or YYYY-MM-DD",
    "note_not_found": "delivery note {reference} not found in {directory}. Place the file {reference}.csv there, or check notes_dir",
    "receipt_unwritable": "{path}: cannot write the receipt summary ({why}). Check receipts_dir or --out",
    "receive_damaged": "receipt {reference} not resumed after the restart: stored session unreadable ({why}). Closed as interrupted with what it holds; scan the delivery note again to go on",
}

_DE = {
    "config_bad": "Konfiguration: {key} = {value} abgelehnt; erwartet: {allowed}. {key} korrigieren",
    "config_http": "Konfiguration: {key} = {value} abgelehnt: über http:// gingen Geheimnis und Token im Klartext "
                   "über das Netz. https:// verwenden (http:// nur zu 127.0.0.1 oder ::1)",
    "config_key_open": "Konfiguration: {key}: die Schlüsseldatei {path} ist für Gruppe oder andere lesbar "
                       "(Modus {mode}). Ausführen: chmod 600 {path}",
    "config_unknown_key": "Konfiguration {source}: unbekannter Schlüssel {key}. Bekannte Schlüssel: {known}",
    "config_gather": "Konfiguration: sync.gather_count = {count} abgelehnt: eine Sammelmeldung trägt höchstens "
                     "sync.batch_size = {size} Packungen. sync.gather_count auf {size} oder weniger setzen",
    "allowed_seconds": "eine Zahl von Sekunden von {low} bis {high}, ohne Anführungszeichen",
    "allowed_number": "eine Zahl von {low} bis {high}, ohne Anführungszeichen",
    "allowed_url": "eine URL {schemes}",
    "allowed_choice": "einer der Werte {choices}",
    "allowed_text": "ein Text in Anführungszeichen",
    "allowed_table": "eine Tabelle mit den Schlüsseln {keys}",
    "allowed_keys": "einer der Schlüssel {keys}",
    "allowed_whole": "eine ganze Zahl ab {low}",
    "allowed_listen": "eine Adresse Host:Port in Anführungszeichen, z. B. \"127.0.0.1:8470\"",
    "allowed_minutes": "eine Zahl von Minuten über 0 und bis {high}, ohne Anführungszeichen",
    "config_console_pair": "Konfiguration: console.certificate und console.key gehören zusammen (das eigene Zertifikat des Terminals und sein Schlüssel). Beide angeben oder keinen",
    "console_certificate": "Konsole: Zertifikat {path} kann nicht geladen werden ({why}). console.certificate und console.key prüfen (Zertifikat des Terminals und sein Schlüssel, PEM)",
    "config_console_tls": "Konfiguration: console.listen = {value} liegt außerhalb von Loopback: console.certificate und console.key (die des Terminals) angeben, damit die Konsole über HTTPS läuft, oder auf 127.0.0.1 lauschen",
    "allowed_days": "eine ganze Zahl von Tagen von 0 (nie) bis {high}, ohne Anführungszeichen",
    "allowed_mount": "ein absoluter Pfad in Anführungszeichen, wo der USB-Stick eingehängt wird (\"/media/fmd-usb\"), oder \"\" für keinen Stick",
    "not_utf8": "{path} ist nicht UTF-8 (Byte {position}). Als UTF-8 speichern",
    "config_unsaved": "Konfiguration {path} nicht gespeichert ({why}); nichts geändert. Prüfen, ob das Terminal diese Datei und ihren Ordner schreiben darf",
    "settings_ignored": "Einstellungen {path} ignoriert: {why}. Die Werte aus {main} gelten; {path} korrigieren oder löschen, oder die Einstellungen in der Konsole erneut speichern",
    "settings_open": "{path} ist für Gruppe oder andere änderbar (Modus {mode}). Ausführen: chmod 600 {path}",
    "storage_read_only": "{path}: das Verzeichnis {directory} ist nicht beschreibbar ({why}). Für den Benutzer des "
                         "Terminals beschreibbar machen (chown, chmod oder Partition schreibbar einhängen)",
    "storage_no_directory": "{path}: das Verzeichnis {directory} existiert nicht. Für den Benutzer des Terminals "
                            "anlegen oder outbox korrigieren",
    "storage_absent": "{path}: hier ist keine Warteschlange. --outbox oder den Schlüssel outbox prüfen",
    "storage_damaged": "{path}: die Warteschlange ist beschädigt ({why}). Nichts wurde verschoben; fmd-terminal run "
                       "legt sie beiseite und beginnt eine neue, oder eine Sicherung wiederherstellen "
                       "(backup --restore)",
    "storage_not_outbox": "{path}: diese Datei ist keine Warteschlange des Terminals ({why}). --outbox oder den "
                          "Schlüssel outbox prüfen",
    "storage_unusable": "{path}: die Warteschlange kann nicht geöffnet werden ({why}). Platz freigeben oder den "
                        "Datenträger prüfen",
    "storage_refusing": "SPEICHERFEHLER: {why}; Scans werden abgelehnt, Packungen von Hand notieren",
    "usage_error": "{problem}. Die Optionen: {prog} --help",
    "unknown_scheme": "unbekannte {port}-URL {url}. Erwartet: {known}",
    "journal_unwritable": "das Ereignisprotokoll {path} kann nicht geöffnet werden: {why}. --events-jsonl prüfen",
    "script_unreadable": "das Scanner-Skript {path} kann nicht gelesen werden: {why}. script://PFAD prüfen",
    "backup_absent": "{path}: hier ist keine Sicherung. Den Pfad von --restore prüfen",
    "bad_escape": "--text: {escape} ist keine Escape-Folge. Erwartet \\xHH, \\uHHHH, \\\\, \\r, \\n oder \\t",
    "bad_fmd_lang": "FMD_LANG={value} ist unbekannt. Erwartet: {known}",
    "bad_substitutes": "--substitutes {value} abgelehnt ({why}). Nicht leere Ersatzzeichen für das "
                       "Trennzeichen GS angeben, z. B. --substitutes '|' '^'",
    "drain_tried": "{attempts} Versuch(e) in {timeout} s, {service} zu erreichen; letzte Antwort: "
                   "{last}. Netz und Dienst prüfen, dann erneut starten",
    # delivery note (receiving, issue 17)
    "note_unreadable": "{path}: Lieferschein nicht lesbar ({why}). Pfad der Datei prüfen",
    "note_too_big": "{path}: Lieferschein größer als {high} MB. In mehrere Dateien aufteilen",
    "note_empty": "{path}: der Lieferschein hat keine Produktzeile. Das Blatt mit seinen Zeilen exportieren",
    "note_no_header": "{path} Zeile {line}: Spalten nicht erkannt ({found}). Die erste Zeile muss mindestens "
                      "Produktcode, Bezeichnung, Menge nennen",
    "note_empty_cell": "{path} Zeile {line}: {column} ist leer. Ausfüllen oder die Zeile löschen",
    "note_bad_code": "{path} Zeile {line}: Produktcode {value} abgelehnt; erwartet CIP13 oder GTIN-14 (13 oder 14 "
                     "Ziffern, richtige Prüfziffer). Code korrigieren",
    "note_code_number": "{path} Zeile {line}: Produktcode {value} wurde von der Tabellenkalkulation als Zahl "
                        "geschrieben. Spalte als Text formatieren und erneut exportieren",
    "note_bad_quantity": "{path} Zeile {line}: Menge {value} abgelehnt; erwartet eine ganze Zahl von 1 bis {high}. "
                         "Menge korrigieren",
    "note_bad_date": "{path} Zeile {line}: Verfall {value} abgelehnt; TT/MM/JJJJ, MM/JJJJ oder JJJJ-MM-TT schreiben",
    "note_not_found": "Lieferschein {reference} in {directory} nicht gefunden. Die Datei {reference}.csv dort ablegen oder notes_dir prüfen",
    "receipt_unwritable": "{path}: Eingangsbericht nicht schreibbar ({why}). receipts_dir oder --out prüfen",
    "receive_damaged": "Wareneingang {reference} nach dem Neustart nicht fortgesetzt: gespeicherte Sitzung unlesbar ({why}). Als unterbrochen abgeschlossen mit dem, was sie enthält; Lieferschein erneut scannen, um fortzufahren",
}

def _merged() -> dict[str, dict[str, str]]:
    from fmd_terminal.doctor_texts import DOCTOR
    from fmd_terminal.receiving.import_texts import IMPORT_TEXTS
    from fmd_terminal.setup_texts import SETUP
    from fmd_terminal.upkeep_texts import UPKEEP

    return {lang: {**table, **DOCTOR[lang], **SETUP[lang], **UPKEEP[lang], **IMPORT_TEXTS[lang]}
            for lang, table in (("fr", _FR), ("en", _EN), ("de", _DE))}


MESSAGES = _merged()
