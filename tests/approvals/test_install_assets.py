"""install_assets copies the npm-installed files into static/vendor/, and says what is missing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from approvals.management.commands.install_assets import ASSETS


def test_it_copies_every_asset_into_static_vendor(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    for source in ASSETS:
        path = tmp_path / "node_modules" / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* {source} */")
    built = tmp_path / "static" / "vendor" / "modeler" / "modeler.js"  # what `npm run build` writes
    built.parent.mkdir(parents=True)
    built.write_text("/* modeler */")
    call_command("install_assets", verbosity=0)
    viewer = tmp_path / "static" / "vendor" / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"
    assert viewer.read_text() == "/* bpmn-js/dist/bpmn-navigated-viewer.production.min.js */"
    assert (tmp_path / "static" / "vendor" / "bpmn-js" / "diagram-js.css").exists()
    assert (tmp_path / "static" / "vendor" / "htmx.min.js").exists()
    assert (tmp_path / "static" / "vendor" / "echarts" / "echarts.min.js").exists()


def test_it_names_the_missing_file_when_npm_ci_was_not_run(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match="htmx.min.js is missing"):
        call_command("install_assets", verbosity=0)


def test_it_names_the_modeler_bundle_when_npm_run_build_was_not_run(settings, tmp_path):
    settings.BASE_DIR = tmp_path
    for source in ASSETS:
        path = tmp_path / "node_modules" / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* {source} */")
    with pytest.raises(CommandError, match="modeler/modeler.js is missing: run `npm run build` first"):
        call_command("install_assets", verbosity=0)
