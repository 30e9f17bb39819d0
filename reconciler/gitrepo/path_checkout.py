"""Bring the checkout from one commit to the next by touching only the files that differ.

`read-tree -m -u old new` drops the index's cache-tree and rebuilds it for every directory
of the repository (in a fleet repo of 10,000 directories, a third of its time) in order to
change a handful of entries. When every changed file is plainly clean, the outcome of that
merge is known without it: each changed path takes its entry from new, and its file
follows. `git restore --source=<new> --staged --worktree` writes exactly that outcome, and
keeps the cache-tree.

Plainly clean means: the index holds exactly old's entry for the path (nothing where old
has none), without flags, and no merge conflict anywhere in the index; the file is the one
the index recorded (the same stat data, older than the index, as git itself trusts it); a
new file's place is free; every directory on the way is a directory. Short of that nothing
is done, and read-tree decides, in its own words.

The index side is read ahead (`PathCheckout.read`, while the push runs); the files are
looked at right before restore, and only if the index file is still the one read. Unlike
within read-tree, the index is not locked from the check to the write (restore takes the
lock itself): another git command could write the index in the few milliseconds of
restore's start. This process never holds the lock, so a crash here leaves none behind:
restore has not started, or it finishes on its own (the journal's recovery then finds the
checkout at new, and keeps it).
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from reconciler.gitrepo.changed_trees import FileChange
from reconciler.gitrepo.git_command import run_git, start_git

# Beyond this many files read-tree is the simpler tool (and restore no cheaper).
MAX_FILES = 256
_LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}
_WORD = 0xFFFFFFFF  # the index keeps stat data in 32 bits
_INDEXED = re.compile(
    rb"(?P<mode>\d{6}) (?P<oid>[0-9a-f]+) (?P<stage>\d)\t(?P<path>[^\0]*)\0"
    rb"  ctime: (?P<ctime>\d+):(?P<ctime_ns>\d+)\n"
    rb"  mtime: (?P<mtime>\d+):(?P<mtime_ns>\d+)\n"
    rb"  dev: \d+\tino: (?P<ino>\d+)\n"
    rb"  uid: (?P<uid>\d+)\tgid: (?P<gid>\d+)\n"
    rb"  size: (?P<size>\d+)\tflags: (?P<flags>[0-9a-f]+)\n"
)


@dataclasses.dataclass(frozen=True)
class _Indexed:
    """An index entry as `ls-files -s --debug` shows it."""

    mode: str
    oid: str
    stage: int
    stat: tuple[int, ...]  # ctime s, ns, mtime s, ns, ino, uid, gid, size (32-bit)
    flags: int


class PathCheckout:
    """The update of the changed files, its index side read ahead (see `read`)."""

    def __init__(
        self,
        repo: Path,
        *,
        index: Path,
        changes: Sequence[FileChange],
        signature: tuple[int, int, int],
        entries: dict[str, _Indexed],
    ) -> None:
        self._repo = repo
        self._index = index
        self._changes = changes
        self._signature = signature
        self._entries = entries

    @classmethod
    def read(cls, repo: Path, *, index: Path, changes: Sequence[FileChange]) -> PathCheckout | None:
        """Read the changed paths' index entries; None unless each is old's, unflagged,
        with no entry below it and no merge conflict anywhere in the index.

        May run ahead of time (while a push runs): `write` goes on only when the index
        file is still the one read here.
        """
        if not changes or len(changes) > MAX_FILES or _shares_index(index):
            return None
        try:
            before = os.stat(index)
        except OSError:
            return None
        paths = [path for path, _, _ in changes]
        unmerged = start_git(["ls-files", "-u", "-z"], cwd=repo, env=_LITERAL)
        listing_args = ["ls-files", "-s", "-z", "--debug", "--", *paths]
        listed = start_git(listing_args, cwd=repo, env=_LITERAL)
        conflicts, listing = unmerged.finish(check=False), listed.finish(check=False)
        if unmerged.popen.returncode or listed.popen.returncode or conflicts:
            return None
        indexed = _parse(listing)
        if indexed is None:
            return None
        entries: dict[str, _Indexed] = {}
        for path, was, _ in changes:
            found = indexed.pop(path, [])
            if was is None:
                if found:
                    return None
                continue
            if len(found) != 1:
                return None
            entry = found[0]
            if (entry.mode, entry.oid, entry.stage, entry.flags) != (was.mode, was.oid, 0, 0):
                return None
            entries[path] = entry
        if indexed:
            return None  # an entry below a changed path: a directory where a file goes
        signature = _signature(before)
        return cls(repo, index=index, changes=changes, signature=signature, entries=entries)

    def write(self, *, new: str) -> bool:
        """Make the changed files those of new, in the index and on disk; False (and nothing
        done) unless the index is the one read and every file is plainly clean."""
        try:
            now = os.stat(self._index)
            if _signature(now) != self._signature:
                return False  # another git command wrote the index meanwhile
            if not self._files_as_indexed(since=now.st_mtime_ns):
                return False
        except OSError:
            return False
        paths = b"".join(os.fsencode(path) + b"\0" for path, _, _ in self._changes)
        # Every path named is written anew: reading their stat data ahead would be wasted.
        restore = ["-c", "core.preloadIndex=false", "restore", f"--source={new}"]
        restore += ["--staged", "--worktree", "--no-overlay"]
        restore += ["--pathspec-from-file=-", "--pathspec-file-nul"]
        done = run_git(restore, cwd=self._repo, env=_LITERAL, stdin=paths, check=False)
        return done.returncode == 0

    def _files_as_indexed(self, *, since: int) -> bool:
        """Each old file is the one its index entry recorded, each new file's place free."""
        directories: dict[Path, bool] = {}
        for path, was, _ in self._changes:
            if not _directories_on_the_way(self._repo, path, directories):
                return False
            if was is None:
                if not _free(self._repo / path):
                    return False
            elif not _as_indexed(self._repo / path, self._entries[path], since=since):
                return False
        return True


