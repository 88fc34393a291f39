"""The owner console: the shop owner signs in from a phone, follows their customers'
conversations live, takes one over, replies as a person and gives it back to the agent.
Pages and a JSON API under /api/v1/ share one sign-in; it reads the conversation store
and acts through the router's admin API (DESIGN.md: console -> router 8080, store 5432)."""
