"""argparse's own texts for ``fmd-terminal`` in the person's language: usage errors and help headings.

ARCHITECTURE.md: every user-facing text exists in French (the default), English and German, and a
refusal is one line naming the problem and the fix. argparse writes its messages in English through
``argparse._`` and ``argparse.ngettext`` (the stdlib ``gettext`` functions it imports); ``speaking(lang)``
puts this module's table in their place while ``fmd-terminal`` builds its parser and parses the
arguments, and ``Parser.error`` prints one line (``fmd-terminal: <problem>. <where the options are>``)
instead of argparse's usage block, with exit code 2.

The language is taken before the arguments are parsed: ``--lang X`` on the command line when ``X`` is
one we speak, else ``FMD_LANG``, else French.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from fmd_terminal.i18n import DEFAULT_LANGUAGE, LANGUAGES

# argparse's English message -> (French, German); English is argparse's own text.
ARGPARSE: dict[str, tuple[str, str]] = {
    # help headings
    "usage: ": ("utilisation : ", "Aufruf: "),
    "positional arguments": ("arguments", "Argumente"),
    "options": ("options", "Optionen"),
    "show this help message and exit": ("afficher cette aide et quitter", "diese Hilfe zeigen und beenden"),
    "show program's version number and exit": ("afficher la version et quitter", "die Version zeigen und beenden"),
    # usage errors
    "argument %(argument_name)s: %(message)s": ("argument %(argument_name)s : %(message)s",
                                                "Argument %(argument_name)s: %(message)s"),
    "the following arguments are required: %s": ("il manque l'argument obligatoire %s",
                                                 "es fehlt das Pflichtargument %s"),
    "invalid choice: %(value)r (choose from %(choices)s)": ("%(value)r n'est pas un choix possible (choisir parmi "
                                                            "%(choices)s)",
                                                            "%(value)r ist keine erlaubte Wahl (erlaubt: %(choices)s)"),
    "invalid %(type)s value: %(value)r": ("%(value)r n'est pas une valeur %(type)s valable",
                                          "%(value)r ist kein gültiger %(type)s-Wert"),
    "unrecognized arguments: %s": ("argument(s) inconnu(s) : %s", "unbekannte(s) Argument(e): %s"),
    "expected one argument": ("une valeur est attendue après l'option", "nach der Option wird ein Wert erwartet"),
    "expected at most one argument": ("au plus une valeur est attendue", "höchstens ein Wert wird erwartet"),
    "expected at least one argument": ("au moins une valeur est attendue", "mindestens ein Wert wird erwartet"),
    "expected %s argument": ("%s valeur attendue", "%s Wert erwartet"),
    "expected %s arguments": ("%s valeurs attendues", "%s Werte erwartet"),
    "ambiguous option: %(option)s could match %(matches)s": ("option ambiguë : %(option)s peut désigner %(matches)s",
                                                             "mehrdeutige Option: %(option)s kann %(matches)s "
                                                             "bedeuten"),
    "not allowed with argument %s": ("impossible avec l'argument %s", "nicht zusammen mit dem Argument %s erlaubt"),
    "one of the arguments %s is required": ("l'un des arguments %s est obligatoire",
                                            "eines der Argumente %s ist nötig"),
    "ignored explicit argument %r": ("valeur %r ignorée : cette option n'en prend pas",
                                     "Wert %r ignoriert: diese Option nimmt keinen"),
    "can't open '%(filename)s': %(error)s": ("impossible d'ouvrir '%(filename)s' : %(error)s",
                                             "'%(filename)s' kann nicht geöffnet werden: %(error)s"),
}


def language_of(argv: Sequence[str], environ: dict[str, str] | None = None) -> str:
    """``--lang X`` (or ``--lang=X``) in ``argv`` when we speak ``X``, else ``FMD_LANG``, else French."""
    for index, arg in enumerate(argv):
        value = argv[index + 1] if arg == "--lang" and index + 1 < len(argv) else None
        if arg.startswith("--lang="):
            value = arg.partition("=")[2]
        if value in LANGUAGES:
            return value
    from fmd_terminal.errors import ConfigError
    from fmd_terminal.outbox.texts import language

    try:
        return language(None, environ)  # FMD_LANG, else French: the commands' own rule
    except ConfigError:  # an unknown FMD_LANG: the commands say so; a usage error is still one line
        return DEFAULT_LANGUAGE


def translate(message: str, lang: str) -> str:
    """argparse's English ``message`` in ``lang`` (itself when English or not in the table)."""
    if lang == "en" or message not in ARGPARSE:
        return message
    return ARGPARSE[message][0 if lang == "fr" else 1]


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """argparse's messages in ``lang`` inside the block (its ``_`` and ``ngettext`` are put back after)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]

    def gettext(message: str) -> str:
        return translate(message, lang)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return translate(singular if n == 1 else plural, lang)

    argparse._, argparse.ngettext = gettext, ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage error is one line in ``lang``: the problem, then where the options are."""

    def __init__(self, *args, lang: str = DEFAULT_LANGUAGE, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.lang = lang

    def error(self, message: str) -> NoReturn:
        from fmd_terminal.outbox.texts import Texts

        line = Texts(self.lang)("usage_error", problem=message, prog=self.prog)
        print(f"fmd-terminal: {line}".replace("\n", " "), file=sys.stderr)
        self.exit(2)
