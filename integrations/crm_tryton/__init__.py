"""CRM operations (opportunities, follow-ups) on Tryton's sale_opportunity."""
