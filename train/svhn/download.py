"""Download the SVHN format-1 archives (resumable, verified), then extract them; safe to interrupt."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from .archives import ARCHIVES, BASE_URL, Archive, DownloadError, extract, is_complete, mismatch, url_of

CHUNK = 1 << 16
_log = logging.getLogger("train.svhn")


def download(
    splits: Iterable[str],
    root: Path | str,
    *,
    base_url: str = BASE_URL,
    archives: Mapping[str, Archive] = ARCHIVES,
    archives_dir: Path | str | None = None,
    keep_archives: bool = False,
    timeout: float = 10.0,
    retries: int = 3,
    progress: bool = True,
    log: Callable[[str], None] = _log.info,
) -> list[Path]:
    """Make root/<split>/ (N.png + digitStruct.mat) for each split, skipping complete ones."""
    root = Path(root)
    splits = list(splits)
    if unknown := [s for s in splits if s not in archives]:
        raise ValueError(f"unknown split(s) {', '.join(unknown)}; known: {', '.join(archives)}")
    folders = []
    for split in splits:
        archive, folder = archives[split], root / split
        folders.append(folder)
        if is_complete(folder, archive):
            log(f"{split}: already complete in {folder}")
            continue
        if folder.exists():  # checked before fetching gigabytes we could not extract
            raise DownloadError(
                f"{folder} exists but is not a complete extraction of {archive.name}: remove it and rerun", code=2
            )
        root.mkdir(parents=True, exist_ok=True)
        if archives_dir is not None:
            path = hand_fetched(Path(archives_dir), archive, base_url)
        else:
            path = fetch_verified(
                archive, root, base_url=base_url, timeout=timeout, retries=retries, progress=progress, log=log
            )
        extract(path, root, archive, progress=progress)
        if archives_dir is None and not keep_archives:
            path.unlink()
        log(f"{split}: ready in {folder}")
    return folders


def hand_fetched(archives_dir: Path, archive: Archive, base_url: str = BASE_URL) -> Path:
    """The user's own copy of `archive` in `archives_dir`, once its size and MD5 check out."""
    path, url = archives_dir / archive.name, url_of(archive, base_url)
    if not path.is_file():
        raise DownloadError(f"{path} not found: download it from {url} into {archives_dir}", code=2)
    if why := mismatch(path, archive):
        raise DownloadError(f"{path} is not the published {archive.name} ({why}): download it again from {url}",
                            code=2)
    return path


def fetch_verified(
    archive: Archive,
    root: Path,
    *,
    base_url: str = BASE_URL,
    timeout: float = 10.0,
    retries: int = 3,
    progress: bool = True,
    log: Callable[[str], None] = _log.info,
) -> Path:
    """Download `archive` to root/<name> through root/.partial/<name>.part; returns it verified."""
    path, url = root / archive.name, url_of(archive, base_url)
    if path.is_file() and mismatch(path, archive) is None:  # kept from an earlier run
        return path
    path.unlink(missing_ok=True)
    part = root / ".partial" / f"{archive.name}.part"
    for attempt in (1, 2):  # a wrong MD5 earns one fresh download, not a loop
        fetch(url, part, archive.size, timeout=timeout, retries=retries, progress=progress)
        if (why := mismatch(part, archive)) is None:
            os.replace(part, path)
            with contextlib.suppress(OSError):
                part.parent.rmdir()
            return path
        part.unlink()
        if attempt == 1:
            log(f"{archive.name}: {why}; removed it, downloading again")
    raise _by_hand(url, f"{archive.name} is still wrong after a fresh download ({why})")


def fetch(url: str, part: Path, size: int, *, timeout: float = 10.0, retries: int = 3, progress: bool = True) -> None:
    """Fetch `url` into `part`, resuming with an HTTP Range request from the bytes already there."""
    _check_name(url, timeout)
    breaks = 0
    while (have := _size(part)) < size:
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)  # timeout bounds connect and each read
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # our partial file is longer than the server's file: start afresh
                part.unlink()
                continue
            raise _by_hand(url, f"{url} answered HTTP {e.code} {e.reason}") from None
        except (OSError, http.client.HTTPException) as e:
            raise _by_hand(url, f"cannot reach {urlsplit(url).hostname} ({_reason(e)})") from None
        try:
            with response:
                _save(response, url, part, have, size, progress)
            why = "connection closed early"
        except (OSError, http.client.HTTPException) as e:  # includes IncompleteRead and read timeouts
            why = _reason(e)
        breaks += 1
        if _size(part) < size and breaks > retries:
            raise DownloadError(
                f"download of {url} broke off at {_size(part):,} of {size:,} bytes ({why}): "
                "rerun the same command to resume"
            )


def _save(response, url: str, part: Path, have: int, size: int, progress: bool) -> None:
    """Append the response body to `part` (206) or rewrite it from byte 0 (200: Range ignored)."""
    if response.status == 206:
        start, _, total = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("/")
        if start.partition("-")[0] != str(have) or total not in (str(size), "*"):
            raise _by_hand(url, f"server sent bytes {start}/{total}, asked for {have}-/{size}")
    else:
        have = 0
        if response.length is not None and response.length != size:
            raise _by_hand(url, f"server offers {response.length:,} bytes, expected {size:,}")
    name = url.rsplit("/", 1)[-1]
    part.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=size, initial=have, desc=name, unit="B", unit_scale=True, unit_divisor=1024, disable=not progress)
    with bar, open(part, "ab" if have else "wb") as f:
        # never past `size`: a server that keeps sending cannot fill the disk
        while have < size and (block := response.read(min(CHUNK, size - have))):
            f.write(block)
            have += len(block)
            bar.update(len(block))


def _check_name(url: str, timeout: float) -> None:
    """Fail fast on a host name that does not resolve: getaddrinfo has no timeout of its own."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or (urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(host)):
        return  # the proxy looks the name up, not us
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
            outcome.append(None)
        except (OSError, UnicodeError) as e:
            outcome.append(e)

    thread = threading.Thread(target=lookup, daemon=True)  # daemon: a hung lookup cannot block exit
    thread.start()
    thread.join(timeout)
    if not outcome or outcome[0] is not None:
        reason = _reason(outcome[0]) if outcome else f"name lookup timed out after {timeout:g} s"
        raise _by_hand(url, f"cannot reach {host} ({reason})")


def _by_hand(url: str, problem: str) -> DownloadError:
    """The error for `problem`, ending with what the user can do about it."""
    name = url.rsplit("/", 1)[-1]
    return DownloadError(f"{problem}: download {name} by hand from {url} and rerun with --archives DIR")


def _reason(e: BaseException) -> str:
    reason = getattr(e, "reason", None) or e  # URLError wraps the socket error
    return " ".join(str(reason).split()) or type(reason).__name__


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0
