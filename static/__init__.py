"""Static CSS, JavaScript and images for the plan view (a package so that wheels ship them)."""
