"""Reconciliation as plain async functions; `business_operator.main` wires them to Kopf."""
