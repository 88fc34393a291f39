"""Pure functions that turn Katha resources into the Kubernetes manifests they own."""

from business_operator.render.business import render_agent_children
from business_operator.render.context import Platform, Tenant
from business_operator.render.language_model import Model, render_language_model_children
from business_operator.render.route import render_route

__all__ = [
    "Model",
    "Platform",
    "Tenant",
    "render_agent_children",
    "render_language_model_children",
    "render_route",
]
