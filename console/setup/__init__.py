"""Settings: the persona, opening hours, the owner's number for handoffs, and pausing the
agent, applied to the Business with the console's own field manager."""
