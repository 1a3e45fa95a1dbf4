"""The one error type every layer raises for bad input, with a stable code and an HTTP status."""

from dataclasses import dataclass


@dataclass
class PhotoTipsError(Exception):
    """A failure the caller can act on: `code` is stable, `message` is for people."""

    code: str
    message: str
    status: int = 400
    retry_after: int | None = None  # seconds, for refusals that pass (rate limits, a busy server)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later: the server's state (busy, a failure, a limit), not the input."""
        return self.status >= 500 or self.status == 429

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message, "retryable": self.retryable}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out
