"""A pass-through for the container engine's Docker API that keeps every
Lambda container's whole log, for `make sam-local`'s log checks.

SAM CLI streams a container's output while it runs, waits at most 1 s after
the response for the runtime's REPORT line, then deletes the container.
Whatever the engine had not streamed by then is lost: podman documents
that a log followed while its container is removed may lose its end, and a
run here lost one invocation's every line after START that way. So before
passing on a container's DELETE, this asks the engine for the container's
log (not a stream: what the engine wrote to its log file), until it holds
a REPORT line for every START line or a few seconds have passed, and
appends it to LOG_FILE. Every other byte passes through unchanged, in both
directions, the attach streams' upgrades included.

usage: log_keeper.py LISTEN_SOCKET ENGINE_SOCKET LOG_FILE (with .venv's Python,
which has the Docker SDK that SAM CLI uses)
"""
import re
import socket
import socketserver
import sys
import threading
import time

import docker

listen_socket, engine_socket, log_file = sys.argv[1:4]
# The Docker SDK sends one request at a time per connection (no
# pipelining), so a DELETE starts a read of its own.
DELETE = re.compile(rb"DELETE (/v[0-9.]+)?/containers/([0-9A-Za-z_.-]+)(\?| )")
# Long enough for an engine under load to write the runtime's last line.
COMPLETE_WITHIN_SECONDS = 5
log_lock = threading.Lock()


def container_log(container):
    """What the engine wrote to the container's log file, both streams, as
    SAM CLI's own Docker SDK reads it."""
    engine = docker.DockerClient(base_url=f"unix://{engine_socket}", timeout=30)
    try:
        return engine.containers.get(container).logs(stdout=True, stderr=True)
    except docker.errors.NotFound:
        return b""
    finally:
        engine.close()


def keep_log(container):
    deadline = time.monotonic() + COMPLETE_WITHIN_SECONDS
    while True:
        log = container_log(container)
        complete = log.count(b"REPORT RequestId:") >= log.count(b"START RequestId:")
        if complete or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    with log_lock, open(log_file, "ab") as kept:
        kept.write(log)


def pipe(source, sink, watch):
    try:
        while data := source.recv(65536):
            if watch and (deleted := DELETE.match(data)):
                keep_log(deleted.group(2).decode())
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class PassThrough(socketserver.BaseRequestHandler):
    def handle(self):
        engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        engine.connect(engine_socket)
        answers = threading.Thread(target=pipe, args=(engine, self.request, False), daemon=True)
        answers.start()
        pipe(self.request, engine, True)
        answers.join()
        engine.close()


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


Server(listen_socket, PassThrough).serve_forever()
