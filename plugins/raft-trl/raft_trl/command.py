"""``raft export``: merge a LoRA adapter into its base and write a standalone model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from raft_core.console import console
from raft_core.errors import RaftError


def add_command(cli: typer.Typer) -> None:
    """Register ``raft export ADAPTER_DIR OUT_DIR [--dtype]`` on the root application."""

    @cli.command("export")
    def export(
        model_dir: Annotated[Path, typer.Argument(help="Trained LoRA adapter folder (or a full model folder).")],
        out_dir: Annotated[Path, typer.Argument(help="Where to write the standalone safetensors model.")],
        dtype: Annotated[str, typer.Option(help="Weights dtype: float32, bfloat16 or float16.")] = "bfloat16",
    ) -> None:
        """Merge a LoRA adapter into its base model and save a standalone folder (vLLM, `transformers serve`)."""
        from raft_trl.export import export_model

        try:
            path = export_model(model_dir, out_dir, dtype)
        except RaftError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        console.print(f"exported {escape(str(model_dir))} -> {escape(str(path))} ({dtype})", soft_wrap=True)
