"""Receiving a delivery against its delivery note (issue 17).

``note``: the delivery note as the terminal knows it (``DeliveryNote`` of ``NoteLine``), whatever it was
read from (a CSV a spreadsheet exported, a GS1 Despatch Advice), and ``load_note`` for CSV files. The
checks of each pack against the note are pure decisions in the portable core (``fmd_core.receiving``).
"""
