"""The registry of organisations: fields, names, countries, duplicates, CSV import."""
