"""Storage: the bounded in-memory tier and SQLite behind it."""
