"""In-app notifications for users (and, later, push and SMS)."""
