"""Mutual-TLS handshake with the client key in a PKCS#11 token (SoftHSM2), beside the same key in a file.

Ours: a new connection's context built by the transport's way for a token key (certificate chain and
the token's key installed into the ``SSL_CTX`` through the libp11 engine, ``verification.pkcs11``),
then a full TLS 1.2 handshake in which the token signs. Anchor, interleaved connection by connection
in the same run: the same certificate with the same key read from a PEM file (``load_cert_chain``).
Both handshake with one TLS server in a thread of this process that requires a client certificate.
A connection is made once per keep-alive session, not per scan: this is the cost of a reconnect.

Usage: ``python benchmarks/bench_pkcs11_handshake.py [--handshakes 200]``. Needs softhsm2 and
libengine-pkcs11-openssl (``make system-packages``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "device")]

import trustme  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4711-0815"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def serve(server_ctx: ssl.SSLContext, listener: socket.socket, stop: threading.Event) -> None:
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            raw, _ = listener.accept()
        except TimeoutError:
            continue
        try:
            with server_ctx.wrap_socket(raw, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=200)
    args = parser.parse_args(argv)
    if not os.path.exists(MODULE) or not shutil.which("softhsm2-util"):
        print("bench_pkcs11_handshake: softhsm2 is not installed (make system-packages)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "softhsm2.conf")
        os.mkdir(os.path.join(tmp, "tokens"))
        with open(conf, "w") as handle:
            handle.write(f"directories.tokendir = {tmp}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = conf
        util = shutil.which("softhsm2-util") or "softhsm2-util"
        subprocess.run([util, "--init-token", "--free", "--label", "bench", "--pin", PIN, "--so-pin", "12345678"],
                       check=True, capture_output=True)
        ca = trustme.CA()
        leaf = ca.issue_cert("pharmacy.example")
        cert = os.path.join(tmp, "c.pem")
        key_file = os.path.join(tmp, "c-key.pem")
        leaf.cert_chain_pems[0].write_to_path(cert)
        leaf.private_key_pem.write_to_path(key_file)
        key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
        p8 = os.path.join(tmp, "k.p8")
        with open(p8, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        subprocess.run([util, "--import", p8, "--token", "bench", "--label", "k", "--id", "01", "--pin", PIN],
                       check=True, capture_output=True)
        from fmd_terminal.verification.pkcs11 import token_key

        token = token_key(f"pkcs11:token=bench;object=k?module-path={MODULE}", PIN)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(server_ctx)
        listener = socket.create_server(("127.0.0.1", 0))
        stop = threading.Event()
        thread = threading.Thread(target=serve, args=(server_ctx, listener, stop), daemon=True)
        thread.start()
        port = listener.getsockname()[1]

        def client_context() -> ssl.SSLContext:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ca.configure_trust(ctx)
            return ctx

        def handshake(use_token: bool) -> float:
            started = time.perf_counter()
            ctx = client_context()
            if use_token:
                token.install(ctx, cert)
            else:
                ctx.load_cert_chain(cert, key_file)
            with socket.create_connection(("127.0.0.1", port)) as raw, \
                    ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"x")
            return (time.perf_counter() - started) * 1000

        for _ in range(10):  # warm-up
            handshake(True)
            handshake(False)
        ours, anchor = [], []
        for _ in range(args.handshakes):
            ours.append(handshake(True))
            anchor.append(handshake(False))
        stop.set()
        thread.join(5)
        listener.close()
    for label, p in (("p50", 50), ("p95", 95)):
        o, a = percentile(ours, p), percentile(anchor, p)
        print(f"mutual-TLS handshake {label}: token key {o:.2f} ms, key file (anchor) {a:.2f} ms, ratio {o / a:.2f}")
    print(f"mean: token {statistics.mean(ours):.2f} ms, file {statistics.mean(anchor):.2f} ms "
          f"({args.handshakes} handshakes each, interleaved)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
