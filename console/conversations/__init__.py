"""Conversations: the live list, a conversation's thread, take over, reply, release."""
