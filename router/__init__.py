"""The shared WhatsApp webhook router: verify, dedupe, enqueue, forward to the tenant's agent."""
