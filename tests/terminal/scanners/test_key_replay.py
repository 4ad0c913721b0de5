"""``keys://``: a keyboard scanner's recorded key events replayed through the evdev adapter's own path."""

from __future__ import annotations

import json
import time

import pytest
from key_recordings import SAMPLES_DIR, KeyRecording, sample_packs, samples
from scanner_doubles import FakeClock, PipeEventSource
from test_evdev_keyboard import Plug, replay, start

from fmd_core.calibration import C1
from fmd_core.keyboard import ALT, CTRL, GS, codes, type_text
from fmd_terminal import cli
from fmd_terminal.errors import ConfigError, DeviceError
from fmd_terminal.scanners import CALIBRATED, END, FAULT, SCAN
from fmd_terminal.scanners.factory import open_scanner
from fmd_terminal.scanners.guarded import GuardedScanSource, load_profile
from fmd_terminal.scanners.key_replay import KeyReplaySource
from fmd_terminal.scanners.queued import QUEUE_LIMIT

PACK = "]d2010340093001234521Yz9" + GS + "10LOT1" + GS + "17270630"
OTHER = "]d201034009300123451727063010AZ-7/x" + GS + "21Qw8"
WAIT_S = 5.0
RECORDINGS = sorted(SAMPLES_DIR.glob("*.jsonl"))


def drain(source, wait_s=WAIT_S):
    """Every event up to ``END``, as ``[kind, text]``."""
    out = []
    while True:
        event = source.read(wait_s)
        assert event is not None, f"nothing arrived after {out}"
        if event.kind == END:
            return out
        out.append([event.kind, event.text])


def replayed(path, **options):
    source = KeyReplaySource(str(path), speed=options.pop("speed", 0), **options).start()
    try:
        return drain(source)
    finally:
        source.close()


def write(tmp_path, lines, name="keys.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def plain(text, layout="us", **options):
    return [json.dumps([code, value]) for code, value in type_text(text, layout, **options)]


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_every_sample_frames_alike_through_the_evdev_read_path_and_the_replay(tmp_path, recording):
    """The same bytes through python-evdev's read of a pipe and through keys://: the same frames."""
    header = json.loads(recording.read_text().splitlines()[0])
    device = PipeEventSource()
    source = start(Plug(tmp_path, [device]), FakeClock(), layout=header["layout"])
    try:
        replay(device, recording)
        live = [[event.kind, event.text] for event in (source.read(WAIT_S) for _ in header["expected"])]
    finally:
        source.close()
    frames = replayed(recording, layout=header["layout"], lang="en")
    assert live == header["expected"]
    assert frames[: len(live)] == live
    if recording.stem == "fr-cut-scans":  # the live scanner would wait; the recording ends there
        (cut,) = frames[len(live) :]
        last = len(type_text(sample_packs()[4]["raw"][:30], "fr", suffix=""))  # its key events, each with a SYN
        total = len(recording.read_text().splitlines())
        first = total - 2 * last + 1
        assert cut[0] == FAULT and cut[1].startswith(f"Lines {first}-{total}: the recording's last scan is cut off")
    else:
        assert frames == live


def test_the_committed_samples_are_what_the_generator_writes():
    for name, (recording, header) in samples().items():
        assert (SAMPLES_DIR / f"{name}.jsonl").read_text().splitlines() == recording.lines(header), name
    assert json.loads((SAMPLES_DIR / "packs.json").read_text()) == {"packs": sample_packs()}


def test_a_plain_list_of_code_value_lines_is_typed_step_ms_apart(tmp_path):
    lines = plain(PACK, "fr", control=ALT) + [json.dumps({"code": c, "value": v}) for c, v in type_text(OTHER, "fr")]
    assert replayed(write(tmp_path, lines), layout="fr") == [[SCAN, PACK], [SCAN, OTHER]]
    # 60 ms between keys is more than a 50 ms gap: every key is a scan of its own, too short to count
    assert replayed(write(tmp_path, plain(PACK, suffix="")), gap_ms=50, step_ms=60) == []


def test_scans_without_suffix_are_framed_by_the_gap_in_the_recorded_times(tmp_path):
    apart = KeyRecording().scan(PACK, "us", suffix="").scan(OTHER, "us", pause_ms=300, suffix="")
    assert replayed(apart.write(tmp_path / "apart.jsonl"), gap_ms=200) == [[SCAN, PACK], [SCAN, OTHER]]
    # back to back (less than the gap between them): one scan, as a live scanner frames it
    close = KeyRecording().scan(PACK, "us", suffix="").scan(OTHER, "us", pause_ms=100, suffix="")
    assert replayed(close.write(tmp_path / "close.jsonl"), gap_ms=200) == [[SCAN, PACK + OTHER]]


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "Ligne 3 : pas du JSON (enregistrement de touches) – ce scan est écarté, non envoyé"),
    ("en", "Line 3: not JSON (key recording) – that scan is discarded, not sent"),
    ("de", "Zeile 3: kein JSON (Tastenaufzeichnung) – dieser Scan wird verworfen, nicht gesendet"),
])
def test_a_line_that_is_not_json_is_named_and_its_scan_discarded(tmp_path, lang, text):
    lines = plain(PACK)
    lines.insert(2, '[1700000000, 5000, 1, 30')  # a line cut in the middle of a key of the first scan
    frames = replayed(write(tmp_path, lines + plain(OTHER)), lang=lang)
    assert frames == [[FAULT, text], [SCAN, OTHER]]  # the first scan lost a key: never sent


