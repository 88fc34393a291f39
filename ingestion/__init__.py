"""Turns a business's PDFs, spreadsheets, web pages and FAQs into a per-tenant LanceDB index."""
