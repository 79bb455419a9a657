"""LSP handlers, one module per area; each has register(server). Handlers stay thin."""
