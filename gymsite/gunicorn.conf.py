"""gunicorn settings for production: `scripts/serve` runs
`gunicorn gymsite.wsgi -c gymsite/gunicorn.conf.py`.

Every value can be changed from the environment (and gunicorn itself still reads
GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--threads 4"). Logs are one JSON object a
line, like the application's: the access log on stdout, the error log on stderr.
"""

import json
import os

from gunicorn.glogging import Logger


def _cpu_count() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


# Sync workers, 2 x CPU + 1 (gunicorn's rule of thumb), capped so that a large host does
# not open more database connections than PostgreSQL's max_connections allows.
MAX_WORKERS = 12
workers = _int("WEB_CONCURRENCY", min(2 * _cpu_count() + 1, MAX_WORKERS))
threads = _int("GUNICORN_THREADS", 1)
bind = [os.environ.get("BIND") or f"0.0.0.0:{_int('PORT', 8000)}"]
# A request running longer than this is killed (the worker restarts); the
# longest pages (reports, exports) answer well within it.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy), requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Behind a load balancer that reuses connections, keep them a little open.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so that slow memory growth never builds up.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Heartbeat files on a memory file system: a container's disk may be slow or read-only.
# (A fixed system directory, not a temporary file name anyone could predict.)
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicorn's runtime control socket sits at one path per user, which two servers on a
# host would share; nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """Freeze what the worker loaded at start out of the garbage collector's sight.

    A full collection walks every tracked object, and most of a worker's are Django's
    and our modules, loaded once and never freed: bench/door_tail.py measured one
    full collection at 118 ms in the middle of a 5 ms door check-in, the whole of the
    door's slow tail. Frozen, later collections walk only what requests allocate.
    """
    import gc

    if os.environ.get("GUNICORN_GC_FREEZE", "true").lower() != "false":
        gc.collect()
        gc.freeze()


# GUNICORN_ACCESS_LOG="" turns the access log off (the benchmarks do).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


class JsonLogger(Logger):
    """gunicorn's logger writing JSON lines with the application's formatter."""

    def setup(self, cfg):
        super().setup(cfg)
        from gymsite.logging import JsonFormatter

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        fields = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or "",
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "referer": environ.get("HTTP_REFERER"),
            "pid": os.getpid(),
        }
        try:
            # The formatter keeps extra fields as keys; json.dumps escapes whatever a
            # client put in its headers, so a line is always one valid object.
            self.access_log.info("request", extra=fields)
        except Exception:
            self.exception("access log failed: %s", json.dumps(fields, default=str))


logger_class = JsonLogger
