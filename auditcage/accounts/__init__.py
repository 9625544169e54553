"""Console accounts: who may sign in, with which roles, over which part of the unit tree."""
