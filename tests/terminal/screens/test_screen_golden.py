"""Every screen the terminal shows, rendered and compared with reviewed golden PNGs.

Texts are the French catalogue's (device/fmd_terminal/locale) where it has them, plus German and
English screens for umlauts, ß and the other languages. ``make golden`` regenerates the files.
"""

from __future__ import annotations

import pytest

from fmd_core.screen import ScreenModel
from fmd_terminal.screens.render import render

PRODUCT = "CIP/GTIN 03400933112345"
SERIAL = "Série …4F2A9C"

MODE_LABELS = {
    "dispense": "DÉLIVRER",
    "verify": "VÉRIFIER",
    "undo": "ANNULER",
    "destroy": "DÉTRUIRE",
    "receive": "RÉCEPTION",
}

SCREENS = {
    **{
        f"idle_{mode}": ScreenModel(None, "Prêt – scannez une boîte", (), label, "")
        for mode, label in MODE_LABELS.items()
    },
    "idle_dispense_pending": ScreenModel(None, "Prêt – scannez une boîte", (), "DÉLIVRER", "3 en attente"),
    "checking_busy": ScreenModel(None, "Vérification…", (PRODUCT,), "DÉLIVRER", "", busy=True),
    "authentic_green": ScreenModel("green", "Boîte authentique", (PRODUCT, SERIAL), "VÉRIFIER", ""),
    "decommissioned_green": ScreenModel("green", "Boîte désactivée", (PRODUCT, SERIAL), "DÉLIVRER", ""),
    "recorded_offline_pending_amber": ScreenModel(
        "amber", "Enregistrée, vérif. différée", (PRODUCT, "Hors ligne (art. 29)"), "DÉLIVRER", "3 en attente"
    ),
    "scan_again_amber": ScreenModel(
        "amber", "Scanner à nouveau", ("Motif : code incomplet",), "DÉLIVRER", ""
    ),
    "alert_red": ScreenModel(
        "red", "Alerte – ne pas délivrer", ("Alerte A24 7Q2K9XM4", PRODUCT, SERIAL), "DÉLIVRER", ""
    ),
    "expired_red": ScreenModel(
        "red", "Boîte périmée", ("Code NMVS_NC_PCK_02", "Péremption 2025-03-31"), "DÉLIVRER", "1 en attente"
    ),
    "dispensed_elsewhere_red": ScreenModel(
        "red", "Déjà désactivée ailleurs", ("Code NMVS_NC_PCK_22", "Déjà inactive"), "DÉLIVRER", ""
    ),
    "scanner_disconnected": ScreenModel(
        None, "Lecteur débranché", ("Rebranchez le lecteur USB",), "DÉLIVRER", ""
    ),
    "storage_fault": ScreenModel(
        None, "Stockage en panne", ("Rien n'est enregistré", "Appelez le support"), "DÉLIVRER", "2 en attente"
    ),
    "calibrate": ScreenModel(
        None, "Calibrage", ("Scannez la feuille de", "calibrage, code 1 sur 3"), "CALIBRAGE", ""
    ),
    "fault_neutral": ScreenModel(None, "Erreur interne – rescanner", (), "DÉLIVRER", ""),
    "german_authentic_green": ScreenModel(
        "green", "Packung echt", ("PZN 12345678", "Größe: Übergröße ÄÖÜ ß"), "ABGABE", "2 ausstehend"
    ),
    "german_elsewhere_red": ScreenModel(
        "red", "Bereits anderswo ausgebucht", ("Code NMVS_NC_PCK_22", "Prüfung: Quarantäne"), "PRÜFEN", ""
    ),
    "english_scan_again_amber": ScreenModel(
        "amber", "Scan again", ("Reason: incomplete code",), "DISPENSE", ""
    ),
    "long_texts_truncated": ScreenModel(
        "amber",
        "Ceci est un titre beaucoup trop long pour un petit écran OLED de pharmacie",
        (
            "Une ligne de détail beaucoup trop longue pour tenir",
            "ID-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "troisième ligne",
            "quatrième ligne, jamais affichée",
        ),
        "UN MODE AU NOM TRÈS LONG",
        "1234 en attente de synchronisation",
    ),
    "no_bar_long_id_wraps": ScreenModel(None, "Alerte", ("ID-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",), "", ""),
}


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_golden_screen(name, assert_golden):
    image = render(SCREENS[name])
    assert image.mode == "1" and image.size == (128, 64)
    assert_golden(name, image)
