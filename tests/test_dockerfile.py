"""The image runs as a non-root user and ships every package the wheel is built from."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def _final_stage() -> str:
    return DOCKERFILE.split("\nFROM ")[-1]


def test_image_is_multi_stage_and_installs_the_built_wheel_with_pins() -> None:
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.MULTILINE)) >= 2
    assert "pip wheel --no-deps" in DOCKERFILE
    assert 'wheel="$(ls /dist/katha-*.whl)"' in DOCKERFILE
    # The built wheel, with the extras the build asks for (none by default), from the pins.
    install = '--constraint constraints/ci.txt \\\n      "${wheel}'
    install += '${KATHA_EXTRAS:+[${KATHA_EXTRAS}]}"'
    assert install in DOCKERFILE
    assert re.search(r'^ARG KATHA_EXTRAS=""$', DOCKERFILE, re.MULTILINE)
    assert "COPY --from=build /opt/katha /opt/katha" in _final_stage()


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", _final_stage(), re.MULTILINE)
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid lets Kubernetes enforce runAsNonRoot"
    assert int(uid) >= 10000


def test_every_package_folder_is_copied_into_the_build() -> None:
    packages = ["katha", "katha_cli", "agent_runtime", "ingestion", "router", "operator"]
    for folder in packages:
        assert (REPO_ROOT / folder).is_dir()
        assert f"COPY {folder}/ {folder}/" in DOCKERFILE, f"{folder} is missing from the image"
