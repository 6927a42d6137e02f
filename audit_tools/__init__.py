"""The themed audit tools as data (one YAML file per tool) and the registry that validates them."""

from audit_tools.errors import ToolFileError
from audit_tools.registry import ToolRegistry

__all__ = ["ToolFileError", "ToolRegistry"]