@pytest.mark.parametrize(("bad", "message"), [
    ('{"code": "A"}', "Line 5: expected [sec, usec, type, code, value] or [code, value] in a key recording, "
                      'got \'{"code": "A"}\''),
    ("[30, 1, 0]", "Line 5: expected [sec, usec, type, code, value] or [code, value] in a key recording"),
    ("[9999, 1]", "Line 5: unknown key event (type 1, code 9999, value 1) in the key recording"),
    ("[30, 7]", "Line 5: unknown key event (type 1, code 30, value 7)"),
    ("[1700000000, 5000, 99, 0, 0]", "Line 5: unknown key event (type 99, code 0, value 0)"),
    ("[1700000000, 5000, 0, 9, 0]", "Line 5: unknown key event (type 0, code 9, value 0)"),
    ("[true, 1]", "Line 5: expected [sec, usec, type, code, value] or [code, value]"),
])
def test_unknown_codes_and_wrong_shapes_are_named_by_line_and_the_replay_goes_on(tmp_path, bad, message):
    lines = plain(PACK)
    lines.insert(4, bad)
    (fault, scan) = replayed(write(tmp_path, lines + plain(OTHER)), lang="en")
    assert fault[0] == FAULT and fault[1].startswith(message) and fault[1].endswith("that scan is discarded, not sent")
    assert scan == [SCAN, OTHER]


def test_a_bad_line_between_scans_costs_no_scan_after_a_gap(tmp_path):
    recording = KeyRecording().scan(PACK, "us")
    lines = recording.lines({"layout": "us"}) + ["not json"]
    recording.events = []
    lines += recording.scan(OTHER, "us", pause_ms=500).lines()
    frames = replayed(write(tmp_path, lines), lang="en")
    bad = lines.index("not json") + 1
    assert frames == [[SCAN, PACK], [FAULT, f"Line {bad}: not JSON (key recording) – that scan is discarded, not sent"],
                      [SCAN, OTHER]]


def test_a_recording_cut_in_the_middle_of_a_key_or_after_enter_scans_is_named_and_not_sent(tmp_path):
    held = plain(PACK)[:-3]  # Enter's release and... cut while a key is still down
    frames = replayed(write(tmp_path, plain(OTHER) + held[:41], "held.jsonl"), lang="de")
    assert frames[0] == [SCAN, OTHER]
    assert frames[1:] == [[FAULT, f"Zeilen {len(plain(OTHER)) + 1}-{len(plain(OTHER)) + 41}: der letzte Scan der "
                                  "Aufzeichnung ist abgeschnitten (kein Enter); neu aufzeichnen – dieser Scan wird "
                                  "verworfen, nicht gesendet"]]
    # every key released, but this scanner ends its scans with Enter: the last one without it is cut
    released = plain(OTHER) + plain(PACK, suffix="")
    assert replayed(write(tmp_path, released, "released.jsonl"), lang="en")[1][0] == FAULT


def test_a_scanner_without_suffix_ends_its_last_scan_after_the_gap_as_live(tmp_path):
    path = KeyRecording().scan(PACK, "us", suffix="").scan(OTHER, "us", suffix="").write(tmp_path / "k.jsonl")
    assert replayed(path) == [[SCAN, PACK], [SCAN, OTHER]]


def test_syn_dropped_reseeds_modifiers_from_the_keys_the_recording_holds(tmp_path):
    lines = [json.dumps([codes.KEY_LEFTSHIFT, 1]), json.dumps([codes.KEY_A, 1]),
             json.dumps([1, 0, codes.EV_SYN, codes.SYN_DROPPED, 0]), json.dumps([1, 0, codes.EV_SYN, codes.SYN_REPORT, 0])]
    recording = KeyRecording(t0_ms=2000)  # Shift is still down when the next scan starts, a second later
    recording.keys([(codes.KEY_A, 1), (codes.KEY_A, 0), (codes.KEY_B, 1), (codes.KEY_B, 0),
                    (codes.KEY_C, 1), (codes.KEY_C, 0), (codes.KEY_ENTER, 1), (codes.KEY_ENTER, 0)])
    frames = replayed(write(tmp_path, lines + recording.lines()), lang="en")
    assert frames == [[FAULT, "keys were lost (SYN_DROPPED): the partial scan was discarded"], [SCAN, "ABC"]]


