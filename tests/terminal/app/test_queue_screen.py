"""The queue on the screen (issue 5, item 3): badges, idle-screen lines and the alarm's single signal.

OFFLINE-QUEUE.md 6.4 (amber "N waiting" after 15 min, red "not sent for 4 h - contact support"), 8 (the
needs-attention count until the list is empty), 2.3 (STORAGE FAULT - record packs by hand); a
decoder failure shows a short translated reason, not the raw code (PACK-CODES.md reason codes).
"""

import pytest

from fmd_core import flow as F
from fmd_core import outcomes as O
from fmd_core.modes import MODES
from fmd_core.result import REASON_CODES
from fmd_core.service import PackRef
from fmd_terminal.app import QUEUE_REFRESH_MS, Terminal
from fmd_terminal.i18n import Translator
from fmd_terminal.indicators.recording import RecordingIndicators
from fmd_terminal.journal import Journal
from fmd_terminal.outbox import OpRequest
from fmd_terminal.outbox.clock import FakeClock
from fmd_terminal.outbox.memory import MemoryOutbox
from fmd_terminal.outbox.sync import SyncWorker
from fmd_terminal.presenter import LINE_CHARS, Presenter
from fmd_terminal.screens.recording import RecordingScreen
from fmd_terminal.verification.scripted import ScriptedVerificationClient, offline_answer

MIN = 60.0
HOUR = 3600.0
READY = F.Notice("ready", "dispense")
READY_FR = "Prêt – scannez une boîte"


def q(**status):
    return O.queue_notice(status)


# -- presenter, fr / en / de ---------------------------------------------------------------------

IDLE = {
    # notice: {lang: (light, headline, badge, lines)}
    "amber": (q(pending=2, oldest_age_s=16 * MIN), {
        "fr": ("amber", "Prêt – scannez une boîte", "2 en attente", ("Envoi en retard", "2 en attente")),
        "en": ("amber", "Ready – scan a pack", "2 pending", ("Sending delayed", "2 pending")),
        "de": ("amber", "Bereit – Packung scannen", "2 offen", ("Senden verzögert", "2 offen")),
    }),
    "red": (q(pending=2, oldest_age_s=4 * HOUR + MIN), {
        "fr": ("red", "Prêt – scannez une boîte", "Non envoyé", ("Non envoyé depuis 4 h", "Appeler le support")),
        "en": ("red", "Ready – scan a pack", "Not sent", ("Not sent for 4 h", "Contact support")),
        "de": ("red", "Bereit – Packung scannen", "4h offen", ("4 h nicht gesendet", "Support anrufen")),
    }),
    "attention": (q(pending=0, attention=2), {
        "fr": (None, "Prêt – scannez une boîte", "2 à traiter", ("2 à traiter", "Liste sur PC officine")),
        "en": (None, "Ready – scan a pack", "2 to resolve", ("2 to resolve", "List on pharmacy PC")),
        "de": (None, "Bereit – Packung scannen", "2 klären", ("2 klären", "Liste am Apotheken-PC")),
    }),
    "storage": (q(pending=1, storage="red: damaged"), {
        "fr": ("red", "PANNE STOCKAGE", "Stockage", ("Noter à la main",)),
        "en": ("red", "STORAGE FAULT", "Storage", ("Record packs by hand",)),
        "de": ("red", "SPEICHERFEHLER", "Speicher", ("Von Hand notieren",)),
    }),
    "space": (q(pending=1, space="amber: 12 days of ops left"), {
        "fr": ("amber", "Prêt – scannez une boîte", "Disque bas", ("Espace disque bas", "Sauvegarder, appeler")),
        "en": ("amber", "Ready – scan a pack", "Low disk", ("Low disk space", "Back up, call support", "1 pending")),
        "de": ("amber", "Bereit – Packung scannen", "Platz", ("Speicher knapp", "Sichern, anrufen")),
    }),
    "wal": (q(pending=1, wal="admin: WAL 70 MiB"), {
        "fr": (None, "Prêt – scannez une boîte", "Maintenance", ()),
        "en": (None, "Ready – scan a pack", "Maintenance", ()),
        "de": (None, "Bereit – Packung scannen", "Wartung", ()),
    }),
    "red_and_attention": (q(pending=3, attention=1, oldest_age_s=5 * HOUR), {
        "fr": ("red", "Prêt – scannez une boîte", "Non envoyé", ("Non envoyé depuis 4 h", "Appeler le support")),
        "en": ("red", "Ready – scan a pack", "Not sent", ("Not sent for 4 h", "Contact support", "1 to resolve")),
        "de": ("red", "Bereit – Packung scannen", "4h offen", ("4 h nicht gesendet", "Support anrufen")),
    }),
}


