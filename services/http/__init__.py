"""The HTTP API: commands in, case timelines out, bearer tokens per user, office and role.

``services.http.app.open_api(rt)`` builds the FastAPI application on a runtime;
``services.http.serve.serving(app, host, port)`` runs it with uvicorn in the caller's loop.
The package itself imports nothing, so that ``doorstroom --help`` stays fast.
"""
