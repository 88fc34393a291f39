"""`katha refresh NAME`: ask the operator to re-index a Business now.

It writes the current time to the Business's `katha.dev/refresh-requested` annotation (as
`kubectl annotate --overwrite` would); the operator starts an index writer run for a
value no run has answered yet, after any run still going. Needs `patch` on businesses in
that namespace, which the owner of a Business usually has.
"""

from datetime import UTC, datetime
from typing import Annotated

import typer

from katha.api import GROUP_VERSION, REFRESH_ANNOTATION


def refresh(
    name: Annotated[str, typer.Argument(help="The Business to re-index.")],
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Its namespace (default: the context's)."),
    ] = None,
    kubeconfig: Annotated[
        str | None, typer.Option(help="A kubeconfig file (default: $KUBECONFIG, ~/.kube/config).")
    ] = None,
    context: Annotated[str | None, typer.Option(help="The kubeconfig context to use.")] = None,
) -> None:
    """Re-index a Business's knowledge now (in a cluster; on one machine `katha up` indexes)."""
    from kubernetes import client, config  # loaded only by this command

    try:
        config.load_kube_config(config_file=kubeconfig, context=context)  # type: ignore[no-untyped-call]
    except config.ConfigException as error:
        typer.secho(f"✗ no cluster to talk to: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from error
    if namespace is None:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        namespace = (active.get("context") or {}).get("namespace") or "default"
    requested = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"metadata": {"annotations": {REFRESH_ANNOTATION: requested}}}
    group, version = GROUP_VERSION.split("/")
    api = client.CustomObjectsApi()
    try:
        api.patch_namespaced_custom_object(group, version, namespace, "businesses", name, body)
    except client.ApiException as error:
        reason = "no such Business" if error.status == 404 else f"{error.status} {error.reason}"
        typer.secho(f"✗ Business {namespace}/{name}: {reason}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.secho(
        f"✓ Business {namespace}/{name}: re-index requested at {requested}; "
        f"`kubectl get business {name} -n {namespace}` shows the run",
        fg=typer.colors.GREEN,
    )
