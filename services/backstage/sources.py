"""Where catalog text comes from: a file, an http(s) URL, or an upload the view reads."""

import urllib.request
from pathlib import Path
from typing import NamedTuple

FETCH_TIMEOUT_SECONDS = 10
# A catalog of thousands of entities is a few megabytes; anything far larger is a wrong URL.
MAX_SOURCE_BYTES = 10 * 1024 * 1024


class Source(NamedTuple):
    name: str  # file path, URL or uploaded file name, used in messages
    text: str


class BackstageImportError(Exception):
    """A source that cannot be imported; the message names the source, document and field."""


def read_source(path_or_url: str) -> Source:
    """Read a catalog file from disk, or from an http(s) URL."""
    if path_or_url.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(path_or_url, timeout=FETCH_TIMEOUT_SECONDS) as response:
                content = response.read(MAX_SOURCE_BYTES + 1)
        except (OSError, ValueError) as error:  # URLError and timeouts are OSErrors
            raise BackstageImportError(f"{path_or_url}: cannot fetch it: {error}") from error
    else:
        try:
            with Path(path_or_url).open("rb") as file:
                content = file.read(MAX_SOURCE_BYTES + 1)
        except OSError as error:
            raise BackstageImportError(
                f"{path_or_url}: cannot read it: {error.strerror or error}"
            ) from error
    if len(content) > MAX_SOURCE_BYTES:
        raise BackstageImportError(f"{path_or_url}: larger than {MAX_SOURCE_BYTES} bytes")
    try:
        return Source(name=path_or_url, text=content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise BackstageImportError(f"{path_or_url}: not UTF-8 text") from error
