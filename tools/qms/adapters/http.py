"""Reading a published release over HTTP(S): whole files, bounded, nothing else."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

from qms.errors import QmsError

# A witness is a manifest, keys, registry revisions and signatures: small files.
MAX_BYTES = 32 * 1024 * 1024
TIMEOUT = 30


def is_url(text: str) -> bool:
    """Whether `text` names an http(s) address rather than a folder."""
    return urlsplit(text).scheme in ("http", "https")


def fetch(base: str, path: str) -> bytes | None:
    """The bytes at `path` below `base` (a folder URL), or None when the server has none."""
    url = urljoin(base if base.endswith("/") else base + "/", path)
    if urlsplit(url).scheme not in ("http", "https"):
        raise QmsError(f"{url} is not an http(s) address", "give --witness a folder or a URL")
    try:
        # The scheme is checked above: http(s) only, never file: or others.
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404, 410):
            return None
        raise QmsError(f"{url}: HTTP {exc.code} {exc.reason}", "check the address") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise QmsError(f"cannot read {url}: {reason}", "check the address and the network") from exc
    if len(data) > MAX_BYTES:
        raise QmsError(f"{url} is larger than {MAX_BYTES} bytes", "point at a release folder")
    return data
