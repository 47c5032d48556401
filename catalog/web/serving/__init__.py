"""Pages and HTTP APIs that run and teach models: prediction pages, OIP v2, learning API."""
