"""Photo Tips: photo quality scores, tips and hero-image suggestions for marketplace listings."""

__version__ = "0.1.0"
