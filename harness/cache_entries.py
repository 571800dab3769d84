"""Verified cache entries: how one entry of the content-hash cache is written, checked and, when
damaged, taken away, safely with many processes on many hosts sharing the cache folder.

An entry is a folder named by its key (``models/<key>/``, ``values/<key>/``,
``predictions/<model key>-<texts hash>/``) holding its files and ``manifest.json``: the entry's
kind and key and, for every other file, its size and SHA-256.

- **Writing** (:func:`write_entry`): the files are written into a temporary folder next to the
  target (``.<key>.<random>``), each file is hashed and synced, the manifest is written, and the
  folder is renamed to the key in one ``rename(2)``. A rename onto a finished entry fails, so the
  first finished entry wins and the others drop theirs; a reader sees the whole entry or none.
- **Reading** (:func:`verify`): the manifest is read (bounded), the folder must hold exactly the
  listed files with the listed sizes, and each file must hash to its listed SHA-256. Any
  difference raises :class:`DamagedEntry` naming the file and what is wrong.
- **Removing** (:func:`quarantine`): only an entry verified damaged is removed, and only if it is
  still the folder that was verified (a newer entry put there meanwhile is left alone): it is
  renamed away (``.<key>.damaged.<random>``) in one step, then deleted. A process still reading
  it keeps its open files.

The hash detects accidental damage and edits (a flipped byte, a truncated or edited file); it is
not a signature: whoever can write the cache folder can also write a matching manifest.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from harness.api import StrictModel
from harness.atomic import current_umask
from harness.errors import OutputError, UserError
from harness.input_files import read_bytes
from harness.limits import CACHE_MB, human_bytes

MANIFEST = "manifest.json"
"""The file of an entry that lists the others (written last, before the rename)."""

MANIFEST_FORMAT: Literal[1] = 1
"""The version of :class:`Manifest`."""

DAMAGED_MARK = ".damaged."
"""Part of the name an entry verified damaged is renamed to before it is deleted."""

HASH_CHUNK = 1 << 20
"""Bytes hashed at a time."""

Identity = tuple[int, int]
"""``(st_dev, st_ino)`` of an entry folder: tells the folder that was verified from a newer one
renamed into its place."""


class FileRecord(StrictModel):
    """One file of an entry."""

    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(StrictModel):
    """``manifest.json``: what the entry is and every other file it holds."""

    format: Literal[1]
    kind: str
    key: str
    files: dict[str, FileRecord]


class DamagedEntry(Exception):
    """An entry that is not what its writer left: ``problem`` says what is wrong (naming the
    file)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


def identity(folder: Path) -> Identity | None:
    """The identity of ``folder`` (``None`` when nothing is there)."""
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino)


def file_sha256(path: Path, sync: bool = False) -> str:
    """SHA-256 of the file at ``path``, read in chunks (``sync``: also flush it to disk)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
        if sync:
            os.fsync(handle.fileno())
    return digest.hexdigest()


def entry_files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` but the manifest, by its ``/``-separated relative name.
    Anything that is neither a regular file nor a folder (a symlink, a pipe) raises
    :class:`DamagedEntry`: writers never make one."""
    found: dict[str, Path] = {}
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as items:
            for item in items:
                path = Path(item.path)
                name = path.relative_to(folder).as_posix()
                mode = item.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    pending.append(path)
                elif not stat.S_ISREG(mode):
                    raise DamagedEntry(f"{name} is not a regular file")
                elif name != MANIFEST:
                    found[name] = path
    return dict(sorted(found.items()))


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename stays atomic
    finally:
        os.close(fd)


def write_manifest(folder: Path, kind: str, key: str) -> Manifest:
    """Hash (and sync) every file in ``folder`` and write its ``manifest.json``."""
    files = {
        name: FileRecord(size=path.stat().st_size, sha256=file_sha256(path, sync=True))
        for name, path in entry_files(folder).items()
    }
    manifest = Manifest(format=MANIFEST_FORMAT, kind=kind, key=key, files=files)
    path = folder / MANIFEST
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest.model_dump(mode="json"), indent=1, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())
    _sync_folder(folder)
    return manifest


def read_manifest(folder: Path, kind: str | Collection[str], key: str) -> Manifest:
    """The entry's manifest, checked to name this entry (``kind``: the kind, or the kinds it
    may be); :class:`DamagedEntry` otherwise."""
    path = folder / MANIFEST
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise DamagedEntry(f"{MANIFEST} is missing") from None
    if not stat.S_ISREG(info.st_mode):
        raise DamagedEntry(f"{MANIFEST} is not a regular file")
    if info.st_size > CACHE_MB.value():
        raise DamagedEntry(
            f"{MANIFEST} is {human_bytes(info.st_size)}, more than the limit of "
            f"{CACHE_MB.shown()} for one cache file"
        )
    data = _read(path)
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = f"{where}: {first['msg']}" if where else first["msg"]
        raise DamagedEntry(f"{MANIFEST} is not valid ({problem})") from None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    if manifest.kind not in kinds or manifest.key != key:
        raise DamagedEntry(
            f"{MANIFEST} describes another entry ({manifest.kind} {manifest.key[:12]})"
        )
    return manifest