def _signature(seen: os.stat_result) -> tuple[int, int, int]:
    return seen.st_ino, seen.st_mtime_ns, seen.st_size


def _shares_index(index: Path) -> bool:
    """True for a split index (its entries partly in a shared file): left to read-tree."""
    return any(index.parent.glob("sharedindex.*"))


def _parse(listing: bytes) -> dict[str, list[_Indexed]] | None:
    """path: its entries, from `ls-files -s -z --debug`; None if the output is not as known."""
    indexed: dict[str, list[_Indexed]] = {}
    at = 0
    for match in _INDEXED.finditer(listing):
        if match.start() != at:
            return None
        at = match.end()
        fields = match.groupdict()
        numbers = ("ctime", "ctime_ns", "mtime", "mtime_ns", "ino", "uid", "gid", "size")
        entry = _Indexed(
            mode=fields["mode"].decode(),
            oid=fields["oid"].decode(),
            stage=int(fields["stage"]),
            stat=tuple(int(fields[name]) for name in numbers),
            flags=int(fields["flags"], 16),
        )
        indexed.setdefault(os.fsdecode(fields["path"]), []).append(entry)
    return indexed if at == len(listing) else None


def _as_indexed(file: Path, entry: _Indexed, *, since: int) -> bool:
    """True when the file is the one the index recorded, by git's own rule: the same stat
    data, and written before the index (else git would compare the content)."""
    try:
        seen = os.lstat(file)
    except OSError:
        return False
    if entry.mode == "120000":
        if not stat.S_ISLNK(seen.st_mode):
            return False
    elif not stat.S_ISREG(seen.st_mode) or bool(seen.st_mode & 0o100) != (entry.mode == "100755"):
        return False
    if seen.st_mtime_ns >= since or entry.stat[-1] == 0:  # racily clean, or smudged
        return False
    ctime, mtime = divmod(seen.st_ctime_ns, 10**9), divmod(seen.st_mtime_ns, 10**9)
    recorded = (
        ctime[0] & _WORD,
        ctime[1],
        mtime[0] & _WORD,
        mtime[1],
        seen.st_ino & _WORD,
        seen.st_uid & _WORD,
        seen.st_gid & _WORD,
        seen.st_size & _WORD,
    )
    return recorded == entry.stat


def _free(file: Path) -> bool:
    """True when nothing at all is where a new file goes."""
    try:
        os.lstat(file)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _directories_on_the_way(repo: Path, path: str, seen: dict[Path, bool]) -> bool:
    """True when each directory between repo and path is a real directory, or absent."""
    directory = (repo / path).parent
    while directory != repo and directory not in seen:
        try:
            seen[directory] = stat.S_ISDIR(os.lstat(directory).st_mode)
        except FileNotFoundError:
            seen[directory] = True  # made by the checkout
        except OSError:
            seen[directory] = False
        if not seen[directory]:
            return False
        directory = directory.parent
    return seen.get(directory, True)
