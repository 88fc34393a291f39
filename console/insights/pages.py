"""The insights page: cards and per-day bars an owner reads at a glance on a phone.

Bars are <progress> elements (no chart library, no inline style: the CSP forbids it);
questions are customer text, shown only through the autoescaped template.
"""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.auth.deps import PrincipalDep, csrf_token
from console.conversations.access import Name, Namespace, ServicesDep, tenant_for
from console.insights.report import Days, End, Timezone, report_for
from console.web import render
from katha.store.insights import DEFAULT_TIMEZONE

router = APIRouter(include_in_schema=False)

LANGUAGE_LABELS = {
    "si": "Sinhala",
    "en": "English",
    "singlish": "Singlish",
    "ta": "Tamil",
    "other": "Other",
}


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def duration(seconds: float | None) -> str:
    """A reply time as an owner reads it: 45 s, 3 min, 2 h 5 min; an em dash for none."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


@router.get("/b/{namespace}/{name}/insights", response_class=HTMLResponse)
async def insights_page(
    request: Request,
    namespace: Namespace,
    name: Name,
    principal: PrincipalDep,
    services: ServicesDep,
    days: Days = 7,
    tz: Timezone = None,
    end: End = None,
) -> Response:
    tenant = tenant_for(principal, namespace, name)  # 404: the not-found page
    report = await report_for(services, tenant, days, tz, end)
    query = f"days={days}" + (f"&end={end.isoformat()}" if end else "")
    query += f"&tz={quote(tz)}" if tz else ""
    total = report.total
    return render(
        request,
        "insights.html",
        principal=principal,
        tenant=tenant,
        base=f"/b/{namespace}/{name}",
        report=report,
        total=total,
        period_days=days,
        busiest=max([day.messages for day in report.days] + [1]),
        weeks=[
            (
                week,
                percent(week.answered_by_agent, week.messages),
                duration(week.median_reply_seconds),
            )
            for week in report.weeks
        ],
        default_timezone=DEFAULT_TIMEZONE,
        answered_percent=percent(total.answered_by_agent, total.messages),
        unanswered_percent=round(100 * total.unanswered_rate),
        median=duration(total.median_reply_seconds),
        language_labels=LANGUAGE_LABELS,
        csv_url=f"/api/v1/tenants/{namespace}/{name}/insights.csv?{query}",
        csrf=csrf_token(request),
    )
