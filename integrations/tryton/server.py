"""Provision and run the local Tryton server that plays the ERP and the CRM.

Building the two databases takes about a minute, so it happens once per
machine into a template directory; every run (demo, test session) then copies
the template's SQLite files and starts ``trytond`` on them in a second or two.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import requests

DATABASES = ("erp", "crm")
ERP_MODULES = ("sale", "stock", "production", "account_invoice")
CRM_MODULES = ("party", "sale_opportunity")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin"
# Bump when the demo data changes so old templates are rebuilt.
TEMPLATE_VERSION = "2"
MARKER = "template-complete"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _bin(name: str) -> str:
    """Return the path of a console script installed next to this Python."""
    return str(Path(sys.executable).with_name(name))


def write_config(path: Path, data_dir: Path, port: int | None = None, host: str = "127.0.0.1") -> Path:
    """Write a trytond configuration serving SQLite files in `data_dir`; return its path."""
    lines = ["[database]", "uri = sqlite://", f"path = {data_dir}", ""]
    if port is not None:
        lines += ["[web]", f"listen = {host}:{port}", ""]
    # Tryton's own default session timeout is long enough; keep logs quiet.
    path.write_text("\n".join(lines))
    return path


def template_is_complete(template_dir: Path) -> bool:
    """Tell whether `template_dir` holds a fully built template of this version."""
    marker = Path(template_dir) / MARKER
    return marker.exists() and marker.read_text().strip() == TEMPLATE_VERSION


def build_template(template_dir: Path | str) -> Path:
    """Build the ERP and CRM databases into `template_dir` unless already complete.

    The build happens in a sibling temporary directory that is renamed into
    place at the end, so an interrupted build never leaves a usable-looking template.
    """
    template_dir = Path(template_dir)
    if template_is_complete(template_dir):
        return template_dir
    template_dir.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=".tryton-build-", dir=template_dir.parent))
    try:
        conf = write_config(build_dir / "trytond.conf", build_dir)
        passfile = build_dir / "passfile"
        passfile.write_text(ADMIN_PASSWORD)
        env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
        admins = []
        for db, modules in (("erp", ERP_MODULES), ("crm", CRM_MODULES)):
            (build_dir / f"{db}.sqlite").touch()
            cmd = [
                _bin("trytond-admin"),
                "-c",
                str(conf),
                "-d",
                db,
                "--all",
                "--email",
                ADMIN_EMAIL,
                "--activate-dependencies",
                "-u",
                *modules,
            ]
            # Both databases are independent files: initialise them in parallel.
            admins.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for proc in admins:
            _, err = proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"trytond-admin failed: {err[-2000:]}")
        for db in DATABASES:
            # proteus keeps trytond's pool in-process: a subprocess per database
            # keeps the caller (Django, pytest) free of trytond globals.
            subprocess.run(
                [sys.executable, "-m", "integrations.tryton.server", "provision", db, str(conf)],
                check=True,
                cwd=REPO_ROOT,
            )
        passfile.unlink()
        conf.unlink()
        (build_dir / MARKER).write_text(TEMPLATE_VERSION)
        if template_dir.exists():
            shutil.rmtree(template_dir)
        os.rename(build_dir, template_dir)
    finally:
        if build_dir.exists():
            shutil.rmtree(build_dir, ignore_errors=True)
    return template_dir


def prepare_run(home: Path | str, port: int, template_dir: Path | str, *, fresh: bool = True,
                host: str = "127.0.0.1") -> Path:
    """Copy the template databases into `home` and write its config; return the config path.

    With ``fresh=False`` existing databases in `home` are kept (a demo resumes its data).
    """
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    for db in DATABASES:
        target = home / f"{db}.sqlite"
        if fresh or not target.exists():
            shutil.copyfile(Path(template_dir) / f"{db}.sqlite", target)
    return write_config(home / "trytond.conf", home, port, host)


def start_server(home: Path | str, port: int, timeout: float = 60.0) -> subprocess.Popen:
    """Start trytond on the databases in `home` and return once a login succeeds."""
    conf = Path(home) / "trytond.conf"
    log = open(Path(home) / "trytond.log", "ab")
    proc = subprocess.Popen(
        [_bin("trytond"), "-c", str(conf), "-d", *DATABASES],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/{DATABASES[0]}/rpc/"
    body = {"method": "common.db.login", "params": ["admin", {"password": ADMIN_PASSWORD}, "en"], "id": 1}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"trytond exited with {proc.returncode}; see {Path(home) / 'trytond.log'}")
        try:
            if "result" in requests.post(url, json=body, timeout=2).json():
                return proc
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError(f"trytond did not answer on port {port} within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a server started by `start_server` (SIGTERM, then SIGKILL)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- Provisioning, run in a subprocess by build_template -------------------------


def _setup_accounting(config):
    """Company, chart, fiscal year with invoice sequences, payment term, account category."""
    from proteus import Model
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import create_payment_term, set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company

    Party = Model.get("party.party")
    create_company(party=Party(name="Lanebridge Demo Manufacturing", code="COMPANY"))
    create_chart()
    today = dt.date.today()
    # A wide fiscal year: the template is reused for months.
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(today=(today - dt.timedelta(days=60), today.replace(year=today.year + 3)))
    )
    fiscalyear.click("create_period")
    payment_term = create_payment_term()
    payment_term.save()
    accounts = get_accounts()
    category = Model.get("product.category")(name="Sales", accounting=True)
    category.account_revenue = accounts["revenue"]
    category.account_expense = accounts["expense"]
    category.save()
    return category


def _product(code, name, kind, price, cost, category, **extra):
    from proteus import Model

    (unit,) = Model.get("product.uom").find([("name", "=", "Unit")])
    template = Model.get("product.template")(
        name=name,
        code=code,
        type=kind,
        default_uom=unit,
        list_price=Decimal(price),
        salable=kind != "component",
        account_category=category,
    )
    if kind == "component":
        template.type = "goods"
    for key, value in extra.items():
        setattr(template, key, value)
    (product,) = template.products
    product.cost_price = Decimal(cost)
    template.save()
    (product,) = template.products
    return product


def _inventory(quantities):
    from proteus import Model

    (storage,) = Model.get("stock.location").find([("code", "=", "STO")])
    inventory = Model.get("stock.inventory")(location=storage)
    for product, quantity in quantities:
        inventory.lines.append(Model.get("stock.inventory.line")(product=product, quantity=quantity))
    inventory.click("confirm")


def _provision_erp():
    from proteus import Model

    category = _setup_accounting(None)
    _countries()
    widget = _product("WIDGET", "Widget", "goods", "1200.00", "600.00", category, producible=True)
    gadget = _product("GADGET", "Gadget", "goods", "350.00", "150.00", category)
    _product("SERVICE-INSTALL", "Installation service", "service", "250.00", "100.00", category)
    frame = _product("FRAME", "Widget frame", "component", "0", "200.00", category)
    bolt = _product("BOLT", "Bolt", "component", "0", "1.00", category)

    bom = Model.get("production.bom")(name="Widget")
    bom.inputs.append(Model.get("production.bom.input")(product=frame, quantity=1))
    bom.inputs.append(Model.get("production.bom.input")(product=bolt, quantity=8))
    bom.outputs.append(Model.get("production.bom.output")(product=widget, quantity=1))
    bom.save()
    widget.boms.append(Model.get("product.product-production.bom")(bom=bom))
    widget.save()
    # Components for productions, finished goods so shipments can be done
    # before (or without) a production.
    _inventory([(frame, 500), (bolt, 5000), (widget, 50), (gadget, 200)])
    _prefix_sequences({"Sale": "SO-", "Production": "MO-", "Customer Shipment": "SH-"})


def _prefix_sequences(prefixes):
    from proteus import Model

    # Numbers like SO-1 are what people paste into Lanebridge's search box.
    for sequence in Model.get("ir.sequence").find([("name", "in", list(prefixes))]):
        sequence.prefix = prefixes[sequence.name]
        sequence.save()


CRM_CUSTOMERS = [
    ("C-000123", "Acme Robotics", "+33 1 42 68 53 00", "12 rue de la Paix", "Paris", "75002", "FR"),
    ("C-000124", "Globex Corporation", "+44 20 7946 0958", "221B Baker Street", "London", "NW1 6XE", "GB"),
    ("C-000125", "Initech", "+1 512 555 0143", "4120 Freidrich Lane", "Austin", "78744", "US"),
]

COUNTRY_NAMES = {"FR": "France", "GB": "United Kingdom", "US": "United States", "DE": "Germany"}


def _countries():
    from proteus import Model

    # No country list is loaded (importing one needs the network): add the demo's.
    Country = Model.get("country.country")
    records = {code: Country(code=code, name=name) for code, name in COUNTRY_NAMES.items()}
    Country.save(list(records.values()))
    return records


def _provision_crm():
    from proteus import Model

    category = _setup_accounting(None)
    widget = _product("WIDGET", "Widget", "goods", "1200.00", "600.00", category)
    gadget = _product("GADGET", "Gadget", "goods", "350.00", "150.00", category)
    service = _product("SERVICE-INSTALL", "Installation service", "service", "250.00", "100.00", category)
    Party = Model.get("party.party")
    countries = _countries()
    seller = Party(name="Sam Seller", code="EMP-1")
    seller.save()
    employee = Model.get("company.employee")(party=seller)
    employee.save()
    customers = []
    for code, name, phone, street, city, zip_, country in CRM_CUSTOMERS:
        party = Party(name=name, code=code)
        (address,) = party.addresses
        address.street, address.city, address.postal_code, address.country = street, city, zip_, countries[country]
        party.contact_mechanisms.append(Model.get("party.contact_mechanism")(type="phone", value=phone))
        party.save()
        customers.append(party)
    payment_term = Model.get("account.invoice.payment_term").find([], limit=1)[0]
    for party, lines, description in (
        (customers[0], [(widget, 2), (service, 1)], "Two widgets installed"),
        (customers[1], [(gadget, 10)], "Gadgets for the London office"),
        (customers[2], [(widget, 1)], "One widget"),
    ):
        opportunity = Model.get("sale.opportunity")(
            description=description, party=party, payment_term=payment_term, employee=employee
        )
        (opportunity.address,) = party.addresses
        for product, quantity in lines:
            opportunity.lines.append(Model.get("sale.opportunity.line")(product=product, quantity=quantity))
        opportunity.save()
        opportunity.click("opportunity")
    _prefix_sequences({"Sale Opportunity": "OPP-", "Sale": "CRM-SO-"})


def _provision(db: str, conf: str) -> None:
    from proteus import config as proteus_config

    proteus_config.set_trytond(db, config_file=conf)
    {"erp": _provision_erp, "crm": _provision_crm}[db]()


if __name__ == "__main__":
    if sys.argv[1:2] == ["provision"]:
        _provision(sys.argv[2], sys.argv[3])
    else:
        print(build_template(Path(sys.argv[1])))
