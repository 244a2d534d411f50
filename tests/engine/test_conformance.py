"""Files drawn in other modelers (the MIWG reference set) deploy or are refused with a message, never crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.deploy import DeployError, deploy


def reference_folder() -> Path:
    here = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "miwg-reference"
    return here if here.is_dir() else Path("/work/shared/conformance/miwg-reference")


FOLDER = reference_folder()
FILES = sorted(FOLDER.glob("*.bpmn")) if FOLDER.is_dir() else []


@pytest.mark.skipif(not FILES, reason=f"MIWG reference files not found in {FOLDER}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_reference_file_deploys_or_is_refused_with_a_message(db, path):
    try:
        deployment = deploy(path.read_bytes(), path.name)
    except DeployError as error:
        assert error.message.strip()
    else:
        assert deployment.definitions
