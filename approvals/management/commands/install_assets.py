"""Copy front-end files installed by `npm ci` into static/vendor/ (no CDN at run time)."""

import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# node_modules path → path under static/vendor/
ASSETS = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    # The prebuilt viewer bundle (zoom and pan, no editing) and the styles it needs.
    "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-js/bpmn-navigated-viewer.production.min.js",
    "bpmn-js/dist/assets/diagram-js.css": "bpmn-js/diagram-js.css",
    "bpmn-js/dist/assets/bpmn-js.css": "bpmn-js/bpmn-js.css",
    # The monitor's charts.
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
    # The modeler (its script is bundled by `npm run build`): palette icons and the properties panel.
    "bpmn-js/dist/assets/bpmn-font/css/bpmn.css": "bpmn-js/bpmn-font/css/bpmn.css",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2": "bpmn-js/bpmn-font/font/bpmn.woff2",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.woff": "bpmn-js/bpmn-font/font/bpmn.woff",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.ttf": "bpmn-js/bpmn-font/font/bpmn.ttf",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.eot": "bpmn-js/bpmn-font/font/bpmn.eot",
    "bpmn-js/dist/assets/bpmn-font/font/bpmn.svg": "bpmn-js/bpmn-font/font/bpmn.svg",
    "@bpmn-io/properties-panel/dist/assets/properties-panel.css": "modeler/properties-panel.css",
}
# Built, not copied: install_assets checks it is there, so a missing `npm run build` is said at once.
BUILT = ["modeler/modeler.js"]


class Command(BaseCommand):
    help = "Copy front-end assets from node_modules/ into static/vendor/ (run `npm ci` first)."

    def handle(self, *args, **options) -> None:
        source_dir = settings.BASE_DIR / "node_modules"
        target_dir = settings.BASE_DIR / "static" / "vendor"
        for source, name in ASSETS.items():
            path = source_dir / source
            if not path.exists():
                raise CommandError(f"{path} is missing: run `npm ci --no-audit --no-fund` first")
            target = target_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            self.stdout.write(f"{path.relative_to(settings.BASE_DIR)} → static/vendor/{name}")
        for name in BUILT:
            if not (target_dir / name).exists():
                raise CommandError(f"static/vendor/{name} is missing: run `npm run build` first")
