"""Where the real kubectl and helm binaries are (scripts/install-k8s-tools puts them there)."""

import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    local = REPO_ROOT / ".cache" / "bin" / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: run scripts/install-k8s-tools")
    return found
