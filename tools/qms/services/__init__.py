"""Services: check, status, build, each a function over the model and the adapters."""
