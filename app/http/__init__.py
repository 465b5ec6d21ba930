"""HTTP layers in front of the FastAPI application."""
