"""What a running `katha up` tells `katha chat` and `katha ask`: one JSON file in the state
folder (mode 0600: it holds the tenants' app secrets, which sign webhooks)."""

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

STATE_FILE = "up.json"
DEFAULT_STATE_DIR = Path(".katha")


class TenantInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    key: str
    display_name: str
    phone_number_id: str
    business_account_id: str | None = None
    app_secret: str
    live: bool = False
    owner_number: str | None = None  # told on handoff; its "release <ref>" gives it back
    samples: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.key.split("/", 1)[1]

    def matches(self, wanted: str) -> bool:
        return wanted in {self.key, self.name, self.phone_number_id}


class UpState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    pid: int
    directory: str
    router_url: str
    graph_url: str
    agents_url: str
    tenants: list[TenantInfo]
    console_url: str = ""  # the owner console, when `katha up` runs one


class NotRunningError(RuntimeError):
    pass


def read_state(state_dir: Path) -> UpState:
    path = state_dir / STATE_FILE
    if not path.is_file():
        raise NotRunningError(
            f"katha up is not running here (no {path}); start it with `katha up` "
            "(or ./scripts/run) in this folder, or pass --state-dir"
        )
    return UpState.model_validate_json(path.read_text())


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by this user only, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    temporary.replace(path)
