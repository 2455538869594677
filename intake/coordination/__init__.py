"""Coordination (SPEC section 12): the dashboard, the figures, the aggregate export.

suppression.py     the one small-cell rule every figure leaving the service goes through
period.py          the period asked for (from/to dates) and who may ask for which country
figures.py         the figures, as SQL aggregates (GROUP BY), on SQLite and PostgreSQL
stats.py           the figures suppressed, as `GET /api/v1/stats` answers them
chart.py           the server-drawn SVG of cases a month
aggregate.py       the rows of the aggregate export (year, country, ... count)
aggregate_files.py the aggregate rows as CSV or XLSX
files.py           CSV and XLSX writers, streamed, formula-safe (every export)
case_export.py     the rows of the case export (clear metadata, SPEC 12 columns)
export_api.py      `GET /api/v1/exports/cases`
api.py, pages.py   `GET /api/v1/stats`, `GET /api/v1/exports/aggregate`, `/dashboard`
"""
