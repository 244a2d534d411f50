"""Copy front-end files installed by `npm ci` into static/vendor/ (no CDN at run time)."""

import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# node_modules path → static/vendor name
ASSETS = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
}


class Command(BaseCommand):
    help = "Copy front-end assets from node_modules/ into static/vendor/ (run `npm ci` first)."

    def handle(self, *args, **options) -> None:
        source_dir = settings.BASE_DIR / "node_modules"
        target_dir = settings.BASE_DIR / "static" / "vendor"
        target_dir.mkdir(parents=True, exist_ok=True)
        for source, name in ASSETS.items():
            path = source_dir / source
            if not path.exists():
                raise CommandError(f"{path} is missing: run `npm ci --no-audit --no-fund` first")
            shutil.copyfile(path, target_dir / name)
            self.stdout.write(f"{path.relative_to(settings.BASE_DIR)} → static/vendor/{name}")
