"""The workspace services: one per folder (service.py), the threads they run on (threads.py),
open documents (documents.py), and the folders of one language server (folders.py).

The language server and the command line use the same WorkspaceService, so their answers
are the same."""
