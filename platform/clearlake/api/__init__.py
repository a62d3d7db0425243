"""The Data API: self-serve lake data over HTTP, exactly as much as a role may see.

Server: ``clearlake api serve`` (FastAPI + uvicorn, :func:`clearlake.api.app.create_app`),
reading only the lake and the report gallery, never production. Client:
:class:`Client` returns pandas or Arrow. See ``README.md`` in this folder.
"""

from clearlake.api.client import ApiClientError, Client

__all__ = ["ApiClientError", "Client"]