def verify(folder: Path, kind: str | Collection[str], key: str, full: bool = True) -> Manifest:
    """Check the entry ``folder`` against its manifest and return the manifest.

    The folder must hold exactly the listed files with the listed sizes and (``full``) contents
    (SHA-256). A difference raises :class:`DamagedEntry`; a folder that is gone or cannot be
    read raises ``OSError``. ``full=False`` is the cheap check (``stat`` only) of listings."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise DamagedEntry("not a folder")
    manifest = read_manifest(folder, kind, key)
    found = entry_files(folder)
    for name in manifest.files:
        if name not in found:
            raise DamagedEntry(f"{name} is missing")
    for name in found:
        if name not in manifest.files:
            raise DamagedEntry(f"{name} is not in {MANIFEST}")
    for name, record in manifest.files.items():
        size = found[name].stat().st_size
        if size != record.size:
            raise DamagedEntry(f"{name} is {size:,} bytes, {MANIFEST} says {record.size:,}")
    if full:
        for name, record in manifest.files.items():
            if file_sha256(found[name]) != record.sha256:
                raise DamagedEntry(f"{name}: its content does not match its SHA-256 in {MANIFEST}")
    return manifest


def _read(path: Path) -> bytes:
    """The bytes of a file of an entry whose type and size were checked, within the cache's
    size limit. A failure to read (gone, permissions, I/O, a stale network handle) is an
    ``OSError``: it says nothing about the entry's content."""
    try:
        return read_bytes(path, CACHE_MB)
    except UserError as exc:
        raise OSError(f"{path.name}: {exc.problem}") from None


def read_entry_file(folder: Path, name: str, manifest: Manifest) -> bytes:
    """The bytes of ``name`` in a verified entry, read within the cache's size limit and checked
    against the manifest again (the bytes returned are the bytes hashed)."""
    record = manifest.files.get(name)
    if record is None:
        raise DamagedEntry(f"{name} is missing")
    if record.size > CACHE_MB.value():  # intact but too large to read here: kept, not damage
        raise OSError(
            f"{name} is {human_bytes(record.size)}, more than the limit of {CACHE_MB.shown()} "
            f"for one cache file; {CACHE_MB.fix()}"
        )
    data = _read(folder / name)
    if len(data) != record.size or hashlib.sha256(data).hexdigest() != record.sha256:
        raise DamagedEntry(f"{name}: its content does not match its SHA-256 in {MANIFEST}")
    return data


def read_entry_json(folder: Path, name: str, manifest: Manifest) -> object:
    """The JSON value of ``name`` in a verified entry (:class:`DamagedEntry` if it is not
    JSON)."""
    data = read_entry_file(folder, name, manifest)
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise DamagedEntry(f"{name} is not valid JSON ({exc})") from None


def remove_folder(path: Path) -> None:
    """Delete ``path`` (a folder or a file) and what it holds, ignoring what is already gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def quarantine(folder: Path, verified: Identity) -> bool:
    """Take away the entry ``folder`` verified damaged: rename it to a hidden name in one step,
    then delete it. Nothing happens when ``folder`` is no longer the folder that was verified
    (another process replaced or removed it meanwhile). Returns whether it was removed here."""
    if identity(folder) != verified:
        return False
    away = folder.with_name(f".{folder.name}{DAMAGED_MARK}{os.getpid()}.{secrets.token_hex(4)}")
    try:
        os.rename(folder, away)
    except FileNotFoundError:
        return False  # another process took it away first
    remove_folder(away)
    return True


EXISTS = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR)
"""``rename`` errors that mean something already stands at the target."""


def write_entry(target: Path, kind: str, key: str, fill: Callable[[Path], None]) -> bool:
    """Write the entry ``target``: ``fill(folder)`` writes its files into a temporary folder,
    which gets its manifest and is renamed to ``target``.

    Returns ``True`` when this entry is now at ``target``, ``False`` when something already
    stood there (another writer finished first; the caller reads and verifies it). A failed
    write (disk full, file-size limit, permissions) removes the temporary folder and raises
    :class:`~harness.errors.OutputError`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        raise OutputError(target, exc) from None
    try:
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it 0700; others may share the cache
        fill(tmp)
        write_manifest(tmp, kind, key)
        try:
            os.rename(tmp, target)
        except OSError as exc:
            renamed = exc.errno == errno.ENOENT and not tmp.exists() and target.exists()
            if exc.errno not in EXISTS and not renamed:  # renamed: a retransmitted NFS rename
                raise
            remove_folder(tmp)
            return False
        _sync_folder(target.parent)
        return True
    except OSError as exc:  # disk full, file-size limit: Model.save raises OSError
        remove_folder(tmp)
        raise OutputError(target, exc) from None
    except BaseException:
        remove_folder(tmp)
        raise
