"""The terminal's root error and its children (ARCHITECTURE.md, "Errors and logging").

Adapters translate library errors (OSError, SerialException, sqlite3.Error, HTTP errors) into these
once, at the boundary, naming the device or URL. The CLI catches ``TerminalError`` in ``main`` and
prints ``fmd-terminal: message``.
"""

from typing import Self


class TerminalError(Exception):
    """Root of every error the terminal application raises on purpose.

    ``text_id`` and ``fields`` (optional) name the message in the commands' text table
    (``outbox.texts``), so that ``cli.main`` prints it in the person's language; ``str(error)`` is
    the message as written (English, for logs). ``TerminalError.text(id, **fields)`` builds both.
    """

    def __init__(self, message: str = "", *, text_id: str | None = None, **fields: object) -> None:
        super().__init__(message)
        self.text_id = text_id
        self.fields = fields

    @classmethod
    def text(cls, text_id: str, /, **fields: object) -> Self:
        """The error whose message is the text ``text_id`` (its English form is ``str(error)``)."""
        from fmd_terminal.outbox.texts import Texts

        return cls(Texts("en")(text_id, **fields), text_id=text_id, **fields)

    def in_language(self, lang: str | None) -> str:
        """The message in ``lang`` (``--lang``, else ``FMD_LANG``, else French) when it has a text id."""
        if self.text_id is None:
            return str(self)
        from fmd_terminal.outbox.texts import Texts

        try:
            texts = Texts(lang)
        except TerminalError:  # an unknown FMD_LANG: the default language, French
            texts = Texts("fr")
        return texts(self.text_id, **self.fields)


class ConfigError(TerminalError):
    """The configuration file, a flag or an environment variable is wrong."""


class UnknownSchemeError(ConfigError):
    """A device URL names a scheme no adapter knows."""


class DeviceError(TerminalError):
    """A device (scanner, screen, pins) cannot be opened or used."""


class StorageError(TerminalError):
    """The outbox database cannot be opened, checked or written."""


class ServiceError(TerminalError):
    """The verification service cannot be reached or answered something unusable."""


class UpdateError(TerminalError):
    """A release bundle is refused (signature, version, content) or cannot be installed."""
