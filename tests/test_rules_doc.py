"""docs/rules.md points at the code that keeps each rule and the tests that prove it:
every pointer must still name a file that exists and, after a file, names it defines
(moved or renamed code must take its pointer along)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "rules.md"
TICKED = re.compile(r"`([^`]+)`")


def _pointers(section: str):
    """(file, [names]) pairs of a "Kept by:" or "Tests:" paragraph: each `x.py` (or a
    folder ending in /) followed by the `names` after it until the next file."""
    pairs, current = [], None
    for token in TICKED.findall(section):
        if token.endswith((".py", "/", ".html", ".toml", ".yml")):
            current = (token, [])
            pairs.append(current)
        elif current is not None and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", token):
            current[1].append(token)
    return pairs


def _paragraphs(label: str):
    """The text after each `label:` up to the next label or the end of its paragraph."""
    segments = re.split(r"(Kept by:|Tests:|\n\s*\n)", DOC.read_text())
    return [segments[i + 1] for i, part in enumerate(segments[:-1]) if part == f"{label}:"]


def test_kept_by_names_files_and_what_they_define():
    missing = []
    for paragraph in _paragraphs("Kept by"):
        for file, names in _pointers(paragraph):
            path = ROOT / file
            if not path.exists():
                missing.append(file)
                continue
            if path.is_dir():
                continue
            source = path.read_text()
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if not re.search(rf"^\s*(def|class|async def)\s+{re.escape(last)}\b|^\s*{re.escape(last)}\s*[:=]",
                                 source, flags=re.M):
                    missing.append(f"{file} {name}")
    assert not missing, missing


def test_tests_named_exist():
    missing = [file for paragraph in _paragraphs("Tests") for file, _ in _pointers(paragraph)
               if not (ROOT / "tests" / file).exists() and not (ROOT / file).exists()]
    assert not missing, missing
