"""What lies outside the project and the tests play, one module per outside service, each a
real server on 127.0.0.1 speaking the documented protocol and recording what it was sent.

All but one are served by `loopback`: `serve_http` for standard-library handlers,
`ServerThread` for ASGI apps. The S3-compatible object store (`object_store`) is moto's
server in a process of its own, in its own environment (see that module).
"""
