"""The CPU photo check: measure each aspect of a photo with OpenCV and judge it 1–5."""
