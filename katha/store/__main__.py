"""`python -m katha.store upgrade [--url URL]`: migrate the store (the Helm hook Job and
`katha up` run exactly this).

Exit status: 0 migrated; 2 the URL is missing or not one the store can use; 1 the database
could not be reached or the migration failed (a revision this code does not know, too).
The URL is never printed: it may hold a password.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from katha.store.migrate import upgrade
from katha.store.urls import URL_ENV, StoreUrlError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m katha.store")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upgrade", help="migrate the store's schema to the newest")
    up.add_argument("--url", default=None, help=f"the store's URL (default: ${URL_ENV})")
    up.add_argument("--revision", default="head", help="the revision to reach (default: head)")
    arguments = parser.parse_args(argv)
    url = arguments.url if arguments.url is not None else os.environ.get(URL_ENV, "")
    try:
        upgrade(url, arguments.revision)
    except StoreUrlError as error:
        print(f"katha.store: {error}", file=sys.stderr)
        return 2
    except (SQLAlchemyError, OSError, CommandError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"katha.store: cannot migrate the store: {reason}", file=sys.stderr)
        return 1
    print(f"katha.store: the store is at {arguments.revision}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
