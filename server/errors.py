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

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out
