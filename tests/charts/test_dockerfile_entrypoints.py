"""The one image parses as a Dockerfile, and every command the chart runs in it exists: a console
script or a `python -m` module of the installed package, built from folders the image copies.

There is no Docker engine here, so this checks the Dockerfile's structure and the commands'
targets, not a built image.
"""

import importlib.metadata
import importlib.util
import json
import re
import shlex
import tomllib
from collections.abc import Callable

import pytest
from katha_chart import REPO_ROOT, SCENARIOS, STORE_SCENARIOS, Manifest, env_of, pod_templates

DOCKERFILE = REPO_ROOT / "Dockerfile"
INSTRUCTIONS = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}  # fmt: skip

Instruction = tuple[str, str]  # (keyword, arguments)


def parse_dockerfile(text: str) -> list[Instruction]:
    """Logical instructions: comments dropped, backslash continuations joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword, arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages(instructions: list[Instruction]) -> list[tuple[str, list[Instruction]]]:
    """(stage name, its instructions) for each FROM."""
    found: list[tuple[str, list[Instruction]]] = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(found))
            found.append((name, []))
        elif found:
            found[-1][1].append((keyword, arguments))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


def final_stage(dockerfile: list[Instruction]) -> list[Instruction]:
    return stages(dockerfile)[-1][1]


def test_every_instruction_is_a_known_dockerfile_keyword(dockerfile: list[Instruction]) -> None:
    assert dockerfile
    for keyword, arguments in dockerfile:
        assert keyword in INSTRUCTIONS, f"unknown instruction {keyword!r}"
        assert keyword.isupper(), f"{keyword}: instructions are written in capitals here"
        assert arguments, f"{keyword} has no arguments"
    before_first_stage = [
        keyword for keyword, _ in dockerfile[: [k for k, _ in dockerfile].index("FROM")]
    ]
    assert set(before_first_stage) <= {"ARG"}, "only ARG may precede the first FROM"


def test_stages_copy_only_from_earlier_stages(dockerfile: list[Instruction]) -> None:
    seen: list[str] = []
    for name, body in stages(dockerfile):
        for keyword, arguments in body:
            if keyword == "COPY" and arguments.startswith("--from="):
                source = arguments.split()[0].removeprefix("--from=")
                assert source in seen, f"stage {name} copies from unknown stage {source}"
        seen.append(name)
    assert len(seen) >= 2, "a build stage and a slim runtime stage"


def test_entrypoint_and_cmd_use_exec_form_with_tini_installed(
    dockerfile: list[Instruction],
) -> None:
    runtime = final_stage(dockerfile)
    (entrypoint,) = [json.loads(args) for keyword, args in runtime if keyword == "ENTRYPOINT"]
    (cmd,) = [json.loads(args) for keyword, args in runtime if keyword == "CMD"]
    assert entrypoint == ["/usr/bin/tini", "--"], "tini as PID 1 forwards signals and reaps"
    installs = " ".join(args for keyword, args in runtime if keyword == "RUN")
    assert "apt-get install" in installs
    assert "tini" in shlex.split(installs)
    assert console_script_exists(cmd[0]), f"CMD runs {cmd[0]}, which no package installs"


def test_image_user_and_ports_match_what_the_chart_expects(
    dockerfile: list[Instruction], rendered: Callable[[str], list[Manifest]]
) -> None:
    runtime = final_stage(dockerfile)
    users = [args for keyword, args in runtime if keyword == "USER"]
    exposed = {port for keyword, args in runtime if keyword == "EXPOSE" for port in args.split()}
    for name, template in pod_templates(rendered("default")).items():
        uid = template["spec"]["securityContext"]["runAsUser"]
        assert users[-1].split(":")[0] == str(uid), f"{name} runs as {uid}, the image as {users}"
        for container in template["spec"]["containers"]:
            for port in container.get("ports", []):
                assert str(port["containerPort"]) in exposed, f"{name}: {port}"


def console_script_exists(name: str) -> bool:
    scripts = importlib.metadata.entry_points(group="console_scripts")
    return any(script.name == name for script in scripts)


def module_target(args: list[str]) -> str:
    """The Python module a container command runs, after checking its launcher exists."""
    if args[:2] == ["python", "-m"]:
        return f"{args[2]}.__main__" if is_package(args[2]) else args[2]
    if args[:2] == ["kopf", "run"]:
        assert console_script_exists("kopf"), "kopf is not installed as a console script"
        return args[args.index("-m") + 1]
    pytest.fail(f"the chart runs {args}; teach this test how to check that launcher")


def is_package(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    return spec is not None and spec.submodule_search_locations is not None


def copied_folders(dockerfile: list[Instruction]) -> set[str]:
    build = stages(dockerfile)[0][1]
    return {
        args.split()[0].rstrip("/")
        for keyword, args in build
        if keyword == "COPY" and not args.startswith("--")
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_command_the_chart_runs_exists_in_the_image(
    scenario: str, dockerfile: list[Instruction], rendered: Callable[[str], list[Manifest]]
) -> None:
    folders = copied_folders(dockerfile)
    for name, template in pod_templates(rendered(scenario)).items():
        for container in template["spec"]["containers"]:
            assert "command" not in container, f"{name}: keep the image's tini ENTRYPOINT"
            module = module_target(container["args"])
            assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"
            package = module.split(".")[0]
            sources = [f for f in folders if f == package or (REPO_ROOT / f / package).is_dir()]
            assert sources, f"{name} runs {module}, but the image copies no folder holding it"


def image_requirements(dockerfile: list[Instruction]) -> list[str]:
    """What pip installs into the image with the katha wheel: its dependencies, and those of
    each extra the build stage names in brackets (`katha[postgres]`, `...whl[postgres]`)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    build = " ".join(args for keyword, args in stages(dockerfile)[0][1] if keyword == "RUN")
    extras = {
        extra.strip()
        for group in re.findall(r"katha[^\s\[]*\[([^\]]+)\]", build)
        for extra in group.split(",")
    }
    optional = project.get("optional-dependencies", {})
    return [*project["dependencies"], *(r for extra in extras for r in optional.get(extra, []))]


@pytest.mark.parametrize("scenario", STORE_SCENARIOS)
def test_the_image_has_the_driver_for_the_postgresql_store_the_chart_gives_it(
    scenario: str, dockerfile: list[Instruction], rendered: Callable[[str], list[Manifest]]
) -> None:
    """The chart hands the router and the migration Job a `postgresql://` URL; the store
    reaches PostgreSQL through psycopg 3 (katha/store/urls.py), so the image must hold it."""
    job = next(m for m in rendered(scenario) if m["kind"] == "Job")
    assert "KATHA_STORE_URL" in env_of(job)
    names = {
        re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        for requirement in image_requirements(dockerfile)
    }
    assert "psycopg" in names, (
        "the image installs no psycopg: add it to [project].dependencies or install the "
        "wheel with the `postgres` extra in the Dockerfile"
    )
