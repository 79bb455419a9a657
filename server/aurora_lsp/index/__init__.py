"""Indexing: walking a workspace, chunking its files, resolving dependencies."""
