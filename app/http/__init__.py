"""Request plumbing shared by every route: dependencies, body limits, OpenAPI shape, health."""
