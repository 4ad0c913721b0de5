"""The problem messages of the delivery-note importers (GS1 Despatch Advice, USB stick), FR/EN/DE.

One line each: the file (and XML line and item) at fault, the problem, the fix (issue 12's rule).
``fmd_terminal.messages`` merges them into the problem messages, so ``NoteError.text(id, ...)`` names
them like the CSV loader's ``note_*`` texts.
"""

from __future__ import annotations

_FR = {
    # GS1 XML Despatch Advice
    "da_refused_dtd": "{path} : avis d'expédition refusé : il contient une DTD ou des entités XML, qu'un bon de "
                      "livraison n'a pas (risque de sécurité). Demander au fournisseur un export sans DOCTYPE",
    "da_not_xml": "{path} ligne {line} : XML illisible ({why}). Exporter à nouveau l'avis d'expédition",
    "da_not_despatch_advice": "{path} : ce XML ({root}) n'est pas un avis d'expédition GS1 (despatchAdvice). "
                              "Utiliser l'export « Despatch Advice GS1 XML » du fournisseur, ou un CSV",
    "da_several": "{path} : le fichier contient {count} avis d'expédition ({references}). Exporter un avis "
                  "par fichier",
    "da_no_reference": "{path} : l'avis d'expédition n'a pas de numéro (despatchAdviceIdentification/"
                       "entityIdentification). Demander au fournisseur un avis complet",
    "da_missing": "{path} ligne {line} (article {item}) : {field} manquant. Compléter l'article ou exporter à nouveau",
    "da_unit": "{path} ligne {line} (article {item}) : quantité en {unit} ; le terminal compte des boîtes. "
               "Exporter la quantité en unités (EA)",
    "da_bad_date": "{path} ligne {line} (article {item}) : itemExpirationDate {value} refusée ; attendu AAAA-MM-JJ",
    "da_batches": "{path} ligne {line} (article {item}) : plusieurs lots ({batches}) pour une seule quantité. "
                  "Demander un article par lot",
    "da_expiries": "{path} ligne {line} (article {item}) : plusieurs péremptions ({dates}) pour un article. "
                   "Demander un article par lot et péremption",
    "da_expiry_conflict": "{path} ligne {line} (article {item}) : produit {code} lot {batch} avec deux péremptions "
                          "({first} et {second}). Faire corriger l'avis d'expédition",
    # USB stick
    "usb_pulled": "{name} : clé USB retirée pendant la lecture. La remettre : le bon sera relu, rien n'est perdu",
    "usb_no_match": "clé USB : aucun bon de livraison {reference} parmi {found}. Vérifier le bon scanné ou copier "
                    "son fichier dans bons-de-livraison/",
    "usb_spool": "{path} : copie du bon de la clé USB impossible ({why}). Libérer de la place sur le "
                 "terminal ou le faire vérifier",
    "usb_no_note": "clé USB : aucun bon de livraison (.csv ou .xml) à la racine ni dans bons-de-livraison/. "
                   "Y copier le fichier du bon",
}

