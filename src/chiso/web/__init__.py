"""The web service (dịch vụ web): ``chiso serve`` — pages, API, accounts with unit scope (see docs/web.md)."""
