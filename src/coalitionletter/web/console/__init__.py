"""The staff console under /staff: sign-in, campaigns, dashboards and the trail."""
