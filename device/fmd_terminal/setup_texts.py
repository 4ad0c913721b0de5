"""What an installer meets setting a terminal up, in French, English and German: the configuration file, the
device URLs (scanner, screen, indicators, mode button) and the devices behind them, the verification
service's URL, credentials, certificates and a key held in a token (ARCHITECTURE.md: one line, the
problem and the fix, in the person's language).

Merged into the commands' texts (``outbox.texts``) by ``fmd_terminal.messages``; an error names one with
``TerminalError.text(id, **fields)``.
"""

from __future__ import annotations

_FR = {
    # the configuration file
    "config_secret_readable": "{path} contient le secret du service mais d'autres peuvent le lire (mode {mode}). "
                              "Exécuter : chmod 600 {path}",
    "config_unreadable": "impossible de lire la configuration {path} : {why}. Vérifier le chemin donné à --config",
    "config_not_toml": "la configuration {path} n'est pas du TOML valable : {why}. Corriger la ligne indiquée",
    "config_shape": "{path} : {why}. Comparer avec l'exemple de configuration du README",
    # the scanner's URL and profile
    "scanner_parameter": "URL du lecteur {url} : paramètre {key} inconnu. Paramètres possibles : {known}",
    "scanner_whole": "URL du lecteur {url} : {key} doit être un nombre entier, pas {value}",
    "scanner_positive": "URL du lecteur {url} : {key} doit être supérieur à 0, pas {value}",
    "scanner_number": "URL du lecteur {url} : {key} doit être un nombre à partir de 0, pas {value}",
    "scanner_lang": "URL du lecteur {url} : lang doit valoir fr, en ou de, pas {value}",
    "scanner_layout": "URL du lecteur {url} : {why}. Donner le clavier du lecteur, par ex. layout=fr",
    "scanner_no_device": "l'URL du lecteur {url} ne nomme aucun {kind}. Attendu : {scheme}://<nom by-id ou chemin /dev>",
    "profile_unreadable": "le profil du lecteur {path} est illisible : {why}. Recalibrer : fmd-terminal calibrate",
    "profile_bad": "{path} n'est pas un profil de lecteur (il manque {missing}). Recalibrer : fmd-terminal calibrate",
    "profile_unwritable": "impossible d'écrire le profil du lecteur {path} : {why}. Vérifier les droits du dossier",
    # indicators (LEDs, buzzer) and the mode button
    "pin_factory_unknown": "pin_factory {name} inconnue. Valeurs possibles : {known}",
    "pin_factory_start": "les broches GPIO ({name}) ne démarrent pas ici : {why}. Sur un Pi installer python3-lgpio ; "
                         "hors Pi utiliser pin_factory=mock",
    "pin_factory_missing": "la bibliothèque de broches GPIO {name} n'est pas installée. make venv (extra device)",
    "gpio_chip_missing": "{board} : aucune puce GPIO nommée {label} (trouvées : {found}) ; il manque au noyau son "
                         "contrôleur de broches. Mettre Raspberry Pi OS à jour",
    "pins_unusable": "les broches GPIO {pins} sont inutilisables : {why}. Vérifier les numéros BCM et le groupe gpio",
    "indicators_flag": "URL des voyants {url} : {key}={value} doit valoir 0 ou 1",
    "indicators_pin": "URL des voyants {url} : {key}={value} n'est pas un numéro de broche BCM (0 à 53)",
    "indicators_option": "URL des voyants {url} : option {key} inconnue. Options possibles : {known}",
    "indicators_shared": "URL des voyants {url} : deux sorties sur la même broche ({pins}). Une broche par sortie",
    "button_unusable": "le bouton de mode sur la broche GPIO {pin} est inutilisable : {why}. Vérifier le câblage et "
                       "le groupe gpio",
    "button_url": "URL du bouton de mode {url} refusée. Attendu : gpio://?pin=<numéro BCM>",
    "button_option": "URL du bouton de mode {url} : option {key}={value} refusée. Attendu : pin=<0-53>, "
                     "pull_up=0|1, bounce_ms=<ms>, pin_factory=<nom>",
    "button_pin": "URL du bouton de mode {url} : pin={pin} n'est pas un numéro de broche BCM (0 à 53)",
    # the screen
    "screen_number": "URL de l'écran {url} : {key}={value} doit être un nombre de {low} à {high}",
    "screen_bus": "URL de l'écran {url} : seul le bus I2C est pris en charge (i2c/<port>/<adresse>), pas {bus}",
    "screen_path": "URL de l'écran {url} refusée. Attendu : i2c/<port>/<adresse>, par ex. i2c/1/0x3c",
    "screen_option": "URL de l'écran {url} : option {key} inconnue. Options possibles : {known}",
    "screen_absent": "écran {url} : aucun {controller} sur {where} ({why}). Activer l'I2C, mettre l'utilisateur "
                     "dans le groupe i2c, vérifier le câblage et l'adresse (0x3c ou 0x3d)",
    "screen_silent": "écran {url} : le {controller} sur {where} ne répond pas ({why}). Vérifier le câblage et "
                     "l'alimentation de l'écran",
    "console_screen_url": "URL de l'écran {url} refusée. Attendu : console://, console://stdout ou console://stderr",
    "console_screen_color": "URL de l'écran {url} : la seule option est color=0 ou color=1",
    # the verification service
    "service_credentials": "l'URL du service {url} demande des identifiants : renseigner {missing}",
    "service_mtls": "l'URL du service {url} demande le TLS mutuel : renseigner [service] client_cert (et client_key) "
                    "avec le certificat délivré par le système national",
    "service_url": "URL du service {url} refusée. Attendu : {expected}",
    "timeout_bad": "délai {name}={value} refusé. Attendu : un nombre de secondes supérieur à 0",
    "timeout_keys": "clés de délai inconnues {keys}. Clés possibles : connect, read, total",
    "tls_file_unreadable": "le fichier {kind} {path} est illisible. Vérifier le chemin et les droits "
                           "(lisible par l'utilisateur du terminal)",
    "key_without_cert": "clé client {key} donnée sans certificat client. Renseigner aussi client_cert",
    # a key in a token (PKCS#11)
    "pkcs11_scheme": "clé client {key} : une URI PKCS#11 commence par « pkcs11: » (RFC 7512)",
    "pkcs11_module": "clé client {key} : nommer le module PKCS#11 du jeton, par ex. "
                     "?module-path=/usr/lib/softhsm/libsofthsm2.so",
    "pkcs11_object": "clé client {key} : nommer la clé avec object=NOM ou id=%01",
    "pkcs11_item": "URI de la clé client : {item} n'est pas de la forme nom=valeur (RFC 7512)",
    "pin_file_unreadable": "le fichier de code PIN {path} est illisible : {why}. Vérifier pin-source dans l'URI",
    "pin_needed": "la clé client {key} demande le code PIN du jeton : mettre client_key_pin dans le fichier des "
                  "secrets (mode 600)",
    "pkcs11_module_absent": "clé client {key} : module PKCS#11 {module} introuvable. Installer le module du jeton "
                            "ou corriger module-path",
    "pkcs11_engine": "les clés PKCS#11 demandent le moteur OpenSSL PKCS#11 : apt-get install {package}",
    "pkcs11_start": "le module PKCS#11 {module} n'a pas démarré ({why}). Vérifier que le jeton est branché",
    "pkcs11_no_key": "clé client {key} : pas de telle clé dans le jeton, ou code PIN refusé ({why}). Vérifier "
                     "client_key_pin dans le fichier des secrets et object= ou id= dans l'URI",
    "pkcs11_cert": "certificat client {path} illisible ({why}). Vérifier client_cert",
    "pkcs11_pair": "le certificat client {path} ne correspond pas à la clé {key} ({why}). Donner le certificat "
                   "délivré pour cette clé",
}

