"""Events layer: what the articles say happened and who says so (attributed statements)."""
