"""Sign-in (a one-time code on WhatsApp, or OpenID Connect), sessions, CSRF, API tokens
and the audit log."""
