"""The Docker Engine REST API on pyengined (docs/ENGINE.md "The Docker Engine API").

An aiohttp application over the same domain objects as the gRPC edge (`pyengine.engine.Engine`):
one module per resource registers its routes (`register(routes, api)`), JSON shapes are
docker's, errors become docker's status codes and `{"message": ...}` bodies here only.
"""
