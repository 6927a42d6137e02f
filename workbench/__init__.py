"""The Case Audit Workbench application: configuration, store, services, terminal UI and CLI."""

__version__ = "0.1.0"