_EN = {
    "config_secret_readable": "{path} holds the service secret but is readable by group or others (mode {mode}). "
                              "Run: chmod 600 {path}",
    "config_unreadable": "cannot read configuration {path}: {why}. Check the path given to --config",
    "config_not_toml": "the configuration {path} is not valid TOML: {why}. Correct the line it names",
    "config_shape": "{path}: {why}. Compare it with the README's example configuration",
    "scanner_parameter": "scanner URL {url}: unknown parameter {key}. Known parameters: {known}",
    "scanner_whole": "scanner URL {url}: {key} must be a whole number, not {value}",
    "scanner_positive": "scanner URL {url}: {key} must be positive, not {value}",
    "scanner_number": "scanner URL {url}: {key} must be a number from 0 up, not {value}",
    "scanner_lang": "scanner URL {url}: lang must be fr, en or de, not {value}",
    "scanner_layout": "scanner URL {url}: {why}. Give the scanner's keyboard, e.g. layout=fr",
    "scanner_no_device": "the scanner URL {url} names no {kind}. Expected: {scheme}://<by-id name or /dev path>",
    "profile_unreadable": "the scanner profile {path} cannot be read: {why}. Calibrate again: fmd-terminal calibrate",
    "profile_bad": "{path} is not a scanner profile ({missing} is missing). Calibrate again: fmd-terminal calibrate",
    "profile_unwritable": "the scanner profile {path} cannot be written: {why}. Check the directory's permissions",
    "pin_factory_unknown": "unknown pin_factory {name}. Known: {known}",
    "pin_factory_start": "the GPIO pin factory {name} cannot start here: {why}. On a Pi install python3-lgpio; off "
                         "a Pi use pin_factory=mock",
    "pin_factory_missing": "the GPIO pin library {name} is not installed. make venv (device extra)",
    "gpio_chip_missing": "{board}: no GPIO chip labelled {label} (found: {found}); the kernel's pin controller "
                         "is missing. Update Raspberry Pi OS",
    "pins_unusable": "the GPIO pins {pins} cannot be used: {why}. Check the BCM numbers and the gpio group",
    "indicators_flag": "indicators URL {url}: {key}={value} must be 0 or 1",
    "indicators_pin": "indicators URL {url}: {key}={value} is not a BCM pin number (0 to 53)",
    "indicators_option": "indicators URL {url}: unknown option {key}. Known options: {known}",
    "indicators_shared": "indicators URL {url}: two outputs on the same pin ({pins}). One pin per output",
    "button_unusable": "the mode button on GPIO pin {pin} cannot be used: {why}. Check the wiring and the gpio group",
    "button_url": "mode button URL {url} refused. Expected: gpio://?pin=<BCM number>",
    "button_option": "mode button URL {url}: option {key}={value} refused. Expected: pin=<0-53>, pull_up=0|1, "
                     "bounce_ms=<ms>, pin_factory=<name>",
    "button_pin": "mode button URL {url}: pin={pin} is not a BCM pin number (0 to 53)",
    "screen_number": "screen URL {url}: {key}={value} must be a number from {low} to {high}",
    "screen_bus": "screen URL {url}: only the I2C bus is supported (i2c/<port>/<address>), not {bus}",
    "screen_path": "screen URL {url} refused. Expected: i2c/<port>/<address>, e.g. i2c/1/0x3c",
    "screen_option": "screen URL {url}: unknown option {key}. Known options: {known}",
    "screen_absent": "screen {url}: no {controller} on {where} ({why}). Enable I2C, add the user to the i2c group, "
                     "check the wiring and the address (0x3c or 0x3d)",
    "screen_silent": "screen {url}: the {controller} on {where} does not answer ({why}). Check the screen's wiring "
                     "and power",
    "console_screen_url": "screen URL {url} refused. Expected: console://, console://stdout or console://stderr",
    "console_screen_color": "screen URL {url}: the only option is color=0 or color=1",
    "service_credentials": "the service URL {url} needs credentials: set {missing}",
    "service_mtls": "the service URL {url} needs mutual TLS: set [service] client_cert (and client_key) to the "
                    "certificate the national system issued",
    "service_url": "service URL {url} refused. Expected: {expected}",
    "timeout_bad": "timeout {name}={value} refused. Expected: a number of seconds above 0",
    "timeout_keys": "unknown timeout keys {keys}. Known keys: connect, read, total",
    "tls_file_unreadable": "the {kind} file {path} cannot be read. Check the path and that the terminal's user "
                           "can read it",
    "key_without_cert": "client key {key} given without a client certificate. Set client_cert too",
    "pkcs11_scheme": "client key {key}: a PKCS#11 URI starts with 'pkcs11:' (RFC 7512)",
    "pkcs11_module": "client key {key}: name the token's PKCS#11 module, e.g. "
                     "?module-path=/usr/lib/softhsm/libsofthsm2.so",
    "pkcs11_object": "client key {key}: name the key with object=LABEL or id=%01",
    "pkcs11_item": "client key URI: {item} is not name=value (RFC 7512)",
    "pin_file_unreadable": "the PIN file {path} cannot be read: {why}. Check pin-source in the URI",
    "pin_needed": "the client key {key} needs the token's PIN: put client_key_pin in the secrets file (mode 600)",
    "pkcs11_module_absent": "client key {key}: PKCS#11 module {module} not found. Install the token's module or "
                            "correct module-path",
    "pkcs11_engine": "PKCS#11 keys need the OpenSSL engine for PKCS#11: apt-get install {package}",
    "pkcs11_start": "the PKCS#11 module {module} did not start ({why}). Check that the token is plugged in",
    "pkcs11_no_key": "client key {key}: no such key in the token, or the PIN was refused ({why}). Check "
                     "client_key_pin in the secrets file and object= or id= in the URI",
    "pkcs11_cert": "client certificate {path} cannot be read ({why}). Check client_cert",
    "pkcs11_pair": "the client certificate {path} does not belong to the key {key} ({why}). Give the certificate "
                   "issued for this key",
}

