"""Conversations: the inbox lists, search, one conversation's view, the actions agents take on it, SLAs."""