_EN = {
    # GS1 XML Despatch Advice
    "da_refused_dtd": "{path}: despatch advice refused: it holds a DTD or XML entities, which a delivery note never "
                      "has (a security risk). Ask the supplier for an export without DOCTYPE",
    "da_not_xml": "{path} line {line}: unreadable XML ({why}). Export the despatch advice again",
    "da_not_despatch_advice": "{path}: this XML ({root}) is not a GS1 despatch advice (despatchAdvice). Use the "
                              "supplier's \"Despatch Advice GS1 XML\" export, or a CSV",
    "da_several": "{path}: the file holds {count} despatch advices ({references}). Export one advice per "
                  "file",
    "da_no_reference": "{path}: the despatch advice has no number (despatchAdviceIdentification/"
                       "entityIdentification). Ask the supplier for a complete advice",
    "da_missing": "{path} line {line} (item {item}): {field} missing. Complete the item or export again",
    "da_unit": "{path} line {line} (item {item}): quantity in {unit}; the terminal counts packs. Export the "
               "quantity in units (EA)",
    "da_bad_date": "{path} line {line} (item {item}): itemExpirationDate {value} refused; expected YYYY-MM-DD",
    "da_batches": "{path} line {line} (item {item}): several batches ({batches}) for one quantity. Ask for one "
                  "item per batch",
    "da_expiries": "{path} line {line} (item {item}): several expiry dates ({dates}) for one item. Ask for one item "
                   "per batch and expiry",
    "da_expiry_conflict": "{path} line {line} (item {item}): product {code} batch {batch} with two expiry dates "
                          "({first} and {second}). Have the despatch advice corrected",
    # USB stick
    "usb_pulled": "{name}: USB stick pulled out while reading. Put it back: the note is read again, nothing is lost",
    "usb_no_match": "USB stick: no delivery note {reference} among {found}. Check the scanned note or copy its file "
                    "into bons-de-livraison/",
    "usb_spool": "{path}: the USB stick's note cannot be copied ({why}). Free space on the terminal or "
                 "have it checked",
    "usb_no_note": "USB stick: no delivery note (.csv or .xml) at its root or in bons-de-livraison/. Copy the "
                   "note's file there",
}

_DE = {
    # GS1 XML Despatch Advice
    "da_refused_dtd": "{path}: Lieferavis abgelehnt: es enthält eine DTD oder XML-Entitäten, die ein Lieferschein nie "
                      "hat (Sicherheitsrisiko). Beim Lieferanten einen Export ohne DOCTYPE anfordern",
    "da_not_xml": "{path} Zeile {line}: XML nicht lesbar ({why}). Das Lieferavis erneut exportieren",
    "da_not_despatch_advice": "{path}: dieses XML ({root}) ist kein GS1-Lieferavis (despatchAdvice). Den Export "
                              "„Despatch Advice GS1 XML“ des Lieferanten oder eine CSV verwenden",
    "da_several": "{path}: die Datei enthält {count} Lieferavise ({references}). Ein Avis je Datei "
                  "exportieren",
    "da_no_reference": "{path}: das Lieferavis hat keine Nummer (despatchAdviceIdentification/"
                       "entityIdentification). Beim Lieferanten ein vollständiges Avis anfordern",
    "da_missing": "{path} Zeile {line} (Position {item}): {field} fehlt. Position ergänzen oder erneut exportieren",
    "da_unit": "{path} Zeile {line} (Position {item}): Menge in {unit}; das Terminal zählt Packungen. Menge in "
               "Stück (EA) exportieren",
    "da_bad_date": "{path} Zeile {line} (Position {item}): itemExpirationDate {value} abgelehnt; erwartet JJJJ-MM-TT",
    "da_batches": "{path} Zeile {line} (Position {item}): mehrere Chargen ({batches}) für eine Menge. Eine Position "
                  "je Charge anfordern",
    "da_expiries": "{path} Zeile {line} (Position {item}): mehrere Verfalldaten ({dates}) für eine Position. Eine "
                   "Position je Charge und Verfalldatum anfordern",
    "da_expiry_conflict": "{path} Zeile {line} (Position {item}): Produkt {code} Charge {batch} mit zwei "
                          "Verfalldaten ({first} und {second}). Das Lieferavis korrigieren lassen",
    # USB stick
    "usb_pulled": "{name}: USB-Stick beim Lesen abgezogen. Wieder einstecken: der Lieferschein wird erneut gelesen, "
                  "nichts geht verloren",
    "usb_no_match": "USB-Stick: kein Lieferschein {reference} unter {found}. Den gescannten Lieferschein prüfen oder "
                    "seine Datei nach bons-de-livraison/ kopieren",
    "usb_spool": "{path}: Lieferschein vom USB-Stick nicht kopierbar ({why}). Platz auf dem Terminal "
                 "freigeben oder es prüfen lassen",
    "usb_no_note": "USB-Stick: kein Lieferschein (.csv oder .xml) im Hauptordner oder in bons-de-livraison/. Die "
                   "Datei des Lieferscheins dorthin kopieren",
}

IMPORT_TEXTS = {"fr": _FR, "en": _EN, "de": _DE}
