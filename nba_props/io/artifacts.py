"""Artifact store: model files, published JSON and reports under a root (a local folder now;
a GCS bucket later through the same `ArtifactStore` protocol).

Paths are relative, '/'-separated (``best-bets/all.json``); a path that would escape the root
(``../x``, an absolute path) is refused. Writes are atomic: a temporary file in the target's
folder is renamed over it, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

import dagster as dg


@runtime_checkable
class ArtifactStore(Protocol):
    def write_bytes(self, relpath: str, data: bytes) -> str: ...

    def read_bytes(self, relpath: str) -> bytes: ...

    def write_json(self, relpath: str, obj: Any) -> str: ...

    def read_json(self, relpath: str) -> Any: ...

    def exists(self, relpath: str) -> bool: ...

    def delete(self, relpath: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]: ...

    def uri(self, relpath: str) -> str: ...


FILE_MODE = 0o644


def dumps_json(obj: Any) -> str:
    """The one JSON encoding of artifacts: stable key order, readable, dates as text."""
    return json.dumps(obj, indent=2, sort_keys=True, default=str)


def file_uri(path: Path) -> str:
    """``file:///abs/path``, percent-encoding only what a URI path cannot hold (spaces, '%',
    '#', '?'); '=' of ``week=2024-10-21`` folders stays readable (Path.as_uri would encode it)."""
    return "file://" + quote(path.as_posix(), safe="/:@!$&'()*+,;=~")


def normalize_relpath(relpath: str) -> str:
    """A clean relative '/'-path; ValueError if it is empty, absolute or escapes the root."""
    text = str(relpath).replace("\\", "/")
    pure = PurePosixPath(text)
    if not text or text.startswith("/") or pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise ValueError(f"artifact path must be relative to the store root, got {relpath!r}")
    parts = [p for p in pure.parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"artifact path must stay inside the store root, got {relpath!r}")
    return "/".join(parts)


class LocalArtifactStore:
    """Artifacts in a local folder; URIs are ``file:///abs/path``."""

    def __init__(self, root: str | Path):
        self._root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self._root)!r})"

    @property
    def root(self) -> Path:
        return self._root

    def path(self, relpath: str) -> Path:
        """The absolute local path of an artifact (checked to be inside the root)."""
        target = (self._root / normalize_relpath(relpath)).resolve()
        if not target.is_relative_to(self._root):  # e.g. through a symlink
            raise ValueError(f"artifact path {relpath!r} resolves outside the store root {self._root}")
        return target

    def uri(self, relpath: str) -> str:
        return file_uri(self.path(relpath))

    def write_bytes(self, relpath: str, data: bytes) -> str:
        target = self.path(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                # mkstemp makes the temporary file private (0600); the artifact is readable like any
                # file the platform writes (a web server under another user serves the v1/ files)
                os.fchmod(handle.fileno(), FILE_MODE)
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return file_uri(target)

    def read_bytes(self, relpath: str) -> bytes:
        return self.path(relpath).read_bytes()

    def write_json(self, relpath: str, obj: Any) -> str:
        return self.write_bytes(relpath, (dumps_json(obj) + "\n").encode("utf-8"))

    def read_json(self, relpath: str) -> Any:
        return json.loads(self.read_bytes(relpath).decode("utf-8"))

    def exists(self, relpath: str) -> bool:
        return self.path(relpath).is_file()

    def delete(self, relpath: str) -> bool:
        """Remove a stored file; False when there was none."""
        target = self.path(relpath)
        if not target.is_file():
            return False
        target.unlink()
        return True

    def list(self, prefix: str = "") -> list[str]:
        """Relative paths of the stored files whose path starts with ``prefix``, sorted
        (temporary files of writes in progress are not listed)."""
        if not self._root.is_dir():
            return []
        found = []
        for path in self._root.rglob("*"):
            if not path.is_file() or (path.name.startswith(".") and path.name.endswith(".tmp")):
                continue
            rel = path.relative_to(self._root).as_posix()
            if rel.startswith(prefix):
                found.append(rel)
        return sorted(found)


class ArtifactStoreResource(dg.ConfigurableResource):
    """The artifact store of the deployment (a local folder)."""

    root: str

    def store(self) -> LocalArtifactStore:
        return LocalArtifactStore(self.root)
