"""A frontend builds from the OpenAPI spec alone.

openapi-typescript turns the spec that the app serves into TypeScript types, and
`tsc --noEmit` checks tests/typescript/usage.ts against them: a web frontend's journeys
(sign in with the session cookie and CSRF token, post and publish a task, list open
tasks, accept terms and bid) written with openapi-fetch. A path, parameter, body field
or answer field that the spec drops or retypes fails this test, as it would fail the
frontend's build.

It needs Node.js and the pinned packages of tests/typescript (`npm ci` there); without
them it skips, and .ci/run installs both and fails on that skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient

PROJECT = Path(__file__).parent / "typescript"
BIN = PROJECT / "node_modules" / ".bin"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (BIN / "tsc").exists(),
    reason="needs Node.js and `npm ci --prefix tests/typescript` (.ci/run does both)",
)


def run(*command: str | Path, cwd: Path) -> None:
    """Run a tool of the TypeScript project; its output is the failure message."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{Path(command[0]).name} failed:\n{done.stdout}{done.stderr}"


def test_the_frontend_journeys_type_check_against_the_generated_client(
    client: FlaskClient, tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(client.get("/api/v1/openapi.json").get_data(as_text=True))
    types = tmp_path / "openapi.d.ts"
    # A field with a default is optional in a request body: the server fills it in.
    run(BIN / "openapi-typescript", spec, "--default-non-nullable=false", "-o", types, cwd=tmp_path)
    # The project's settings and usage.ts, with "marketplace-api" resolved to the new types.
    config = tmp_path / "tsconfig.json"
    config.write_text(
        json.dumps(
            {
                "extends": str(PROJECT / "tsconfig.json"),
                "compilerOptions": {"paths": {"marketplace-api": [str(types)]}},
            }
        )
    )
    run(BIN / "tsc", "--project", config, cwd=tmp_path)
