"""The catalog's web pages and their JSON twins, one module per area."""
