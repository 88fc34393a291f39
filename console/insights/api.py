"""The insights API under /api/v1: the report as JSON and its days and weeks as CSV. Like every
console API: 401 without a principal, 404 for a Business it lacks."""

from fastapi import APIRouter
from fastapi.responses import Response

from console.auth.deps import PrincipalDep
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.conversations.api import NOT_FOUND
from console.insights.report import Days, End, InsightsReport, Timezone, as_csv, report_for

router = APIRouter(prefix="/api/v1", tags=["insights"])

INSIGHTS = "/tenants/{namespace}/{name}/insights"


@router.get(INSIGHTS, response_model=InsightsReport, responses=NOT_FOUND)
async def insights(
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    days: Days = 7,
    tz: Timezone = None,
    end: End = None,
) -> InsightsReport:
    """Per day, per Monday-start week and in total: customers, messages, languages,
    answered by the agent, handed to a person, median time to reply, unanswered; and the
    top questions. Days are the Business's own (`tz` wins when given)."""
    tenant = tenant_for(principal, namespace, name)
    return await report_for(services, tenant, days, tz, end)


@router.get(
    f"{INSIGHTS}.csv",
    response_class=Response,
    responses=NOT_FOUND | {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def insights_csv(
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    days: Days = 7,
    tz: Timezone = None,
    end: End = None,
) -> Response:
    """The days, then the weeks, as CSV, one row each under a header row, to download."""
    tenant = tenant_for(principal, namespace, name)
    report = await report_for(services, tenant, days, tz, end)
    filename = f"insights-{namespace}-{name}-{report.start}-{report.end}.csv"
    return Response(
        as_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
