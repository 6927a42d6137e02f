"""UI-free use cases: each takes a session factory (and an actor when it changes content)
and returns schemas, never live ORM objects."""
