"""Gunicorn settings shared by all three servers, so only the application differs."""

workers = 2
worker_class = "sync"
threads = 1
keepalive = 5
timeout = 60
# Never recycle: the peak RSS read from /proc must be that of the workers that served the run.
max_requests = 0
accesslog = None
errorlog = "-"
loglevel = "warning"
control_socket_disable = True
