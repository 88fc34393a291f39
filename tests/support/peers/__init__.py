"""What lies outside the project and the tests play, one module per outside service, each a
real server on 127.0.0.1 speaking the documented protocol and recording what it was sent.

All are served by `loopback`: `serve_http` for standard-library handlers, `ServerThread`
for ASGI apps.
"""