@pytest.mark.parametrize("lang", ("fr", "en", "de"))
@pytest.mark.parametrize("name", sorted(IDLE))
def test_idle_screen_says_the_queue_notice(name, lang):
    queue, expected = IDLE[name]
    model = Presenter(Translator(lang)).notice(READY, queue=queue)
    assert (model.light, model.headline, model.badge, model.lines) == expected[lang]
    assert model.light != "green" and all(len(line) <= LINE_CHARS for line in model.lines)


def test_a_pause_outranks_attention_and_the_15_minute_alarm_but_keeps_its_amber_light():
    p = Presenter(Translator("fr"))
    model = p.notice(READY, queue=q(pending=3, attention=2, oldest_age_s=20 * MIN, paused="pause_cert"))
    assert (model.light, model.badge) == ("amber", "Certificat")
    assert model.lines == ("Renouveler certificat", "3 en attente")  # a two-row headline leaves two lines
    english = Presenter(Translator("en")).notice(READY, queue=q(pending=3, attention=2, paused="pause_cert"))
    assert english.lines == ("Renew certificate", "3 pending", "2 to resolve")


def test_other_screens_carry_the_badge_but_not_the_lines_nor_the_alarm_light():
    p = Presenter(Translator("en"))
    red = q(pending=2, oldest_age_s=5 * HOUR)
    busy = p.notice(F.Notice("checking", "dispense", busy=True), queue=red)
    assert (busy.light, busy.badge, busy.lines) == (None, "Not sent", ())
    shown = F.Verdict("scan", 1, "dispense", "raw", None, None, O.Outcome("recorded_offline"), recorded=True)
    verdict = p.verdict(shown, queue=red)
    assert (verdict.light, verdict.badge) == ("amber", "Not sent")  # the verdict's own light


def test_new_badges_fit_beside_every_mode_label():
    """The bar is one row of 21 characters: mode label, a space, the badge (up to 9 ops to resolve)."""
    for lang in ("fr", "en", "de"):
        t = Translator(lang)
        widest_mode = max(len(t("mode." + mode)) for mode in MODES)
        for key in ("badge.storage_fault", "badge.backlog_red", "badge.attention", "badge.storage_space",
                    "badge.storage_wal"):
            assert widest_mode + 1 + len(t(key, n=9)) <= LINE_CHARS, (lang, key)


@pytest.mark.parametrize("lang", ("fr", "en", "de"))
def test_every_decoder_reason_has_a_short_translated_line(lang):
    t = Translator(lang)
    for reason in REASON_CODES:
        key = "line.reason." + reason
        assert t.has(key) and len(t(key)) <= LINE_CHARS and t(key) != reason, (lang, reason)


@pytest.mark.parametrize("lang, line", [("fr", "Code incomplet"), ("en", "Code incomplete"),
                                        ("de", "Code unvollständig")])
def test_scan_again_shows_the_translated_reason_not_the_code(lang, line):
    shown = F.Verdict("scan", 1, "dispense", "]d2010", None, "truncated", O.of_decode_error("truncated"))
    model = Presenter(Translator(lang)).verdict(shown)
    assert model.light == "amber" and model.lines == (line,)
    unknown = F.Verdict("scan", 1, "dispense", "x", None, "future_reason", O.of_decode_error("future_reason"))
    assert Presenter(Translator(lang)).verdict(unknown).lines == ("future_reason",)


# -- the terminal: refresh while idle, one signal per rising level ---------------------------------

class IdleScanner:
    """A scanner nobody scans with: every read times out."""

    def read(self, timeout_s):
        return None

    def close(self):
        pass


class StepClock:
    """The terminal's monotonic ms, moved by the test only."""

    def __init__(self):
        self.ms = 1_000_000

    def __call__(self):
        return self.ms


