"""The contracts between Katha's components, in one place.

- `messages`: router → agent, `POST {endpoint}/v1/messages` (InboundMessage, AgentReply).
- `routing`: operator → router, the routing table Secret (Route, RoutingTable).
- `serving`: operator → agent, the Serve application's arguments and index state
  (AgentAppArgs, IndexStats).
"""
