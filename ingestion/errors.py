"""Why a source could not be indexed; the message goes into the per-source report."""


class SourceError(Exception):
    """A source failed (unreachable, refused, corrupt, too large); others carry on."""


class IndexMismatchError(Exception):
    """The index on disk was written in a way this version cannot extend; rebuild it."""
