"""Import and export pages (thin: parse, call a service or selector, render)."""
