"""The service's interfaces: HTTP routes, live Socket.IO events, and the OpenAPI description."""
