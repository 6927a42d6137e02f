"""The audit store: typed models, engines, migrations and change history."""
