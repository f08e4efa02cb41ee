"""Reading a published release over HTTP(S): whole files, bounded, from one server only."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from http.client import HTTPException, HTTPMessage
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from qms.errors import QmsError

# A witness is a manifest, keys, registry revisions and signatures: small files.
MAX_FILE = 4 * 1024 * 1024
MAX_TOTAL = 64 * 1024 * 1024
TIMEOUT = 30  # seconds per read
DEADLINE = 300  # seconds for one release


def is_url(text: str) -> bool:
    """Whether `text` names an http(s) address rather than a folder."""
    return urlsplit(text).scheme in ("http", "https")


class _SameServer(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same scheme, host and port: never elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            raise QmsError(
                f"{req.full_url} redirects to another server ({new.scheme}://{new.netloc})",
                "give --witness the address the releases are really published at",
            )
        result: urllib.request.Request | None = super().redirect_request(
            req, fp, code, msg, headers, newurl
        )
        return result


class Client:
    """Fetches files below one base address, within a byte budget and a deadline."""

    def __init__(self, base: str) -> None:
        if not is_url(base):
            raise QmsError(f"{base} is not an http(s) address", "give --witness a folder or a URL")
        self.base = base if base.endswith("/") else base + "/"
        self._opener = urllib.request.build_opener(_SameServer())
        self._spent = 0
        self._until = time.monotonic() + DEADLINE

    def fetch(self, path: str) -> bytes | None:
        """The bytes at `path` below the base, or None when the server has none."""
        if path.startswith("/") or ".." in path.split("/") or "://" in path:
            raise QmsError(f"refusing to fetch {path!r}", "the release names a path outside it")
        url = urljoin(self.base, path)
        if not url.startswith(self.base):
            raise QmsError(f"refusing to fetch {url}", "the release names a path outside it")
        if time.monotonic() > self._until:
            raise QmsError(f"reading {self.base} took over {DEADLINE} s", "try again later")
        try:
            with self._opener.open(url, timeout=TIMEOUT) as response:
                data: bytes = response.read(MAX_FILE + 1)
        except urllib.error.HTTPError as exc:
            if exc.code in (403, 404, 410):
                return None
            raise QmsError(f"{url}: HTTP {exc.code} {exc.reason}", "check the address") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason: Any = getattr(exc, "reason", exc)
            raise QmsError(f"cannot read {url}: {reason}", "check the address") from exc
        self._spent += len(data)
        if len(data) > MAX_FILE or self._spent > MAX_TOTAL:
            raise QmsError(f"{self.base} serves more than a release holds", "check the address")
        return data


# A time-stamp token is a few kilobytes; a TSA that does not answer within this is down.
POST_TIMEOUT = 15


def post(url: str, data: bytes, content_type: str, accept: str) -> bytes:
    """POST `data` to `url` and return the answer's body (bounded); QmsError when the server
    cannot be reached or does not answer 200."""
    if not is_url(url):
        raise QmsError(f"{url} is not an http(s) address", "fix the address in pyproject.toml")
    # is_url above admits http(s) only.
    request = urllib.request.Request(  # noqa: S310
        url, data=data, method="POST", headers={"Content-Type": content_type, "Accept": accept}
    )
    opener = urllib.request.build_opener(_SameServer())
    try:
        with opener.open(request, timeout=POST_TIMEOUT) as response:
            body: bytes = response.read(MAX_FILE + 1)
    except urllib.error.HTTPError as exc:
        raise QmsError(f"{url}: HTTP {exc.code} {exc.reason}", "check the address") from exc
    except (urllib.error.URLError, TimeoutError, OSError, HTTPException,
            ValueError) as exc:  # fmt: skip
        reason: Any = getattr(exc, "reason", exc)
        raise QmsError(f"cannot reach {url}: {reason}", "check the address") from exc
    if len(body) > MAX_FILE:
        raise QmsError(f"{url} answered with more than a token holds", "check the address")
    return body
