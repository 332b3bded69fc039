"""The Bot API's own type declarations, checked by the TypeScript compiler, as a test oracle.

``@grammyjs/types`` (npm) declares every Bot API method with its parameters and their types,
kept in step with Telegram's API by the grammY project (and back-ported to ``typegram``).
:func:`type_check` writes each payload the adapter sent as a typed constant,
``const p0: Args<"sendMessage"> = {...}``, and runs ``tsc --noEmit`` on the file: an unknown
method, an unknown parameter (TypeScript's excess-property check) or a value of the wrong
type is a compiler error, reported against the test that sent it.

The npm tree (``@grammyjs/types``, and ``typescript`` 7, the native compiler: about a second
a run; pinned in the plugin's ``tests/node/package-lock.json``) is installed by
``scripts/install`` through :mod:`govsocial.testing.npm`; nothing here needs the network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SentCall", "payload_of", "type_check"]

_HEADER = """\
import type { ApiMethods } from "@grammyjs/types";
/** a multipart file part, as the adapter uploads it */
interface Upload { readonly upload: string }
type Api = ApiMethods<Upload>;
type Args<M extends keyof Api> = Parameters<Api[M]>[0];
"""
_ERROR = re.compile(r"calls\.ts\((\d+),\d+\): error (TS\d+: .*)$")


@dataclass(frozen=True)
class SentCall:
    """One Bot API call the adapter sent: who sent it, the method, the decoded payload."""

    sender: str
    method: str
    payload: dict[str, Any]


def payload_of(fields: dict[str, str], json_body: Any) -> dict[str, Any]:
    """The call's parameters as the Bot API reads them: a JSON body as it is; multipart or
    form fields with their JSON-serialized objects decoded, files as ``{"upload": name}``,
    and files that a parameter refers to (``"media": "attach://photo0"``) left out, as they
    are parts of the upload rather than parameters."""
    if isinstance(json_body, dict):
        return json_body
    attached = set(re.findall(r"attach://([\w-]+)", " ".join(fields.values())))
    payload: dict[str, Any] = {}
    for name, value in fields.items():
        if name in attached and value.startswith("<file "):
            continue
        if value.startswith("<file "):
            payload[name] = {"upload": value[6:-1]}
        elif value[:1] in "{[":
            try:
                payload[name] = json.loads(value)
            except ValueError:
                payload[name] = value
        else:
            payload[name] = value
    return payload


def type_check(calls: list[SentCall], node_modules: Path) -> list[str]:
    """The compiler's complaints about ``calls``, each naming the sender; [] when all fit."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH")
    lines = _HEADER.splitlines()
    owner: dict[int, SentCall] = {}
    for index, call in enumerate(calls):
        lines.append(f"// {call.sender}")
        owner[len(lines) + 1] = call
        if call.payload:
            literal = json.dumps(call.payload, ensure_ascii=False)
            lines.append(f"export const p{index}: Args<{json.dumps(call.method)}> = {literal};")
        else:
            lines.append(f"export const p{index}: keyof Api = {json.dumps(call.method)};")
    with tempfile.TemporaryDirectory(prefix="govsocial-tg-types-") as folder:
        root = Path(folder)
        (root / "node_modules").symlink_to(node_modules)
        (root / "calls.ts").write_text("\n".join(lines) + "\n", "utf-8")
        config = {
            "compilerOptions": {
                "strict": True,
                "noEmit": True,
                "skipLibCheck": True,
                "types": [],
                "target": "es2022",
                "module": "es2022",
                "moduleResolution": "bundler",
            },
            "files": ["calls.ts"],
        }
        (root / "tsconfig.json").write_text(json.dumps(config))
        done = subprocess.run(  # noqa: S603 - node and the pinned compiler's own script
            [node, str(node_modules / "typescript" / "bin" / "tsc"), "-p", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    problems: list[str] = []
    for line in done.stdout.splitlines():
        match = _ERROR.search(line)
        if match is None:
            continue
        sent = owner.get(int(match[1]))
        who = f"{sent.sender}: {sent.method}" if sent else "?"
        problems.append(f"{who}: {match[2]}")
    if done.returncode != 0 and not problems:
        problems.append(f"tsc failed: {(done.stdout + done.stderr).strip()[-2000:]}")
    return problems
