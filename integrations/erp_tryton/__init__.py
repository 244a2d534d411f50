"""ERP operations (sales, production, shipments, invoices) on Tryton."""
