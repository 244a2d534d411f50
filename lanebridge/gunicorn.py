"""gunicorn's settings for the web processes, from the environment: `gunicorn -c python:lanebridge.gunicorn`.

`manage.py serve`, the container image and the systemd unit all start the web app with this file.
"""

import os

_cores = os.cpu_count() or 1

bind = os.environ.get("LANEBRIDGE_WEB_BIND", "127.0.0.1:8000").split(",")
# Processes for the CPU (the engine runs Python under the GIL), threads for requests that wait on the database.
workers = int(os.environ.get("LANEBRIDGE_WEB_WORKERS", 2 * _cores))
threads = int(os.environ.get("LANEBRIDGE_WEB_THREADS", 4))
worker_class = "gthread"
# Above the script time limit and a connector call's own timeout, so only a truly stuck worker is replaced.
timeout = int(os.environ.get("LANEBRIDGE_WEB_TIMEOUT", 120))
graceful_timeout = 20
keepalive = 5
backlog = 2048
# Behind a TLS proxy on another machine, list its address so X-Forwarded-Proto is believed.
forwarded_allow_ips = os.environ.get("LANEBRIDGE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("LANEBRIDGE_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LANEBRIDGE_WEB_LOG_LEVEL", "info")
proc_name = "lanebridge-web"
# gunicorn 25+ opens a control socket at one path per user; several servers on a machine would fight over it.
control_socket_disable = True
wsgi_app = "lanebridge.wsgi:application"
