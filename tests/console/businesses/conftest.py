import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from businesses_cluster import _nothing_refused, businesses, kube, kubectl, tenant  # noqa: F401
