"""Reports for coordinators: counts, the count sheet and exports."""
