"""The local Tryton server (ERP and CRM databases) and its JSON-RPC client."""