class IdleRig:
    def __init__(self, tmp_path, lang="fr"):
        self.clock = FakeClock()  # the outbox's and worker's clock: op ages
        self.outbox = MemoryOutbox(self.clock)
        self.worker = SyncWorker(self.outbox, ScriptedVerificationClient(default=offline_answer))  # not started
        self.screen = RecordingScreen(keep_images=False)
        self.indicators = RecordingIndicators()
        self.journal = Journal(str(tmp_path / "events.jsonl"))
        self.ms = StepClock()
        self.terminal = Terminal(flow=F.Flow(mode="dispense"), scanner=IdleScanner(), screen=self.screen,
                                 indicators=self.indicators, outbox=self.outbox, worker=self.worker,
                                 presenter=Presenter(Translator(lang)), journal=self.journal, clock=self.ms,
                                 today=lambda: "2026-11-26")

    def record(self, n):
        pack = PackRef("GTIN", "03400930000014", f"SER{n:06d}", "B1", "281231")
        assert self.outbox.record(OpRequest("dispense", pack, f"raw{n}")).op is not None

    def idle_for(self, seconds, step_ms=QUEUE_REFRESH_MS):
        """Let ``seconds`` pass on the ops' clock, then one turn of the loop ``step_ms`` later."""
        self.clock.advance(seconds)
        self.ms.ms += step_ms
        self.terminal.step(0)

    def close(self):
        self.journal.close()
        self.outbox.close()


@pytest.fixture
def rig(tmp_path):
    made = IdleRig(tmp_path)
    yield made
    made.close()


def test_idle_screen_turns_amber_then_red_and_signals_each_rise_once(rig):
    rig.terminal.start()
    rig.record(1)
    rig.record(2)  # recorded earlier by scans; the idle screen shows the count at its next refresh
    rig.idle_for(0)
    first = rig.screen.last
    assert (first.light, first.headline, first.badge) == (None, READY_FR, "2 en attente")
    assert rig.indicators.signals == ["ready"]

    rig.idle_for(16 * MIN)
    amber = rig.screen.last
    assert (amber.light, amber.badge, amber.lines) == ("amber", "2 en attente", ("Envoi en retard", "2 en attente"))
    assert rig.indicators.signals == ["ready", "amber"]

    for _ in range(3):  # the alarm stays: no redraw, no new signal
        rig.idle_for(60)
    assert rig.screen.models[-1] is amber and rig.indicators.signals == ["ready", "amber"]

    rig.clock.advance(4 * HOUR)  # now 4 h 19 min, but the status is re-read at most once a second
    rig.ms.ms += QUEUE_REFRESH_MS // 5
    rig.terminal.step(0)
    assert rig.screen.last is amber

    rig.idle_for(0, step_ms=QUEUE_REFRESH_MS)
    red = rig.screen.last
    assert (red.light, red.badge, red.lines) == ("red", "Non envoyé", ("Non envoyé depuis 4 h", "Appeler le support"))
    assert rig.indicators.signals == ["ready", "amber", "red"]
    rig.idle_for(60)
    rig.idle_for(60)
    assert rig.indicators.signals == ["ready", "amber", "red"] and "green" not in rig.indicators.signals
    assert [m.light for m in rig.screen.changes] == [None, None, "amber", "red"]
    assert len(rig.screen.models) == 4  # redrawn only when the model changed


def test_exactly_4_h_1_min_after_a_restart_the_first_idle_screen_is_red_with_its_signal(rig):
    rig.record(1)
    rig.clock.advance(4 * HOUR + MIN)
    rig.terminal.start()  # the last ops are listed first (OFFLINE-QUEUE.md 5.3): no alarm over the list
    assert rig.screen.last.headline == "Avant redémarrage" and rig.indicators.signals == ["ready"]
    rig.idle_for(0, step_ms=60_000)  # the list's hold time ends: the idle screen, red, signalled once
    assert (rig.screen.last.headline, rig.screen.last.light) == ("Prêt – scannez une boîte", "red")
    assert rig.indicators.signals == ["ready", "red"]


