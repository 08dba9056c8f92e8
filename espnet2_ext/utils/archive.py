"""Unpacking model archives (zip / tar, compressed or not) with path checks.

A packed or downloaded model is an archive from somewhere else. ``tarfile`` extracts
a member named ``../../x`` two folders above the target, writes through symlinks the
archive itself created, and makes device files; ESPnet's ``unpack`` (and so
``espnet_model_zoo``) inherits all of it. :func:`safe_extract` checks every member
before anything is written and refuses the whole archive, naming the member, if any

* has an absolute path (``/x``, ``C:\\x``) or a ``..`` component;
* is a symlink or hard link whose target is absolute, lies outside the target
  directory, or passes through another symlink of the archive;
* lies under a symlink of the archive (a write through a link);
* is a device file, FIFO or any other special file;
* appears twice with different types.

Symlinks that stay inside (ESPnet packs may hold ``valid.acc.ave.pth ->
valid.acc.ave_10best.pth``) are recreated; hard links become copies. Files are written
only below the real path of the target directory, never through a pre-existing symlink.
"""

import os
import re
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Dict, List, Optional, Union

PathLike = Union[str, Path]

FILE, DIR, SYMLINK, HARDLINK = "file", "dir", "symlink", "hardlink"


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target directory, or is not a
    plain file, directory or inside link."""


@dataclass
class _Member:
    name: str  # normalised archive path (posix, relative, no "." or "..")
    raw: str  # the name as stored, for messages
    kind: str
    link: Optional[str] = None  # symlink: as stored; hard link: normalised archive path
    opener: Optional[Callable[[], IO[bytes]]] = None
    mode: int = 0o644


def _unsafe(archive: PathLike, raw: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"{archive}: refusing to unpack member {raw!r}: {why}")


def _normalise(archive: PathLike, raw: str) -> str:
    """Archive member name -> relative posix path.

    Raises for absolute paths and ``..``.
    """
    if "\x00" in raw:
        raise _unsafe(archive, raw, "NUL character in the name")
    name = raw.replace("\\", "/") if re.match(r"^[A-Za-z]:[\\/]", raw) else raw
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or name.startswith("\\"):
        raise _unsafe(archive, raw, "absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe(
            archive,
            raw,
            "'..' in the path (it would be written outside the " "target directory)",
        )
    return "/".join(parts)


def _tar_members(archive: PathLike, tf: tarfile.TarFile) -> List[_Member]:
    out = []
    for ti in tf.getmembers():
        name = _normalise(archive, ti.name)
        if ti.isdir():
            out.append(_Member(name, ti.name, DIR))
        elif ti.isreg():
            out.append(
                _Member(
                    name,
                    ti.name,
                    FILE,
                    opener=lambda ti=ti: tf.extractfile(ti),
                    mode=ti.mode & 0o777,
                )
            )
        elif ti.issym():
            out.append(_Member(name, ti.name, SYMLINK, link=ti.linkname))
        elif ti.islnk():
            out.append(
                _Member(name, ti.name, HARDLINK, link=_normalise(archive, ti.linkname))
            )
        else:
            kind = (
                "character device"
                if ti.ischr()
                else (
                    "block device"
                    if ti.isblk()
                    else "FIFO" if ti.isfifo() else f"special file (type {ti.type!r})"
                )
            )
            raise _unsafe(
                archive,
                ti.name,
                f"{kind}: only files, directories and links " "are unpacked",
            )
    return out


def _zip_members(archive: PathLike, zf: zipfile.ZipFile) -> List[_Member]:
    out = []
    for zi in zf.infolist():
        name = _normalise(archive, zi.filename)
        mode = (zi.external_attr >> 16) & 0xFFFF
        if zi.is_dir():
            out.append(_Member(name, zi.filename, DIR))
        elif stat.S_ISLNK(mode):
            target = zf.read(zi).decode("utf-8", errors="surrogateescape")
            out.append(_Member(name, zi.filename, SYMLINK, link=target))
        elif mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
            raise _unsafe(
                archive,
                zi.filename,
                "special file: only files, directories and " "links are unpacked",
            )
        else:
            out.append(
                _Member(
                    name,
                    zi.filename,
                    FILE,
                    opener=lambda zi=zi: zf.open(zi),
                    mode=(mode & 0o777) or 0o644,
                )
            )
    return out


def _prefixes(name: str) -> List[str]:
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def check_members(archive: PathLike, members: List[_Member]) -> Dict[str, _Member]:
    """Validate the whole member list (see the module docstring); ``{name: member}``."""
    by_name: Dict[str, _Member] = {}
    for m in members:
        if not m.name:
            if m.kind == DIR:  # "./"
                continue
            raise _unsafe(archive, m.raw, "empty name")
        old = by_name.get(m.name)
        if old is not None and (old.kind != m.kind or m.kind in (SYMLINK, HARDLINK)):
            raise _unsafe(archive, m.raw, f"appears twice ({old.kind} and {m.kind})")
        by_name[m.name] = m
    links = {n for n, m in by_name.items() if m.kind == SYMLINK}
    for n, m in by_name.items():
        through = [p for p in _prefixes(n) if p in links]
        if through:
            raise _unsafe(
                archive, m.raw, f"lies under the archive's symlink {through[0]!r}"
            )
        if m.kind == SYMLINK:
            target = m.link or ""
            if (
                target.startswith("/")
                or re.match(r"^[A-Za-z]:", target)
                or "\x00" in target
            ):
                raise _unsafe(archive, m.raw, f"symlink to an absolute path {target!r}")
            stack: List[str] = n.split("/")[:-1]
            parts = [p for p in target.split("/") if p not in ("", ".")]
            for i, part in enumerate(parts):
                if part == "..":
                    if not stack:
                        raise _unsafe(
                            archive,
                            m.raw,
                            f"symlink to {target!r} points outside "
                            "the target directory",
                        )
                    stack.pop()
                    continue
                stack.append(part)
                if i < len(parts) - 1 and "/".join(stack) in links:
                    raise _unsafe(
                        archive,
                        m.raw,
                        f"symlink to {target!r} passes through the "
                        f"archive's symlink {'/'.join(stack)!r}",
                    )
            if not stack:
                raise _unsafe(
                    archive,
                    m.raw,
                    f"symlink to {target!r} points at the target " "directory itself",
                )
        elif m.kind == HARDLINK:
            t = by_name.get(m.link or "")
            if t is None or t.kind != FILE:
                raise _unsafe(
                    archive,
                    m.raw,
                    f"hard link to {m.link!r}, which is not a "
                    "regular file of the archive",
                )
    return by_name


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _checked_dir(root: str, parts: List[str], archive: PathLike, raw: str) -> str:
    """``root/parts...`` created as a directory; raises if it resolves outside ``root``
    (checked before anything is created, e.g. through a symlink already in ``root``)."""
    d = os.path.join(root, *parts)
    if not _inside(os.path.realpath(d), root):
        raise _unsafe(
            archive,
            raw,
            "its directory resolves outside the target directory "
            "(a symlink already there?)",
        )
    os.makedirs(d, exist_ok=True)
    return d


def _checked_target(root: str, name: str, archive: PathLike, raw: str) -> str:
    """The path to write member ``name`` to, its directory created below ``root``."""
    parts = name.split("/")
    target = os.path.join(_checked_dir(root, parts[:-1], archive, raw), parts[-1])
    if os.path.islink(target):
        os.unlink(target)  # never write through a link that was already there
    return target


def safe_extract(archive: PathLike, outdir: PathLike) -> List[str]:
    """Unpack ``archive`` (zip, tar, tar.gz/bz2/xz) into ``outdir`` after checking it.

    Returns:
        The archive-relative names of the files (and links) written.

    Raises:
        UnsafeArchiveError: a member is unsafe (nothing is written then).
        ValueError: not a zip or tar archive.
    """
    archive = Path(archive)
    if zipfile.is_zipfile(archive):
        handle: Union[zipfile.ZipFile, tarfile.TarFile] = zipfile.ZipFile(archive)
        get = _zip_members
    elif tarfile.is_tarfile(archive):
        handle = tarfile.open(archive)
        get = _tar_members
    else:
        raise ValueError(f"{archive}: not a zip or tar archive")
    with handle:
        members = check_members(archive, get(archive, handle))
        os.makedirs(outdir, exist_ok=True)
        root = os.path.realpath(outdir)
        written = []
        order = {DIR: 0, FILE: 1, HARDLINK: 2, SYMLINK: 3}  # links last
        for name, m in sorted(members.items(), key=lambda kv: order[kv[1].kind]):
            if m.kind == DIR:
                _checked_dir(root, name.split("/"), archive, m.raw)
                continue
            target = _checked_target(root, name, archive, m.raw)
            if m.kind == FILE:
                with m.opener() as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.chmod(target, m.mode | 0o600)
            elif m.kind == HARDLINK:
                shutil.copyfile(os.path.join(root, *m.link.split("/")), target)
            else:
                if os.path.lexists(target):
                    if os.path.isdir(target):
                        raise _unsafe(archive, m.raw, "a directory of that name exists")
                    os.unlink(target)
                os.symlink(m.link, target)
            written.append(name)
    return written


__all__ = ["UnsafeArchiveError", "safe_extract", "check_members"]
