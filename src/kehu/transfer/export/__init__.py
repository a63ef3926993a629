"""Exports of what a viewer's list shows, to xlsx and csv (issue 9, part 2)."""
