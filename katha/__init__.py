"""Katha: AI customer-service agents on WhatsApp for Sri Lankan businesses.

The `katha` package is the shared core every component imports: the API models
(the source of truth for the CRDs), settings, observability and text handling.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("katha")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
