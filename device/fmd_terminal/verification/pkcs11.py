"""A client key held in a PKCS#11 token (a CPS card, a TPM through tpm2-pkcs11, SoftHSM2), for mutual TLS.

``client_key`` may be an RFC 7512 URI instead of a file::

    pkcs11:token=fmd;object=terminal;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so

The path names the key (RFC 7512 s. 2.3: ``token``, ``object``, ``id``, ``serial``, ...); the query
names the PKCS#11 module (``module-path``, s. 2.4) and may carry ``pin-source`` (a file holding the
PIN). The PIN comes from the secrets file (``client_key_pin``), else the URI, else it is asked once on
the console; it is never logged. The key never leaves the token: the TLS handshake's signature is
made by the token.

Mechanism. CPython's ``ssl`` loads keys only from files, and OpenSSL 3's ``pkcs11-provider`` (which
could load a key named in a PEM file) is not packaged for Debian 12. The libp11 engine is
(``libengine-pkcs11-openssl``, version 0.4.12 here), and OpenSSL 3.0 still runs engines. So
``TokenKey`` loads the engine through libcrypto, loads the token's key as an engine-backed
``EVP_PKEY`` once (one login per process), and ``install`` puts the certificate chain and that key
into the ``SSL_CTX`` behind each ``ssl.SSLContext`` the transport creates (``SSL_CTX_use_PrivateKey``),
through ``ctypes`` on the very libssl and libcrypto the ``_ssl`` module is linked to (checked by
version number, and the ``SSL_CTX`` pointer checked against the context's options before use). TLS
verification is untouched: it stays as the transport set it.
"""

from __future__ import annotations

import ctypes
import getpass
import logging
import os
import ssl
import sys
import threading
from typing import Any
from urllib.parse import unquote

from fmd_terminal.errors import ConfigError

log = logging.getLogger(__name__)

SCHEME = "pkcs11:"
ENGINE_PACKAGE = "libengine-pkcs11-openssl"


def is_pkcs11_uri(value: str | None) -> bool:
    return bool(value) and str(value).lower().startswith(SCHEME)


class Pkcs11Uri:
    """An RFC 7512 URI split into its path and query attributes (percent-decoded)."""

    __slots__ = ("text", "path", "query")

    def __init__(self, text: str) -> None:
        if not is_pkcs11_uri(text):
            raise ConfigError.text("pkcs11_scheme", key=repr(text))
        self.text = text
        body = text[len(SCHEME):]
        path, _, query = body.partition("?")
        self.path = _attributes(path, ";", text)
        self.query = _attributes(query, "&", text)
        if "module-path" not in self.query:
            raise ConfigError.text("pkcs11_module", key=repr(self.redacted()))  # RFC 7512 s. 2.4
        if not ({"object", "id"} & set(self.path)):
            raise ConfigError.text("pkcs11_object", key=repr(self.redacted()))

    @property
    def module_path(self) -> str:
        return self.query["module-path"]

    def key_uri(self) -> str:
        """The path part alone (no module, no PIN), as the engine takes it."""
        return self.text.partition("?")[0]

    def redacted(self) -> str:
        """The URI for messages and logs: a ``pin-value`` is replaced."""
        if "pin-value" not in self.path and "pin-value" not in self.query:
            return self.text
        return self.text.split("pin-value=")[0] + "pin-value=***"


