"""Image intake: bytes from a phone to a bounded, upright RGB array."""
