"""A manifest of SHA-256 hashes for every file of a model folder, written at save time
and checked at load time, so a truncated download or a tampered file is caught before
it silently changes predictions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MANIFEST_NAME = "manifest.json"


class ManifestError(ValueError):
    """The model folder does not match its manifest."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)


def write_manifest(folder: str | Path) -> dict[str, str]:
    """Hash every file of ``folder`` (except the manifest) into manifest.json; return the hashes."""
    folder = Path(folder)
    hashes = {p.relative_to(folder).as_posix(): sha256_file(p) for p in _model_files(folder)}
    (folder / MANIFEST_NAME).write_text(json.dumps({"sha256": hashes}, indent=2, sort_keys=True) + "\n")
    return hashes


def read_manifest(folder: str | Path) -> dict[str, str]:
    """The recorded hashes; raises ManifestError if the manifest is missing or unreadable."""
    path = Path(folder) / MANIFEST_NAME
    try:
        return json.loads(path.read_text())["sha256"]
    except FileNotFoundError:
        raise ManifestError(f"{path} is missing: this folder was not saved by diplostance") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"{path} is unreadable: {error}") from None


def verify_manifest(folder: str | Path) -> str:
    """Check every file against the manifest; return a short fingerprint of the whole model.

    Raises ManifestError naming the first file that is missing, changed or unlisted.
    """
    folder = Path(folder)
    recorded = read_manifest(folder)
    present = {p.relative_to(folder).as_posix() for p in _model_files(folder)}
    for name in sorted(recorded):
        if name not in present:
            raise ManifestError(f"model file {name!r} listed in {MANIFEST_NAME} is missing from {folder}")
        if sha256_file(folder / name) != recorded[name]:
            raise ManifestError(f"model file {name!r} in {folder} does not match its hash in {MANIFEST_NAME}")
    unlisted = sorted(present - set(recorded))
    if unlisted:
        raise ManifestError(f"model file {unlisted[0]!r} in {folder} is not listed in {MANIFEST_NAME}")
    return model_fingerprint(recorded)


def model_fingerprint(hashes: dict[str, str]) -> str:
    """One hash naming the exact set of model files (used to tie checkpoints to a model)."""
    return hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:16]
