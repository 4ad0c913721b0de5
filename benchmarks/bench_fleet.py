"""Fleet scale: health of 22,000 devices every 60 s plus the site ledger's peak hour, on one Mosquitto.

How the load is made (a bounded number of connections, each carrying many device identities): the
broker is a real Mosquitto with TLS client certificates on 127.0.0.1; ``--connections`` publishers
(8), each one certificate allowed to write ``fmd/+/+/health`` (as a site bridge is), share the
devices between them and publish each device's retained health (a realistic ~600-byte JSON) once per
period, spread evenly over it. ``--devices`` sites of 3 devices each make the ledger load: 400 scans
a day per site, 15 % of them in the peak hour, each scan a claim, a ``recorded`` and a ``final``
(QoS 1, the ledger entries retained with an 11-day expiry), published and echoed over 2 connections
subscribed to every site's claims.

Bounded duration: first every device publishes once (the fill: the broker's burst rate, and the
fleet's first full view), then a steady window of ``--window`` seconds (40) at the real rate: the
device count is never scaled down, only the time observed.

Reported, each beside its anchor measured in the same run:
- the broker's message rate (published and delivered per second, from the clients' counts);
- ``fmd-fleet``'s CPU (share of one core) and memory (RSS, peak) over the steady window, beside
  ``mosquitto_sub`` receiving the same stream (its CPU and RSS);
- the p95 age of a device's state when it lands in ``fmd-fleet`` (its ``/metrics`` quantile, received
  minus sent), beside the same age at ``mosquitto_sub`` (read by this process from its pipe);
- the claim's echo round trip (p95), the ledger's decision time.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fmd_provision.mosquitto import SiteBroker, free_port
from fmd_provision.site_broker import write_site

PERIOD_S = 60.0
SCANS_PER_DAY = 400
PEAK_SHARE = 0.15
DEVICES_PER_SITE = 3
TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_mem_kib(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return rss, hwm


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(0.95 * len(values)))] if values else float("nan")


def health(site: int, device: int, sent: float | None) -> str:
    return json.dumps({
        "v": 1, "state": "online", "site": f"s{site}", "device": f"d{device}", "counter": str(device % 3 + 1),
        "version": "0.1.0", "at": int(time.time()), "sent": sent, "uptime_s": random.randint(0, 10**6),
        "cert_expiry": None, "password_expiry": None, "terms_expiry": None, "pending": random.randint(0, 3),
        "attention": 0, "oldest_pending_age_s": None, "backlog": None, "alerts_today": 0, "alerts_30d": 0,
        "ops_30d": random.randint(0, 12000), "alert_rate_30d": 0.0, "alert_rate_target": 0.0005,
        "decommissions_quarter": random.randint(0, 30000), "last_decommission_at": int(time.time()) - 60,
        "scanner_calibration": "calibrated", "storage_headroom_bytes": 12_000_000_000,
        "link": {"service": "up", "ledger": "online"}}, separators=(",", ":"))


def client(broker: SiteBroker, name: str) -> mqtt.Client:
    made = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
    cert, key = broker.identity(name)
    made.tls_set(ca_certs=broker.ca, certfile=cert, keyfile=key)
    made.max_inflight_messages_set(1000)
    made.max_queued_messages_set(0)
    connected = threading.Event()
    made.on_connect = lambda *_a: connected.set()
    made.connect(broker.host, broker.port, keepalive=60)
    made.loop_start()
    if not connected.wait(30):
        raise SystemExit(f"{name}: no connection to the broker")
    return made


class Anchor:
    """mosquitto_sub on the same stream; this process timestamps each line it prints."""

    def __init__(self, broker: SiteBroker) -> None:
        cert, key = broker.identity("anchor")
        self.process = subprocess.Popen(
            [shutil.which("mosquitto_sub") or "mosquitto_sub", "-h", broker.host, "-p", str(broker.port),
             "--cafile", broker.ca, "--cert", cert, "--key", key, "-i", "anchor", "-q", "1", "-V", "mqttv5",
             "-t", "fmd/+/+/health", "-F", "%p"], stdout=subprocess.PIPE, bufsize=1 << 20)
        self.count = 0
        self.delays: list[float] = []
        self.measure = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            now = time.time()
            self.count += 1
            if self.measure:
                sent = json.loads(line).get("sent")
                if sent is not None:
                    self.delays.append(now - sent)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def fleet_metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as answer:
        text = answer.read().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith(("fmd_fleet_state_delay_seconds", "fmd_fleet_devices")):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


class Ledger:
    """Two site terminals' worth of ledger traffic for every site: claim, echo, recorded, final."""

    def __init__(self, broker: SiteBroker, sites: int) -> None:
        self.sites = sites
        self.sent_at: dict[str, float] = {}
        self.rtts: list[float] = []
        self.published = 0
        self.received = 0
        self.clients = [client(broker, f"ledger{i}") for i in range(2)]
        for made in self.clients:
            made.on_message = self._message
            done = threading.Event()
            made.on_subscribe = lambda *_a, done=done: done.set()
            made.subscribe("fmd/+/claim/+", qos=1)
            done.wait(30)
        self.expiry = Properties(PacketTypes.PUBLISH)
        self.expiry.MessageExpiryInterval = 11 * 86400

    def _message(self, _c, _u, message) -> None:
        self.received += 1
        token = json.loads(message.payload)["token"]
        sent = self.sent_at.pop(token, None)
        if sent is not None:
            self.rtts.append(time.perf_counter() - sent)

    def scan(self, n: int) -> None:
        site = random.randrange(self.sites)
        key = f"{random.getrandbits(128):032x}"
        token = f"{n:x}-{random.getrandbits(32):x}"
        made = self.clients[n % 2]
        self.sent_at[token] = time.perf_counter()
        claim = json.dumps({"v": 1, "token": token, "device": f"d{site * 3}", "kind": "dispense", "at": int(time.time())})
        made.publish(f"fmd/s{site}/claim/{key}", claim, qos=1)
        for stage in ("recorded", "final"):
            entry = json.dumps({"v": 1, "stage": stage, "kind": "dispense", "device": f"d{site * 3}",
                                "at": int(time.time()), "outcome": "done" if stage == "final" else None})
            made.publish(f"fmd/s{site}/ledger/{key}", entry, qos=1, retain=True, properties=self.expiry)
        self.published += 3


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    port = free_port()
    loaders = [f"load{i}" for i in range(args.connections)]
    ledgers = ["ledger0", "ledger1"]
    write_site(tmp / "broker", "bench", [], port, readers=[], run_as=getpass.getuser(),
               more_sites={"benchids": [*loaders, *ledgers, "fleet", "anchor"]})
    acl = tmp / "broker" / "acl"
    acl.write_text("".join(f"user {name}\ntopic write fmd/+/+/health\n\n" for name in loaders)
                   + "".join(f"user {name}\ntopic readwrite fmd/+/claim/#\ntopic write fmd/+/ledger/#\n\n"
                             for name in ledgers)
                   + "user fleet\ntopic read fmd/+/+/health\n\nuser anchor\ntopic read fmd/+/+/health\n")
    broker = SiteBroker(tmp / "broker", "bench", port).start()
    fleet_port = free_port()
    cert, key = broker.identity("fleet")
    fleet = subprocess.Popen([str(Path(sys.executable).parent / "fmd-fleet"), "--broker", f"127.0.0.1:{port}",
                              "--ca", broker.ca, "--cert", cert, "--key", key, "--client-id", "fleet",
                              "--listen", f"127.0.0.1:{fleet_port}"], stdout=subprocess.DEVNULL)
    anchor = Anchor(broker)
    status = 0
    try:
        time.sleep(2.0)  # fmd-fleet and mosquitto_sub subscribe
        publishers = [client(broker, name) for name in loaders]
        devices = [(d // DEVICES_PER_SITE, d) for d in range(args.devices)]
        sites = args.devices // DEVICES_PER_SITE

        def publish_all(sent: bool) -> int:
            count = 0
            for site, device in devices:
                infos = publishers[device % len(publishers)].publish(
                    f"fmd/s{site}/d{device}/health", health(site, device, time.time() if sent else None),
                    qos=1, retain=True)
                count += 1
                if count % 2000 == 0:
                    infos.wait_for_publish(60)
            return count

        # -- fill: every device once, as fast as the publishers go --------------------------------
        started = time.perf_counter()
        publish_all(False)
        end = time.monotonic() + 120
        while anchor.count < args.devices and time.monotonic() < end:
            time.sleep(0.05)
        fill_s = time.perf_counter() - started
        while fleet_metrics(fleet_port).get('fmd_fleet_devices{level="ok"}', 0) < args.devices and time.monotonic() < end:
            time.sleep(0.2)
        fleet_fill_s = time.perf_counter() - started
        print(f"fill: {args.devices} devices over {args.connections} connections: mosquitto_sub had all after "
              f"{fill_s:.2f} s ({args.devices / fill_s:.0f} msg/s delivered), fmd-fleet's metrics showed all after "
              f"{fleet_fill_s:.2f} s (polled by /metrics scrapes, each one slow at this size): ratio "
              f"{fill_s / fleet_fill_s:.2f}")

        # -- steady window at the real rate ---------------------------------------------------------
        ledger = Ledger(broker, sites)
        health_rate = args.devices / args.period
        scan_rate = sites * SCANS_PER_DAY * PEAK_SHARE / 3600.0
        anchor.measure = True
        anchor_count0 = anchor.count
        fleet_cpu0, sub_cpu0, broker_cpu0 = proc_cpu_s(fleet.pid), proc_cpu_s(anchor.process.pid), proc_cpu_s(broker.process.pid)
        started = time.perf_counter()
        sent_health = scans = 0
        order = list(devices)
        random.shuffle(order)
        while (now := time.perf_counter() - started) < args.window:
            while sent_health < min(len(order) * 10, int(now * health_rate)):
                site, device = order[sent_health % len(order)]
                publishers[device % len(publishers)].publish(
                    f"fmd/s{site}/d{device}/health", health(site, device, time.time()), qos=1, retain=True)
                sent_health += 1
            while scans < int(now * scan_rate):
                ledger.scan(scans)
                scans += 1
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)  # the last messages land
        fleet_cpu = (proc_cpu_s(fleet.pid) - fleet_cpu0) / elapsed
        sub_cpu = (proc_cpu_s(anchor.process.pid) - sub_cpu0) / elapsed
        broker_cpu = (proc_cpu_s(broker.process.pid) - broker_cpu0) / elapsed
        fleet_rss, fleet_hwm = proc_mem_kib(fleet.pid)
        sub_rss, sub_hwm = proc_mem_kib(anchor.process.pid)
        scraped = time.perf_counter()
        metrics = fleet_metrics(fleet_port)
        scrape_s = time.perf_counter() - scraped
        fleet_p95 = metrics.get('fmd_fleet_state_delay_seconds{quantile="0.95"}', float("nan"))
        anchor_p95 = p95(anchor.delays)
        published = sent_health + ledger.published
        delivered = (anchor.count - anchor_count0) * 2 + ledger.received  # health to fmd-fleet and the anchor
        print(f"steady window {elapsed:.1f} s: {args.devices} devices every {args.period:.0f} s "
              f"({health_rate:.0f} health msg/s) + ledger peak hour of {sites} sites "
              f"({scan_rate:.0f} scans/s, 3 messages each)")
        print(f"    broker: {published / elapsed:.0f} msg/s published, {delivered / elapsed:.0f} msg/s delivered; "
              f"mosquitto CPU {broker_cpu * 100:.0f} % of a core")
        print(f"    target 22,000 devices / 60 s = 367 health msg/s: ratio {sent_health / elapsed / 366.7:.2f}")
        print(f"    fmd-fleet CPU {fleet_cpu * 100:.1f} % of a core; anchor mosquitto_sub {sub_cpu * 100:.1f} %: "
              f"ratio {fleet_cpu / max(sub_cpu, 1e-6):.1f}")
        print(f"    fmd-fleet memory RSS {fleet_rss / 1024:.0f} MiB (peak {fleet_hwm / 1024:.0f} MiB) for "
              f"{args.devices} device states; anchor mosquitto_sub RSS {sub_rss / 1024:.1f} MiB (peak "
              f"{sub_hwm / 1024:.1f}): ratio {fleet_rss / max(sub_rss, 1):.1f}")
        print(f"    p95 age of a device's state on arrival: fmd-fleet metrics {fleet_p95 * 1000:.1f} ms; anchor "
              f"mosquitto_sub {anchor_p95 * 1000:.1f} ms: ratio {fleet_p95 / anchor_p95:.2f}")
        print(f"    one /metrics scrape of {args.devices} devices (about 10 series each): {scrape_s:.2f} s")
        print(f"    ledger claim echo round trip p95 {p95(ledger.rtts) * 1000:.1f} ms over {len(ledger.rtts)} claims "
              f"(the terminal's bound: 150 ms)")
        if anchor.count - anchor_count0 < 0.95 * sent_health or not fleet_p95 == fleet_p95:
            print("    FAILED: messages were lost", file=sys.stderr)
            status = 1
        for made in publishers + ledger.clients:
            made.disconnect()
            made.loop_stop()
    finally:
        anchor.close()
        fleet.terminate()
        fleet.wait(10)
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=22000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--period", type=float, default=PERIOD_S)
    parser.add_argument("--window", type=float, default=40.0)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
