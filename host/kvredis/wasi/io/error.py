"""wasi:io/error: the payload of `last-operation-failed`.

Other interfaces "downcast" an error into their own error codes (`filesystem-error-code`,
`http-error-code`), so an `IoError` may carry the code it stands for in `code`.
"""

from __future__ import annotations


class IoError:
    """What went wrong, for humans (`to_debug_string`), and optionally as an interface's code."""

    __slots__ = ("code", "message")

    def __init__(self, message: str, code: object = None) -> None:
        self.message = message
        self.code = code

    def to_debug_string(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"IoError({self.message!r})"
