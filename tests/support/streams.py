"""Request bodies produced lazily, to show how much of a body the app reads before it refuses it."""
from __future__ import annotations

import io
from typing import Any


class CountingStream(io.RawIOBase):
    """A request body that produces ``size`` bytes of ``fill`` lazily and counts what the app read of it."""

    def __init__(self, size: int, prefix: bytes = b'{"email": "', fill: bytes = b"a") -> None:
        self.size, self.prefix, self.fill, self.position, self.bytes_read = size, prefix, fill, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the stream to set Content-Length
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.size - self.position)
        if count <= 0:
            return 0
        head = self.prefix[self.position:self.position + count]
        buffer[:count] = head + self.fill * (count - len(head))
        self.position += count
        self.bytes_read += count
        return count
