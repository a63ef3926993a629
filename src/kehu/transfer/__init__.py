"""Data in and out: spreadsheet import (mapping, dry run, error report, undo) and exports."""
