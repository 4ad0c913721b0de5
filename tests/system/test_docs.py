"""The repository stands on its own (issue 12): every path its documents name exists, no document
names a design file the repository does not hold, and the documents agree with the configuration.

Documents: README.md, docs/*.md, hardware/README.md and the files of device/system (their comments).
A path is a backticked or linked name that starts with a top-level folder of the repository or ends in
``.md``; names with placeholders (``<vendor>``, ``FILE``, ``PATH``, ``...``) are patterns, not paths.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOP = ("device/", "host/", "tests/", "hardware/", "docs/", "benchmarks/", "tools/", "third_party/")
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "hardware" / "README.md", *(ROOT / "docs").glob("*.md"),
                    *(p for p in (ROOT / "device" / "system").iterdir() if p.is_file())])
# the design notes this project grew from: they live outside the repository and must not be cited
DESIGN_NOTES = ("ARCHITECTURE.md", "OFFLINE-QUEUE.md", "VERIFICATION-SERVICE.md", "PACK-CODES.md",
                "SCANNERS-AND-HARDWARE.md", "CONNECTING-IN-FRANCE.md", "SITE-LEDGER.md")
PLACEHOLDER = re.compile(r"<|>|\.\.\.|…|\*|\b(FILE|PATH|DIR|NAME|TIME|S|F|N|DAYS)\b|\{")


def named_paths(document: Path) -> list[str]:
    """Backticked names and link targets in ``document`` that look like repository paths."""
    text = document.read_text(encoding="utf-8")
    found = re.findall(r"`([^`\s]+)`", text) + re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    found += re.findall(r"(?<![\w/.-])((?:" + "|".join(map(re.escape, TOP)) + r")[\w./@-]+)", text)
    paths = []
    for name in found:
        name = name.rstrip(".,:;)")
        if "://" in name or name.startswith(("/", "-", "$")) or PLACEHOLDER.search(name):
            continue
        if name.startswith(TOP) or name.endswith(".md") or name.startswith("../"):
            paths.append(name)
    return sorted(set(paths))


def resolves(document: Path, name: str) -> bool:
    return (document.parent / name).exists() or (ROOT / name).exists()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_document_names_exists(document):
    names = named_paths(document)
    assert [name for name in names if not resolves(document, name)] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_cites_a_design_note_outside_the_repository(document):
    text = document.read_text(encoding="utf-8")
    assert [note for note in DESIGN_NOTES if note in text] == []
    assert "../shared" not in text and "/work/" not in text


def test_the_checker_sees_a_missing_path_and_skips_patterns(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("See `tests/no-such-folder/`, [the design](OFFLINE-QUEUE.md), `device/fmd_core/` and "
                   "`serial://usb-<vendor>_<model>-if00`, `tests/terminal/scanners/recordings/FILE`.\n")
    names = named_paths(doc)
    assert names == ["OFFLINE-QUEUE.md", "device/fmd_core/", "tests/no-such-folder/"]
    assert [n for n in names if not resolves(doc, n)] == ["OFFLINE-QUEUE.md", "tests/no-such-folder/"]


def test_state_paths_are_the_units_state_directory():
    """Backups, profiles and the outbox live where the systemd unit puts the terminal's state."""
    unit = (ROOT / "device" / "system" / "fmd-terminal.service").read_text(encoding="utf-8")
    state = "/var/lib/" + re.search(r"^StateDirectory=(\S+)", unit, re.M).group(1)
    for document in DOCUMENTS:
        for path in re.findall(r"/var/lib/[\w.-]+", document.read_text(encoding="utf-8")):
            assert path == state, (document.name, path)


def test_the_example_configuration_reads_the_scanner_as_the_hardware_guide_sets_it():
    """hardware/README.md section 4 sets a keyboard-mode scanner to the US keyboard; the example
    configuration must read it that way, else every letter and sign of a scan is garbled."""
    guide = (ROOT / "hardware" / "README.md").read_text(encoding="utf-8")
    row = next(line for line in guide.splitlines() if line.startswith("| keyboard country"))
    advised = re.search(r"\*\*(\w+)\*\*", row).group(1).lower()
    example = tomllib.loads((ROOT / "device" / "system" / "fmd-terminal.example.toml").read_text(encoding="utf-8"))
    assert f"?layout={advised}" in example["scanner"] or f"&layout={advised}" in example["scanner"]
    assert f"?layout={advised}" in guide or f"layout={advised}" in guide