def _attributes(part: str, separator: str, text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in filter(None, part.split(separator)):
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise ConfigError.text("pkcs11_item", item=repr(item))
        found[name.lower()] = unquote(value)
    return found


def read_pin(uri: Pkcs11Uri, pin: str | None) -> str:
    """The PIN: given (secrets file), else ``pin-value`` / ``pin-source`` of the URI, else asked once."""
    if pin:
        return pin
    if uri.query.get("pin-value") or uri.path.get("pin-value"):
        return uri.query.get("pin-value") or uri.path["pin-value"]
    source = uri.query.get("pin-source")
    if source:
        source = source.removeprefix("file:")
        try:
            with open(source, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as error:
            raise ConfigError.text("pin_file_unreadable", path=repr(source), why=error.strerror) from error
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"PIN of {uri.path.get('token', 'the token')}: ")
    raise ConfigError.text("pin_needed", key=repr(uri.redacted()))


class _OpenSSL:
    """The libssl and libcrypto the ``_ssl`` module runs on, with the few prototypes used here."""

    def __init__(self) -> None:
        paths = _loaded_libraries(("libssl.so", "libcrypto.so"))
        self.ssl = ctypes.CDLL(paths["libssl.so"])
        self.crypto = ctypes.CDLL(paths["libcrypto.so"])
        c = self.crypto
        c.OpenSSL_version_num.restype = ctypes.c_ulong
        if c.OpenSSL_version_num() != ssl.OPENSSL_VERSION_NUMBER:
            raise ConfigError("PKCS#11 keys: the OpenSSL library found is not the one Python's ssl uses")
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        prototypes: tuple[tuple[Any, str, Any, list[Any]], ...] = (
            (c, "ENGINE_by_id", vp, [cp]), (c, "ENGINE_ctrl_cmd_string", ctypes.c_int, [vp, cp, cp, ctypes.c_int]),
            (c, "ENGINE_init", ctypes.c_int, [vp]), (c, "ENGINE_load_private_key", vp, [vp, cp, vp, vp]),
            (c, "ERR_get_error", ctypes.c_ulong, []),
            (c, "ERR_error_string_n", None, [ctypes.c_ulong, cp, ctypes.c_size_t]),
            (c, "ERR_clear_error", None, []),
            (self.ssl, "SSL_CTX_get_options", ctypes.c_uint64, [vp]),
            (self.ssl, "SSL_CTX_use_certificate_chain_file", ctypes.c_int, [vp, cp]),
            (self.ssl, "SSL_CTX_use_PrivateKey", ctypes.c_int, [vp, vp]),
            (self.ssl, "SSL_CTX_check_private_key", ctypes.c_int, [vp]),
        )
        for library, name, restype, argtypes in prototypes:
            getattr(library, name).restype = restype
            getattr(library, name).argtypes = argtypes

    def errors(self) -> str:
        """Drain libcrypto's error queue into one line (nothing secret goes into it)."""
        texts = []
        buffer = ctypes.create_string_buffer(256)
        while code := self.crypto.ERR_get_error():
            self.crypto.ERR_error_string_n(code, buffer, len(buffer))
            texts.append(buffer.value.decode("ascii", "replace"))
        return "; ".join(texts[-3:]) or "no detail"

    def ssl_ctx(self, context: ssl.SSLContext) -> int:
        """The ``SSL_CTX *`` behind a context: the first field after the object header (CPython's
        ``PySSLContext``), checked against the context's own options before it is used."""
        pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
        if not pointer or self.ssl.SSL_CTX_get_options(pointer) != context.options:
            raise ConfigError("PKCS#11 keys: this Python's ssl module is laid out differently; use a key file")
        return pointer


def _loaded_libraries(prefixes: tuple[str, ...]) -> dict[str, str]:
    """Paths of the shared libraries of this process whose names start with ``prefixes`` (Linux)."""
    found: dict[str, str] = {}
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                name = os.path.basename(path)
                for prefix in prefixes:
                    if name.startswith(prefix) and prefix not in found:
                        found[prefix] = path
    except OSError:
        pass
    missing = [p for p in prefixes if p not in found]
    if missing:
        raise ConfigError(f"PKCS#11 keys need Python's ssl linked to OpenSSL 3 ({', '.join(missing)} not found)")
    return found


class TokenKey:
    """A private key in a token, loaded once through the libp11 engine (see the module docstring)."""

    def __init__(self, uri: Pkcs11Uri, pin: str) -> None:
        self.uri = uri
        lib = self._lib = _OpenSSL()
        if not os.path.exists(uri.module_path):
            raise ConfigError.text("pkcs11_module_absent", key=repr(uri.redacted()), module=repr(uri.module_path))
        engine = lib.crypto.ENGINE_by_id(b"pkcs11")
        if not engine:
            lib.errors()
            raise ConfigError.text("pkcs11_engine", package=ENGINE_PACKAGE)
        for command, value in ((b"MODULE_PATH", uri.module_path), (b"PIN", pin)):
            if lib.crypto.ENGINE_ctrl_cmd_string(engine, command, value.encode(), 0) != 1:
                raise ConfigError(f"PKCS#11 engine refused {command.decode()}: {lib.errors()}")
        if lib.crypto.ENGINE_init(engine) != 1:
            raise ConfigError.text("pkcs11_start", module=repr(uri.module_path), why=lib.errors())
        self._engine = engine
        self._pkey = lib.crypto.ENGINE_load_private_key(engine, uri.key_uri().encode(), None, None)
        if not self._pkey:
            detail = lib.errors()
            raise ConfigError.text("pkcs11_no_key", key=repr(uri.redacted()), why=detail)
        log.info("client key loaded from token %s", uri.path.get("token", "?"))

    def check(self, cert_path: str) -> None:
        """Refuse at start-up a certificate that does not belong to the token's key."""
        self.install(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), cert_path)

    def install(self, context: ssl.SSLContext, cert_path: str) -> None:
        """Put ``cert_path`` (chain, PEM) and the token's key into ``context``; refuse a mismatch."""
        lib = self._lib
        pointer = lib.ssl_ctx(context)
        if lib.ssl.SSL_CTX_use_certificate_chain_file(pointer, os.fsencode(cert_path)) != 1:
            raise ConfigError.text("pkcs11_cert", path=repr(cert_path), why=lib.errors())
        if lib.ssl.SSL_CTX_use_PrivateKey(pointer, self._pkey) != 1 or lib.ssl.SSL_CTX_check_private_key(pointer) != 1:
            raise ConfigError.text("pkcs11_pair", path=repr(cert_path), key=repr(self.uri.redacted()), why=lib.errors())


_TOKENS: dict[tuple[str, str], TokenKey] = {}
_TOKENS_LOCK = threading.Lock()


def token_key(uri_text: str, pin: str | None = None) -> TokenKey:
    """The key ``uri_text`` names, logged into once per process and URI (a CPS card asks its PIN once)."""
    uri = Pkcs11Uri(uri_text)
    with _TOKENS_LOCK:
        key = _TOKENS.get((uri_text, pin or ""))
        if key is None:
            key = _TOKENS[(uri_text, pin or "")] = TokenKey(uri, read_pin(uri, pin))
        return key
