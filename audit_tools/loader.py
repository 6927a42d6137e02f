"""Reads one YAML tool or scale file into a schema, turning every failure into a ToolFileError."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from audit_tools.errors import ToolFileError
from schemas.text import friendly_message
from schemas.tools import AuditTool, GradeScale

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

ModelT = TypeVar("ModelT", bound=BaseModel)

SCALE_SUFFIX = ".scale.yaml"
MAX_FILE_BYTES = 2_000_000


def is_scale_file(path: Path) -> bool:
    return path.name.endswith(SCALE_SUFFIX)


def load_tool_file(path: Path) -> AuditTool:
    return _load(path, AuditTool)


def load_scale_file(path: Path) -> GradeScale:
    return _load(path, GradeScale)


def _load(path: Path, model: type[ModelT]) -> ModelT:
    text = _read_text(path)
    try:
        data = yaml.load(text, Loader=_Loader)  # a safe loader (CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ToolFileError(path, f"YAML syntax error: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ToolFileError(path, f"YAML syntax error: {exc}") from None
    if data is None:
        raise ToolFileError(path, "the file is empty")
    if not isinstance(data, dict):
        raise ToolFileError(path, "expected a mapping of fields at the top level", line=1)
    duplicate = _duplicate_criterion(text)
    if duplicate is not None:
        criterion_id, line = duplicate
        raise ToolFileError(
            path, f"duplicate criterion id {criterion_id!r}", line=line, field="criteria.id"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        loc = tuple(error["loc"])
        raise ToolFileError(
            path,
            _message(error),
            line=_line_of(text, loc),
            field=_field_name(loc) or None,
        ) from None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ToolFileError(path, "no such file") from None
    except IsADirectoryError:
        raise ToolFileError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise ToolFileError(path, f"cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ToolFileError(path, f"is larger than {MAX_FILE_BYTES} bytes; not a tool file")
    if not raw.strip():
        raise ToolFileError(path, "the file is empty")
    if b"\x00" in raw:
        raise ToolFileError(path, "is a binary file, not YAML text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolFileError(
            path, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8 YAML"
        ) from None


def _message(error: Any) -> str:
    msg = friendly_message(error)
    if error["type"] == "missing":
        return "missing required field"
    if error["type"] == "extra_forbidden":
        return "unknown field (check its spelling)"
    value = error.get("input")
    if error["type"] != "missing" and isinstance(value, str | int | float | bool) and value != "":
        return f"{msg} (got {value!r})"
    return msg


def _field_name(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:  # pragma: no cover - the text already loaded once
        return None


def _line_of(text: str, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest node on `loc` that exists in the file."""
    node = _compose(text)
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _duplicate_criterion(text: str) -> tuple[str, int] | None:
    """The first criterion id used twice in a tool file, with the line of its second use."""
    root = _compose(text)
    if not isinstance(root, yaml.MappingNode):
        return None
    seen: set[str] = set()
    for section in _children(root, "sections"):
        for criterion in _children(section, "criteria"):
            if not isinstance(criterion, yaml.MappingNode):
                continue
            for key, value in criterion.value:
                if key.value == "id" and isinstance(value, yaml.ScalarNode):
                    if value.value in seen:
                        return value.value, value.start_mark.line + 1
                    seen.add(value.value)
    return None


def _children(node: yaml.Node, name: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == name and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []
