"""CPU work off the request path: decoding and the photo check, in worker processes behind a bounded queue."""