def test_speed_1_takes_the_recorded_time_and_speed_0_does_not(tmp_path):
    recording = KeyRecording().scan(PACK, "us").scan(OTHER, "us", pause_ms=700)
    span_s = (recording.events[-1][0] - recording.events[0][0]) + (recording.events[-1][1] - recording.events[0][1]) / 1e6
    began = time.monotonic()
    assert replayed(recording.write(tmp_path / "slow.jsonl"), speed=1) == [[SCAN, PACK], [SCAN, OTHER]]
    assert time.monotonic() - began >= span_s > 0.7  # from the first event to the last, in real time
    hour = KeyRecording().scan(PACK, "us").scan(OTHER, "us", pause_ms=3_600_000).write(tmp_path / "hour.jsonl")
    began = time.monotonic()
    assert replayed(hour, speed=0) == [[SCAN, PACK], [SCAN, OTHER]]
    assert time.monotonic() - began < 30  # an hour of recording, replayed at once (generous: a loaded machine)


def test_speed_1_ends_a_suffixless_scan_on_the_clock_before_the_next_key(tmp_path):
    path = KeyRecording().scan(PACK, "us", suffix="").scan(OTHER, "us", pause_ms=800).write(tmp_path / "k.jsonl")
    source = KeyReplaySource(str(path), gap_ms=100, speed=1).start()
    try:
        first = source.read(WAIT_S)
        got_first = time.monotonic()
        second = source.read(WAIT_S)
        assert (first.text, second.text) == (PACK, OTHER)
        assert time.monotonic() - got_first > 0.3  # the first scan came out by its gap, not with the second
    finally:
        source.close()


def test_a_long_recording_waits_for_the_terminal_instead_of_dropping_scans(tmp_path):
    recording = KeyRecording(step_ms=1)
    for n in range(QUEUE_LIMIT + 40):
        recording.scan(f"]d2{n:05d}", "us", pause_ms=0)
    source = KeyReplaySource(str(recording.write(tmp_path / "many.jsonl")), speed=0).start()
    try:
        time.sleep(0.5)  # nobody reads: a live scanner's queue would drop the excess
        frames = drain(source)
    finally:
        source.close()
    assert frames == [[SCAN, f"]d2{n:05d}"] for n in range(QUEUE_LIMIT + 40)]


def test_close_stops_a_real_time_replay_at_once(tmp_path):
    path = KeyRecording().scan(PACK, "us").scan(OTHER, "us", pause_ms=3_600_000).write(tmp_path / "k.jsonl")
    source = KeyReplaySource(str(path), speed=1).start()
    assert source.read(WAIT_S).text == PACK
    began = time.monotonic()
    source.close()
    assert time.monotonic() - began < 2.5 and not source._thread.is_alive()


def test_the_factory_opens_keys_urls_with_their_options_and_the_guard(tmp_path):
    path = KeyRecording().scan(C1, "fr").scan(PACK, "fr").scan(PACK, "us").write(tmp_path / "day.jsonl")
    profile = tmp_path / "profile.json"
    source = open_scanner(f"keys://{path}?layout=fr&gap_ms=50&speed=0&step_ms=4&profile={profile}&lang=en")
    try:
        assert isinstance(source, GuardedScanSource)
        assert (source.source.framer.gap_ms, source.source.speed, source.source.step_ms) == (50, 0, 4)
        calibrated = source.read(WAIT_S)
        assert calibrated.kind == FAULT and calibrated.check.reason == CALIBRATED
        assert load_profile(str(profile)).layout == "fr"
        assert source.read(WAIT_S).text == PACK
        held = source.read(WAIT_S)  # reset to US: held, not passed on
        assert held.kind == FAULT and held.check.reason == "settings_changed"
        assert held.text == "Scanner settings changed: scan the calibration code"
        assert source.read(WAIT_S).kind == END
    finally:
        source.close()


@pytest.mark.parametrize(("url", "message"), [
    ("keys://", "names no key recording"),
    ("keys://x.jsonl?speed=-1", "speed must be a number from 0 up"),
    ("keys://x.jsonl?speed=fast", "speed must be a number from 0 up"),
    ("keys://x.jsonl?speed=nan", "speed must be a number from 0 up"),
    ("keys://x.jsonl?step_ms=0", "step_ms must be positive"),
    ("keys://x.jsonl?baud=9600", "unknown parameter 'baud'"),
])
def test_the_factory_refuses_bad_keys_urls(url, message):
    with pytest.raises(ConfigError, match=message):
        open_scanner(url)


def test_a_missing_recording_is_a_device_error_naming_it(tmp_path):
    with pytest.raises(DeviceError, match="key recording .*absent.jsonl.* cannot be read"):
        open_scanner(f"keys://{tmp_path}/absent.jsonl")


def test_calibrate_reads_a_record_file_with_its_header_and_event_times(tmp_path, capsys):
    profile = tmp_path / "p.json"
    status = cli.main(["calibrate", "--keys", str(SAMPLES_DIR / "fr-ctrl-c1.jsonl"), "--profile", str(profile),
                       "--lang", "en"])
    assert status == 0, capsys.readouterr()
    stored = load_profile(str(profile))
    assert (stored.layout, stored.control("GS"), stored.suffix) == ("fr", CTRL, "CR")
