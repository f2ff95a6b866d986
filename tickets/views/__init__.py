"""The agent console: server-rendered views that hand every read to selectors and every write to services."""
