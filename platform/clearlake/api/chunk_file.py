"""A read-only file object over an iterator of byte chunks (an HTTP response body).

pyarrow's IPC reader pulls whole messages with ``read(n)`` and needs exactly ``n`` bytes
back; network chunks have whatever size they arrive with. Each byte is copied once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator


class ChunkFile:
    """A read-only file over an iterator of byte chunks, for pyarrow's IPC reader.

    ``read(n)`` returns exactly ``n`` bytes (fewer only at the end), copying each byte
    once: the reader asks for whole message bodies, which span network chunks.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending: deque[memoryview] = deque()
        self._available = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or self._available < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            if chunk:
                self._pending.append(memoryview(chunk))
                self._available += len(chunk)
        if size < 0 or size >= self._available:
            size = self._available
        parts: list[memoryview] = []
        need = size
        while need:
            head = self._pending[0]
            if len(head) <= need:
                parts.append(self._pending.popleft())
                need -= len(head)
            else:
                parts.append(head[:need])
                self._pending[0] = head[need:]
                need = 0
        self._available -= size
        return b"".join(parts)
