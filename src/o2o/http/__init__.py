"""HTTP plumbing shared by the two edges (``api`` and ``web``), which may not import each other."""
