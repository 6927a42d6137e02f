"""Finds every tool and scale (shipped and the partnership's own) and resolves each tool's scale."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from audit_tools.errors import ToolFileError
from audit_tools.loader import is_scale_file, load_scale_file, load_tool_file
from schemas.tools import AuditTool, GradeScale, ToolDefinition, ToolSummary

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_DIRS = (PACKAGE_DIR / "scales", PACKAGE_DIR / "tools")


def yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ToolFileError(folder, "tool folder does not exist")
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


@dataclass
class ToolRegistry:
    """Every known tool version and scale. Raises ToolFileError on the first broken file."""

    scales: dict[str, GradeScale] = field(default_factory=dict)
    tools: dict[tuple[str, int], tuple[AuditTool, Path]] = field(default_factory=dict)

    @classmethod
    def load(cls, extra_dirs: Iterable[Path] = ()) -> ToolRegistry:
        registry = cls()
        files: list[Path] = []
        for folder in (*SHIPPED_DIRS, *extra_dirs):
            files.extend(yaml_files(folder))
        registry.add_files(files)
        return registry

    def add_files(self, files: Iterable[Path]) -> None:
        files = list(files)
        # Scales first, so a tool may name a scale defined in any folder.
        scale_origin: dict[str, Path] = {}
        for path in (p for p in files if is_scale_file(p)):
            scale = load_scale_file(path)
            known = self.scales.get(scale.id)
            if known is not None and known != scale:
                raise ToolFileError(
                    path, f"scale {scale.id!r} is already defined differently", field="id"
                )
            self.scales[scale.id] = scale
            scale_origin[scale.id] = path
        for path in (p for p in files if not is_scale_file(p)):
            self.add_tool(load_tool_file(path), path)

    def add_tool(self, tool: AuditTool, path: Path) -> None:
        if tool.scale not in self.scales:
            known = ", ".join(sorted(self.scales)) or "none"
            raise ToolFileError(
                path,
                f"unknown scale {tool.scale!r} (known scales: {known})",
                line=_line_of_key(path, "scale"),
                field="scale",
            )
        existing = self.tools.get((tool.id, tool.version))
        if existing is not None and existing[0] != tool:
            raise ToolFileError(
                path,
                f"tool {tool.id!r} version {tool.version} is also defined, differently, in "
                f"{existing[1]}; give the changed tool a new version",
                field="version",
            )
        self.tools[(tool.id, tool.version)] = (tool, path)

    def definition(self, tool_id: str, version: int | None = None) -> ToolDefinition:
        """The named tool version, or its latest version when `version` is None."""
        if version is None:
            versions = [v for (tid, v) in self.tools if tid == tool_id]
            if not versions:
                raise KeyError(f"no tool with id {tool_id!r}")
            version = max(versions)
        try:
            tool, _ = self.tools[(tool_id, version)]
        except KeyError:
            raise KeyError(f"no tool {tool_id!r} version {version}") from None
        return ToolDefinition(tool=tool, scale=self.scales[tool.scale])

    def latest(self) -> list[ToolDefinition]:
        ids = sorted({tid for (tid, _) in self.tools})
        return [self.definition(tid) for tid in ids]

    def summaries(self) -> list[ToolSummary]:
        out = []
        for (_, _), (tool, path) in sorted(self.tools.items()):
            out.append(
                ToolSummary(
                    id=tool.id,
                    version=tool.version,
                    title=tool.title,
                    theme=tool.theme,
                    kind=tool.kind,
                    scale=tool.scale,
                    sections=len(tool.sections),
                    criteria=len(tool.criteria),
                    source=str(path),
                )
            )
        return out


def _line_of_key(path: Path, key: str) -> int | None:
    try:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if line.startswith(f"{key}:"):
                return number
    except OSError:  # pragma: no cover - the file was readable a moment ago
        return None
    return None
