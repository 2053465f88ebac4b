"""rdpipe: declarative video pipelines for the RelayDance (Seedance) video API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
