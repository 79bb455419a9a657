"""`aurora-lsp mcp`: Aurora's memory for AI agents (tools.py: the MCP server and its tools;
workspace.py: the workspace behind them; answers.py: what they answer)."""
