"""The terminal's texts in French (default), English and German, through gettext catalogues.

The core (``fmd_core.flow``, ``fmd_core.outcomes``) produces message ids such as ``authentic`` or
``mode.verify``; this module turns them into text. The ``.po`` files under ``locale/<lang>/LC_MESSAGES``
are the source; the compiled ``.mo`` files are committed beside them so that the terminal needs no
build step. ``python -m fmd_terminal.i18n compile`` rewrites the ``.mo`` files; a test compiles again
and fails when a committed ``.mo`` differs or a language lacks a message id.

The compiler is the few lines of GNU msgfmt's format that we use (no plural forms, no contexts), so
no gettext tools or Babel are needed on a fresh clone.
"""

from __future__ import annotations

import ast
import gettext
import struct
import sys
from pathlib import Path

from fmd_terminal.errors import ConfigError

DOMAIN = "fmd_terminal"
LANGUAGES = ("fr", "en", "de")
DEFAULT_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def parse_po(text: str) -> dict[str, str]:
    """Message id -> text, from a ``.po`` file without plurals or contexts (the header is id "")."""
    messages: dict[str, str] = {}
    current: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if "msgid" in current:
            messages[current["msgid"]] = current.get("msgstr", "")
        current.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            key, rest = "msgid", line[6:]
        elif line.startswith("msgstr "):
            key, rest = "msgstr", line[7:]
        elif line.startswith('"'):
            rest = line
        else:
            raise ConfigError(f"line {number} of a .po file: unexpected {raw!r}")
        try:
            value = ast.literal_eval(rest)
        except (ValueError, SyntaxError) as error:
            raise ConfigError(f"line {number} of a .po file: bad string {rest!r}") from error
        current[key] = current.get(key, "") + value
    flush()
    return messages


def compile_mo(messages: dict[str, str]) -> bytes:
    """The GNU ``.mo`` format (little-endian, revision 0, no hash table), ids sorted as msgfmt does."""
    ids = sorted(messages)
    id_bytes = [i.encode("utf-8") for i in ids]
    str_bytes = [messages[i].encode("utf-8") for i in ids]
    n = len(ids)
    header_size = 7 * 4
    ids_offset = header_size
    strs_offset = ids_offset + 8 * n
    data_offset = strs_offset + 8 * n
    table_ids: list[tuple[int, int]] = []
    table_strs: list[tuple[int, int]] = []
    data = b""
    for blob, table in [(b, table_ids) for b in id_bytes] + [(b, table_strs) for b in str_bytes]:
        table.append((len(blob), data_offset + len(data)))
        data += blob + b"\0"
    out = struct.pack("<7I", 0x950412DE, 0, n, ids_offset, strs_offset, 0, data_offset)
    for length, offset in table_ids + table_strs:
        out += struct.pack("<2I", length, offset)
    return out + data


def compile_language(lang: str) -> bytes:
    return compile_mo(parse_po(po_path(lang).read_text(encoding="utf-8")))


def compile_all() -> list[Path]:
    written = []
    for lang in LANGUAGES:
        target = po_path(lang).with_suffix(".mo")
        target.write_bytes(compile_language(lang))
        written.append(target)
    return written


class Translator:
    """Message id (+ named fields) -> text in one language. A missing id falls back to French."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.switch(lang)

    def switch(self, lang: str) -> None:
        """Speak ``lang`` from now on (the console's settings page, issue 15): everything holding this
        translator (presenter, idle health, quarter lines) follows; one reference swap, thread-safe."""
        if lang not in LANGUAGES:
            raise ConfigError(f"unknown language {lang!r}: expected one of {', '.join(LANGUAGES)}")
        catalogue = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])
        if lang != DEFAULT_LANGUAGE:
            catalogue.add_fallback(
                gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[DEFAULT_LANGUAGE]))
        self._gettext = catalogue.gettext
        self.lang = lang

    def __call__(self, message_id: str, **fields: object) -> str:
        text = self._gettext(message_id)
        return text.format(**fields) if fields else text

    def has(self, message_id: str) -> bool:
        return self._gettext(message_id) != message_id


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["compile"]:
        print("usage: python -m fmd_terminal.i18n compile", file=sys.stderr)
        return 2
    for path in compile_all():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
