"""Exports of survey responses for analysts: no email, MAC or identifiers, constant memory."""

from cautiva.exports.service import ExportColumns, export_columns, export_rows, hxl_tag
from cautiva.exports.writers import write_csv, write_xlsx

__all__ = [
    "ExportColumns",
    "export_columns",
    "export_rows",
    "hxl_tag",
    "write_csv",
    "write_xlsx",
]
