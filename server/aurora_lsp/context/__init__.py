"""The context engine: ACT-R activation, ranking and token-budget packing."""