def test_attention_count_and_storage_fault_reach_the_idle_screen(rig):
    rig.terminal.start()
    rig.record(1)
    # a person is needed for the op (transition #5): set up directly, the list's own actions are elsewhere
    rig.outbox.storage.execute("UPDATE op SET state = 'needs_attention' WHERE seq = 1")
    rig.idle_for(1)
    assert (rig.screen.last.badge, rig.screen.last.lines) == ("1 à traiter", ("1 à traiter", "Liste sur PC officine"))
    assert rig.indicators.signals == ["ready"]  # a badge, not an alarm
    rig.outbox.write_meta("alarm_storage", "red: damaged database kept aside")
    rig.idle_for(1)
    fault = rig.screen.last
    assert (fault.light, fault.headline, fault.badge) == ("red", "PANNE STOCKAGE", "Stockage")
    assert fault.lines == ("Noter à la main", "1 à traiter")
    assert rig.indicators.signals == ["ready", "red"]
    rig.outbox.write_meta("alarm_storage", None)  # the administrator cleared the alarm
    rig.idle_for(1)
    assert (rig.screen.last.light, rig.screen.last.badge) == (None, "1 à traiter")
    assert rig.indicators.signals == ["ready", "red", None]  # the held red LED goes off, no beep
    rig.idle_for(1)
    assert rig.indicators.signals == ["ready", "red", None]


def test_low_space_is_amber_and_a_big_wal_a_neutral_badge_on_the_idle_screen(rig):
    """OFFLINE-QUEUE.md 2.3, 6.4: the outbox's own check raises ``alarm_space``; a WAL past 64 MiB is an
    admin badge without light; the 15-minute backlog outranks low space."""
    rig.terminal.start()
    rig.record(1)
    rig.idle_for(1)
    assert (rig.screen.last.light, rig.screen.last.badge) == (None, "1 en attente")
    rig.outbox.free_bytes = lambda: rig.outbox.reserve_bytes + 4096  # a few ops of room left
    assert "alarm_space" in rig.outbox.check_storage(rig.clock())
    rig.idle_for(1)
    low = rig.screen.last
    assert (low.light, low.headline, low.badge) == ("amber", READY_FR, "Disque bas")
    assert low.lines == ("Espace disque bas", "Sauvegarder, appeler")  # the two-row headline leaves two
    assert rig.indicators.signals == ["ready", "amber"]
    rig.idle_for(16 * MIN)  # the backlog alarm outranks low space: same light, no new signal
    assert (rig.screen.last.light, rig.screen.last.badge) == ("amber", "1 en attente")
    assert rig.screen.last.lines == ("Envoi en retard", "1 en attente")
    assert rig.indicators.signals == ["ready", "amber"]
    rig.outbox.storage.execute("UPDATE op SET state = 'cancelled' WHERE seq = 1")  # nothing left to send
    rig.outbox.free_bytes = lambda: None  # space freed: the next check clears the alarm
    assert rig.outbox.check_storage(rig.clock()) == {}
    rig.outbox.write_meta("alarm_wal", "admin: the WAL is 70 MiB (over 64 MiB): a long read stalls checkpoints")
    rig.idle_for(1)
    wal = rig.screen.last
    assert (wal.light, wal.headline, wal.badge, wal.lines) == (None, READY_FR, "Maintenance", ())
    assert rig.indicators.signals == ["ready", "amber", None]  # the held amber goes off, no beep


def test_a_verdict_on_screen_is_not_overwritten_by_the_alarm(rig):
    rig.terminal.start()
    rig.record(1)
    rig.terminal.apply(rig.terminal.flow.fault("scanner unplugged", rig.ms()))  # any non-idle screen
    rig.idle_for(20 * MIN)
    assert rig.screen.last.headline != READY_FR and rig.indicators.signals == ["ready", "fault"]
    rig.idle_for(0, step_ms=60_000)  # the hold time ends: idle, and only now the amber signal
    assert (rig.screen.last.headline, rig.screen.last.light) == ("Prêt – scannez une boîte", "amber")
    assert rig.indicators.signals == ["ready", "fault", "amber"]


def test_an_outbox_that_cannot_be_read_is_a_storage_fault_logged_once(rig, caplog):
    rig.terminal.start()
    rig.record(1)
    rig.idle_for(1)
    assert rig.screen.last.badge == "1 en attente"
    with rig.outbox.lock:
        rig.outbox.storage.close()  # the database is gone
    for _ in range(3):
        rig.idle_for(1)
    fault = rig.screen.last
    assert (fault.light, fault.headline, fault.badge) == ("red", "PANNE STOCKAGE", "Stockage")
    assert rig.indicators.signals == ["ready", "red"]
    assert caplog.text.count("cannot read the queue's status") == 1
