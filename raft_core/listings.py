"""``raft plugins`` and ``raft components``: listings on stdout (pipe them to grep), diagnostics on stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from rich.console import Console
from rich.markup import escape

from raft_core.catalogue import load_catalogue
from raft_core.console import console
from raft_core.plugins import KINDS, ComponentInfo, get_plugin_manager

out = Console(highlight=False, soft_wrap=True)
"""The listing itself goes to stdout."""


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    available: Annotated[bool, typer.Option("--available", help="Also list catalogue plugins not installed.")] = False,
) -> None:
    """List installed plugins and their components (and, with --available, the catalogue)."""
    manager = get_plugin_manager()
    installed = manager.plugins()
    installed_dists = {p.distribution for p in installed}
    catalogue = (
        [dict(entry, installed=entry["distribution"] in installed_dists) for entry in load_catalogue()]
        if available
        else []
    )
    for error in manager.errors:
        console.print(f"[red]failed[/] {error.entry_point} ({error.distribution}): {error.error}", soft_wrap=True)
    if as_json:
        print_json(
            {
                "installed": [vars(p) | {"components": [list(c) for c in p.components]} for p in installed],
                "errors": [vars(e) for e in manager.errors],
                **({"available": catalogue} if available else {}),
            }
        )
        return
    for plugin in installed:
        where = f"{plugin.distribution} {plugin.version}" if plugin.distribution else "registered in-process"
        parts = ", ".join(f"{kind}:{name}" for kind, name in plugin.components) or "no components"
        out.print(f"[bold]{escape(plugin.name)}[/] ({escape(where)}): {escape(parts)}")
    if available:
        out.rule("catalogue")
        for entry in catalogue:
            mark = "installed" if entry["installed"] else f"pip install {entry['install']}"
            out.print(f"[bold]{escape(entry['name'])}[/] \\[{escape(mark)}]: {escape(entry['description'])}")


def components(
    kind: Annotated[str | None, typer.Argument(help=f"One of: {', '.join(KINDS)}.")] = None,
    name: Annotated[str | None, typer.Argument(help="A component of that kind: show its options.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the components that can be selected by name, per kind; with KIND NAME, that component's options."""
    manager = get_plugin_manager()
    if name is not None:
        assert kind is not None
        info = manager.get(kind, name)
        row = component_row(kind, name, info) | {"options": option_rows(info.cls.Options)}
        if as_json:
            print_json(row)
        else:
            print_options(row)
        return
    rows = [
        component_row(k, n, info)
        for k in ([kind] if kind else list(KINDS))
        for n, info in sorted(manager.components(k).items())
    ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        alias = f" (alias of {row['alias_of']})" if row["alias_of"] else ""
        out.print(
            f"{row['kind']:<11} [bold]{escape(row['name'])}[/]{escape(alias)} \\[{escape(row['plugin'])}] "
            f"{escape(row['description'])}"
        )


def component_row(kind: str, name: str, info: ComponentInfo) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "plugin": info.plugin,
        "distribution": info.distribution,
        "alias_of": info.name if name != info.name else None,
        "description": info.description,
    }


def option_rows(model: type[BaseModel]) -> list[dict[str, Any]]:
    """Name, type, default (absent when required) and description of each option the model accepts."""
    rows = []
    for field_name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type):
            type_name = annotation.__name__
        else:
            type_name = str(annotation).replace("typing.", "").replace("pathlib.", "")
        row: dict[str, Any] = {"name": field_name, "type": type_name, "required": field.is_required()}
        if not field.is_required():
            default = field.get_default(call_default_factory=True)
            row["default"] = default if default is not PydanticUndefined else None
        row["description"] = field.description or ""
        rows.append(row)
    return rows


def print_options(row: dict[str, Any]) -> None:
    out.print(f"{row['kind']} [bold]{escape(row['name'])}[/] \\[{escape(row['plugin'])}] {escape(row['description'])}")
    if not row["options"]:
        out.print("  (no options)")
    for option in row["options"]:
        default = "required" if option["required"] else f"default {json.dumps(option['default'], default=str)}"
        text = f"  {option['name']}: {option['type']} ({default})"
        out.print(escape(text + (f"  {option['description']}" if option["description"] else "")))
