"""`python -m ingestion.forget --index-dir ROOT NAMESPACE NAME`: delete one Business's index.

A Business whose index is in object storage and not kept (`retainOnDelete: false`) loses
it when it is deleted: the operator runs this as a Job with the writer's credentials and
lets the Business go once it finished. (An index on a volume goes with its claim.) Every
table of the tenant's database is dropped and its uploaded documents deleted; running it
twice, or on a database that was never written, is fine.
"""

import argparse
import json
import sys

from ingestion.index.location import IndexLocation, index_location
from ingestion.uploads import UploadStore


def forget_index(location: IndexLocation) -> tuple[list[str], int]:
    """Drop every table at `location` and delete the documents uploaded beside it; the
    tables dropped and the number of documents deleted."""
    db = location.connect()
    names = list(db.list_tables().tables)
    for name in names:
        db.drop_table(name)
    return names, UploadStore(location.documents()).delete_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.forget", description=__doc__)
    parser.add_argument("--index-dir", required=True, help="root of tenant indexes (s3://...)")
    parser.add_argument("namespace")
    parser.add_argument("name")
    options = parser.parse_args(argv)
    location = index_location(options.index_dir).child(options.namespace, options.name)
    dropped, documents = forget_index(location)
    print(json.dumps({"index": str(location), "dropped": dropped, "documents": documents}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
