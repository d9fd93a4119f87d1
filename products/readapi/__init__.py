"""The read API as an ASGI service of its own: FastAPI over psycopg's async pool, serving every GET.

It runs the read side's statements (``products.read.queries.STATEMENTS``), the very SQL the
Django API runs, and answers as the Django API does: status codes, bodies, error bodies, ETags
and page links. It never imports the write side or Django's HTTP layer.
"""
