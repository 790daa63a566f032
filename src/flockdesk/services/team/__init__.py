"""The team: users, sign-in sessions, presence, @mentions in notes, and the audit log."""
