"""The repository carries its own copy of the codebook (docs/CODEBOOK.md): a user who clones it has no shared/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def test_codebook_copy_is_complete_and_current():
    text = (ROOT / "docs" / "CODEBOOK.md").read_text(encoding="utf-8")
    for heading in ("### cooperative", "### conditional", "### refusing", "## none: no position", "| `sanctions` |"):
        assert heading in text
    if not SHARED.is_dir():
        pytest.skip("shared/ is not beside the project")
    for name in ("LABELS.md", "ISSUES.md"):
        assert (SHARED / name).read_text(encoding="utf-8") in text, f"docs/CODEBOOK.md is out of date with {name}"