_DE = {
    "config_secret_readable": "{path} enthält das Geheimnis des Dienstes, ist aber für andere lesbar (Modus {mode}). "
                              "Ausführen: chmod 600 {path}",
    "config_unreadable": "die Konfiguration {path} kann nicht gelesen werden: {why}. Den Pfad von --config prüfen",
    "config_not_toml": "die Konfiguration {path} ist kein gültiges TOML: {why}. Die genannte Zeile korrigieren",
    "config_shape": "{path}: {why}. Mit der Beispielkonfiguration im README vergleichen",
    "scanner_parameter": "Scanner-URL {url}: unbekannter Parameter {key}. Bekannte Parameter: {known}",
    "scanner_whole": "Scanner-URL {url}: {key} muss eine ganze Zahl sein, nicht {value}",
    "scanner_positive": "Scanner-URL {url}: {key} muss größer als 0 sein, nicht {value}",
    "scanner_number": "Scanner-URL {url}: {key} muss eine Zahl ab 0 sein, nicht {value}",
    "scanner_lang": "Scanner-URL {url}: lang muss fr, en oder de sein, nicht {value}",
    "scanner_layout": "Scanner-URL {url}: {why}. Die Tastatur des Scanners angeben, z. B. layout=de",
    "scanner_no_device": "die Scanner-URL {url} nennt kein {kind}. Erwartet: {scheme}://<by-id-Name oder /dev-Pfad>",
    "profile_unreadable": "das Scanner-Profil {path} kann nicht gelesen werden: {why}. Neu kalibrieren: "
                          "fmd-terminal calibrate",
    "profile_bad": "{path} ist kein Scanner-Profil ({missing} fehlt). Neu kalibrieren: fmd-terminal calibrate",
    "profile_unwritable": "das Scanner-Profil {path} kann nicht geschrieben werden: {why}. Die Rechte des "
                          "Verzeichnisses prüfen",
    "pin_factory_unknown": "unbekannte pin_factory {name}. Bekannt: {known}",
    "pin_factory_start": "die GPIO-Pins ({name}) starten hier nicht: {why}. Auf einem Pi python3-lgpio installieren; "
                         "sonst pin_factory=mock verwenden",
    "pin_factory_missing": "die GPIO-Bibliothek {name} ist nicht installiert. make venv (Extra device)",
    "gpio_chip_missing": "{board}: kein GPIO-Chip mit dem Namen {label} (gefunden: {found}); dem Kernel fehlt "
                         "sein Pin-Controller. Raspberry Pi OS aktualisieren",
    "pins_unusable": "die GPIO-Pins {pins} sind nicht nutzbar: {why}. BCM-Nummern und die Gruppe gpio prüfen",
    "indicators_flag": "Anzeigen-URL {url}: {key}={value} muss 0 oder 1 sein",
    "indicators_pin": "Anzeigen-URL {url}: {key}={value} ist keine BCM-Pinnummer (0 bis 53)",
    "indicators_option": "Anzeigen-URL {url}: unbekannte Option {key}. Bekannte Optionen: {known}",
    "indicators_shared": "Anzeigen-URL {url}: zwei Ausgänge auf demselben Pin ({pins}). Ein Pin je Ausgang",
    "button_unusable": "die Modustaste an GPIO-Pin {pin} ist nicht nutzbar: {why}. Verdrahtung und Gruppe gpio prüfen",
    "button_url": "Modustasten-URL {url} abgelehnt. Erwartet: gpio://?pin=<BCM-Nummer>",
    "button_option": "Modustasten-URL {url}: Option {key}={value} abgelehnt. Erwartet: pin=<0-53>, pull_up=0|1, "
                     "bounce_ms=<ms>, pin_factory=<Name>",
    "button_pin": "Modustasten-URL {url}: pin={pin} ist keine BCM-Pinnummer (0 bis 53)",
    "screen_number": "Bildschirm-URL {url}: {key}={value} muss eine Zahl von {low} bis {high} sein",
    "screen_bus": "Bildschirm-URL {url}: nur der I2C-Bus wird unterstützt (i2c/<Port>/<Adresse>), nicht {bus}",
    "screen_path": "Bildschirm-URL {url} abgelehnt. Erwartet: i2c/<Port>/<Adresse>, z. B. i2c/1/0x3c",
    "screen_option": "Bildschirm-URL {url}: unbekannte Option {key}. Bekannte Optionen: {known}",
    "screen_absent": "Bildschirm {url}: kein {controller} an {where} ({why}). I2C einschalten, den Benutzer in die "
                     "Gruppe i2c aufnehmen, Verdrahtung und Adresse prüfen (0x3c oder 0x3d)",
    "screen_silent": "Bildschirm {url}: der {controller} an {where} antwortet nicht ({why}). Verdrahtung und "
                     "Stromversorgung des Bildschirms prüfen",
    "console_screen_url": "Bildschirm-URL {url} abgelehnt. Erwartet: console://, console://stdout oder "
                          "console://stderr",
    "console_screen_color": "Bildschirm-URL {url}: die einzige Option ist color=0 oder color=1",
    "service_credentials": "die Dienst-URL {url} braucht Zugangsdaten: {missing} setzen",
    "service_mtls": "die Dienst-URL {url} braucht gegenseitiges TLS: [service] client_cert (und client_key) auf das "
                    "Zertifikat des nationalen Systems setzen",
    "service_url": "Dienst-URL {url} abgelehnt. Erwartet: {expected}",
    "timeout_bad": "Zeitlimit {name}={value} abgelehnt. Erwartet: eine Zahl von Sekunden über 0",
    "timeout_keys": "unbekannte Zeitlimit-Schlüssel {keys}. Bekannte Schlüssel: connect, read, total",
    "tls_file_unreadable": "die {kind}-Datei {path} kann nicht gelesen werden. Pfad und Leserechte des "
                           "Terminal-Benutzers prüfen",
    "key_without_cert": "Client-Schlüssel {key} ohne Client-Zertifikat angegeben. Auch client_cert setzen",
    "pkcs11_scheme": "Client-Schlüssel {key}: eine PKCS#11-URI beginnt mit „pkcs11:“ (RFC 7512)",
    "pkcs11_module": "Client-Schlüssel {key}: das PKCS#11-Modul des Tokens angeben, z. B. "
                     "?module-path=/usr/lib/softhsm/libsofthsm2.so",
    "pkcs11_object": "Client-Schlüssel {key}: den Schlüssel mit object=NAME oder id=%01 angeben",
    "pkcs11_item": "URI des Client-Schlüssels: {item} hat nicht die Form Name=Wert (RFC 7512)",
    "pin_file_unreadable": "die PIN-Datei {path} kann nicht gelesen werden: {why}. pin-source in der URI prüfen",
    "pin_needed": "der Client-Schlüssel {key} braucht die PIN des Tokens: client_key_pin in die Geheimnisdatei "
                  "schreiben (Modus 600)",
    "pkcs11_module_absent": "Client-Schlüssel {key}: PKCS#11-Modul {module} nicht gefunden. Das Modul des Tokens "
                            "installieren oder module-path korrigieren",
    "pkcs11_engine": "PKCS#11-Schlüssel brauchen die OpenSSL-Engine für PKCS#11: apt-get install {package}",
    "pkcs11_start": "das PKCS#11-Modul {module} ist nicht gestartet ({why}). Prüfen, ob das Token eingesteckt ist",
    "pkcs11_no_key": "Client-Schlüssel {key}: kein solcher Schlüssel im Token, oder die PIN wurde abgelehnt ({why}). "
                     "client_key_pin in der Geheimnisdatei und object= oder id= in der URI prüfen",
    "pkcs11_cert": "Client-Zertifikat {path} kann nicht gelesen werden ({why}). client_cert prüfen",
    "pkcs11_pair": "das Client-Zertifikat {path} gehört nicht zum Schlüssel {key} ({why}). Das für diesen Schlüssel "
                   "ausgestellte Zertifikat angeben",
}

SETUP = {"fr": _FR, "en": _EN, "de": _DE}
