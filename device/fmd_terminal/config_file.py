"""Save keys into the terminal's configuration file (issue 15: the console's settings page).

The file is the one ``config.load`` read (``Config.source``). It is edited with tomlkit, which keeps
the person's comments, order and every other key, and replaced atomically: the new text is written
to a temporary file beside it, flushed to disk, given the old file's mode (a file holding the
service secret stays 0600) and owner, then renamed over it, so a power cut leaves the old file or
the new one, never half of one. The new text is parsed back before the rename: what is saved is
what the next start reads. Values are checked before (``Config.validate``): this module only writes.
"""

from __future__ import annotations

import os
import tempfile
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path

from fmd_terminal.errors import ConfigError

_LOCK = threading.Lock()  # two console requests never write the file at once


def save(path: str | Path, values: Mapping[str, str]) -> None:
    """Set the top-level ``values`` in the TOML file at ``path``; ``ConfigError`` naming the file if not."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    target = Path(path).resolve()  # a symbolic link keeps pointing at the file it names
    with _LOCK:
        try:
            before = target.stat()
            document = tomlkit.parse(target.read_text(encoding="utf-8"))
            for key, value in values.items():
                document[key] = value
            text = tomlkit.dumps(document)
            written = tomllib.loads(text)
            if any(written.get(key) != value for key, value in values.items()):
                raise ConfigError.text("config_unsaved", path=str(target), why="the written text reads otherwise")
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fchmod(out.fileno(), before.st_mode & 0o7777)
                    try:
                        os.fchown(out.fileno(), before.st_uid, before.st_gid)
                    except PermissionError:  # not root: the file stays the terminal user's own
                        pass
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            raise ConfigError.text("config_unsaved", path=str(target), why=error.strerror or str(error)) from error
        except (TOMLKitError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError.text("config_unsaved", path=str(target), why=str(error)) from error
