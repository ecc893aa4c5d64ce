"""A real HTTP server on 127.0.0.1 implementing OpenAI's /v1/files and /v1/batches, for Batch API tests.

Each batch line is answered by the same ``responder(request) -> Reply`` the chat server uses. ``outcome(n)``
says how batch number ``n`` (from 1) ends: ``completed`` (every line answered), ``partial`` (completed, the
second half of the lines failed with 500 in the error file), ``expired`` (only the first half answered) or
``failed`` (rejected, nothing answered). A batch stays ``in_progress`` for ``polls`` retrievals and while
``hold`` is cleared. Chat completions sent online are recorded in ``online`` and refused.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler
from typing import Any

from raft_testing.server import LocalServer, Responder, chat_completion


class BatchServer(LocalServer):
    """Files and batches kept in memory; ``log`` lists every (method, path) served."""

    def __init__(self, responder: Responder, outcome: Callable[[int], str] | None = None, polls: int = 1) -> None:
        self.responder = responder
        self.outcome = outcome or (lambda n: "completed")
        self.polls = polls
        self.hold = threading.Event()
        self.hold.set()
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.online: list[dict[str, Any]] = []
        self.log: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                server.log.append(("GET", self.path))
                status, body = server.get(self.path.split("?")[0])
                self._send(status, body)

            def do_POST(self) -> None:  # noqa: N802
                server.log.append(("POST", self.path))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = server.post(self.path, raw, self.headers.get("Content-Type", ""))
                self._send(status, body)

            def _send(self, status: int, body: Any) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.serve(Handler)

    def __exit__(self, *exc: object) -> None:
        self.hold.set()
        super().__exit__(*exc)

    # -- routes ----------------------------------------------------------------------------

    def post(self, path: str, raw: bytes, content_type: str) -> tuple[int, Any]:
        if path == "/v1/files":
            return 200, self._upload(raw, content_type)
        if path == "/v1/batches":
            return 200, self._create(json.loads(raw))
        if path.endswith("/chat/completions"):
            self.online.append(json.loads(raw))
            return 500, {"error": {"message": "this server only answers batches"}}
        return 404, {"error": {"message": f"no route {path}"}}

    def get(self, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")  # v1, files|batches, id, [content]
        with self.lock:
            if parts[1:] == ["batches"]:
                return 200, {"object": "list", "data": list(self.batches.values()), "has_more": False}
            if parts[1] == "files" and len(parts) == 4 and parts[2] in self.files:
                return 200, self.files[parts[2]]["content"]
            if parts[1] == "files" and len(parts) == 3 and parts[2] in self.files:
                return 200, self.files[parts[2]]["object"]
            if parts[1] == "batches" and len(parts) == 3 and parts[2] in self.batches:
                return 200, self._advance(self.batches[parts[2]])
        return 404, {"error": {"message": f"not found: {path}"}}

    # -- files and batches -----------------------------------------------------------------

    def _store(self, content: bytes, purpose: str, filename: str) -> dict[str, Any]:
        with self.lock:
            file_id = f"file-{len(self.files) + 1}"
            info = {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "created_at": int(time.time()),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
            }
            self.files[file_id] = {"object": info, "content": content}
        return info

    def _upload(self, raw: bytes, content_type: str) -> dict[str, Any]:
        message = BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.get_payload() or []}
        upload = fields["file"]
        return self._store(
            upload.get_payload(decode=True), fields["purpose"].get_payload(), upload.get_filename() or "input.jsonl"
        )

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            number = len(self.batches) + 1
            lines = self.files[request["input_file_id"]]["content"].decode().splitlines()
            batch = {
                "id": f"batch-{number}",
                "object": "batch",
                "endpoint": request["endpoint"],
                "input_file_id": request["input_file_id"],
                "completion_window": request["completion_window"],
                "status": "validating",
                "created_at": int(time.time()),
                "output_file_id": None,
                "error_file_id": None,
                "errors": None,
                "metadata": request.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "_number": number,
                "_polls": 0,
            }
            self.batches[batch["id"]] = batch
        return _public(batch)

    def _advance(self, batch: dict[str, Any]) -> dict[str, Any]:
        """One retrieval: in progress for ``polls`` looks (and while held), then run and end as planned."""
        if batch["status"] in ("validating", "in_progress"):
            batch["_polls"] += 1
            if batch["_polls"] <= self.polls or not self.hold.is_set():
                batch["status"] = "in_progress"
            else:
                self._finish(batch)
        return _public(batch)

    def _finish(self, batch: dict[str, Any]) -> None:
        outcome = self.outcome(batch["_number"])
        if outcome == "failed":
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_request", "message": "rejected"}]}
            return
        lines = [json.loads(line) for line in self.files[batch["input_file_id"]]["content"].decode().splitlines()]
        half = (len(lines) + 1) // 2
        answered, failed = (lines[:half], lines[half:]) if outcome in ("partial", "expired") else (lines, [])
        output = [self._answer(line) for line in answered]
        errors = [
            {
                "id": f"req-{line['custom_id'][:8]}",
                "custom_id": line["custom_id"],
                "response": {"status_code": 500, "request_id": "r", "body": {"error": {"message": "server error"}}},
                "error": None,
            }
            for line in failed
            if outcome == "partial"
        ]
        good = sum(1 for row in output if row["response"]["status_code"] == 200)
        batch["request_counts"] = {"total": len(lines), "completed": good, "failed": len(lines) - good}
        batch["status"] = "expired" if outcome == "expired" else "completed"
        if output:
            batch["output_file_id"] = self._store(_jsonl(output), "batch_output", "output.jsonl")["id"]
        if errors:
            batch["error_file_id"] = self._store(_jsonl(errors), "batch_output", "errors.jsonl")["id"]

    def _answer(self, line: dict[str, Any]) -> dict[str, Any]:
        reply = self.responder(line["body"])
        body = reply.body if reply.body is not None else chat_completion(line["body"], reply.content or "", reply.usage)
        response = {"status_code": reply.status, "request_id": f"req-{line['custom_id'][:8]}", "body": body}
        return {"id": response["request_id"], "custom_id": line["custom_id"], "response": response, "error": None}


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()
