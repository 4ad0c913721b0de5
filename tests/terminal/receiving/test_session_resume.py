"""A receiving session taken up from the outbox (issue 17, after a restart), on a real SQLite outbox:
an outbox of the release before ``receipt.rescans`` opens and gains the column, and the session comes
back with its note, its counts and its packs known."""

import datetime
import sqlite3

import pytest

from fmd_core.receiving import ALREADY_SCANNED, BATCH_DIFFERS, PENDING
from fmd_terminal.outbox import receipts
from fmd_terminal.outbox.sqlite import open_sqlite_outbox
from fmd_terminal.receiving.note import DeliveryNote, NoteLine
from fmd_terminal.receiving.session import ReceivingSession, SessionDamaged, interrupt

NOTE = DeliveryNote("BL9", (NoteLine("3400930012345", "Doliprane 1000", 3, "B1", datetime.date(2027, 6, 30)),
                            NoteLine("03400936000001", "Spasfon", 1)), "/notes/BL9.csv")


def _left_open(path):
    """A session with two packs noted (one pending), left open as a power cut leaves it."""
    box = open_sqlite_outbox(str(path), reserve_bytes=0)
    session = ReceivingSession(NOTE, outbox=box)
    receipts.note_pack(box, session.id, "k1", seq=None, line=0, product_code="03400930012345", problems=(),
                       state="accepted", service_code="NMVS_SUCCESS", alert_code=None)
    receipts.note_pack(box, session.id, "k2", seq=None, line=0, product_code="03400930012345",
                       problems=(BATCH_DIFFERS,), state=PENDING, service_code=None, alert_code=None)
    receipts.note_rescan(box, session.id)
    box.close()


def test_an_outbox_without_the_rescans_column_opens_and_its_open_session_resumes(tmp_path):
    db = tmp_path / "o.db"
    _left_open(db)
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE receipt DROP COLUMN rescans")  # as the earlier release wrote it
    con.commit()
    con.close()
    box = open_sqlite_outbox(str(db), reserve_bytes=0)  # the terminal's start
    try:
        (record,) = receipts.open_receipts(box)
        assert record["rescans"] == 0
        session = ReceivingSession.resume(box, record)
        assert session.note == DeliveryNote(NOTE.reference, NOTE.lines, NOTE.source) and session.resumed
        assert session.receipt.counted == [2, 0] and session.pending() == 1
        again = session.receipt.check("03400930012345", "k2", "B1", "2027-06-30")
        assert again.problems == (ALREADY_SCANNED,) and again.counted == 2
        assert session.receipt.check("03400930012345", "k3", "B1", "2027-06-30").counted == 3
        assert session.close().rows[0]["accepted"] == 1 and receipts.open_receipts(box) == []
    finally:
        box.close()


@pytest.mark.parametrize("damage", ["UPDATE receipt SET note = 'not json'",
                                    "UPDATE receipt SET note = '[{\"product_code\": \"x\"}]'",
                                    "UPDATE receipt_pack SET line = 7 WHERE pack_key = 'k2'"])
def test_a_damaged_session_is_refused_and_closed_as_interrupted_with_its_packs(tmp_path, damage):
    db = tmp_path / "o.db"
    _left_open(db)
    con = sqlite3.connect(db)
    con.execute(damage)
    con.commit()
    con.close()
    box = open_sqlite_outbox(str(db), reserve_bytes=0)
    try:
        (record,) = receipts.open_receipts(box)
        with pytest.raises(SessionDamaged) as raised:
            ReceivingSession.resume(box, record)
        assert raised.value.text_id == "receive_damaged" and "BL9" in raised.value.in_language("fr")
        summary = interrupt(box, record, 5)
        assert summary.interrupted and summary.totals["accepted"] == 1 and summary.totals[PENDING] == 1
        assert summary.rescans == 1 and len(receipts.packs(box, record["id"])) == 2  # nothing lost
        assert receipts.open_receipts(box) == [] and receipts.receipts(box)[0]["summary"]["interrupted"]
    finally:
        box.close()
