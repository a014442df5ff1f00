"""A real Milvus standalone server (PyPI `milvus` 2.3.5) reachable only on this machine's loopback.

    python bench/milvus_server.py start [--data DIR] [--port 19530]   # prints the store URL
    python bench/milvus_server.py stop [--data DIR]

Why a network namespace: milvus 2.3.5 listens on every interface (gRPC on 19530, 19529, 53100,
19531, 21121-21124, 13333, metrics on 9091) whatever `proxy.ip` and the other `*.ip` settings
say (they only set the address it advertises; checked with `ss -ltnp`). So the server runs in a
private network namespace (`unshare --net --map-root-user`: only `lo` exists there, nothing outside
can reach any of its ports), and a small forwarder process listens on 127.0.0.1:PORT of this
machine and pipes each connection into the namespace's 127.0.0.1:19530. Authorization is on
(user root, password Milvus: the server's defaults), so wrong credentials can be tested.

The tests (tests/test_milvus.py) start it through `start()` and stop it at the end; `stop()`
ends exactly the two process groups `start()` created (their ids are in DIR/qa-server.json).
"""
from __future__ import annotations

import argparse
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

USER, PASSWORD = "root", "Milvus"
INNER_PORT = 19530
STATE = "qa-server.json"
DEFAULT_DATA = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qa" / "milvus-server"


def isolation_available() -> str | None:
    """None when a private network namespace can be made here, else why not."""
    if not shutil.which("unshare") or not shutil.which("milvus-server"):
        return "needs `unshare` (util-linux) and `milvus-server` (pip install milvus==2.3.5)"
    r = subprocess.run(["unshare", "--net", "--map-root-user", "true"], capture_output=True, text=True)
    if r.returncode:
        return f"cannot create a network namespace: {r.stderr.strip()[:200]}"
    return None


def url(port: int, collection: str = "qa") -> str:
    return f"milvus://{USER}:{PASSWORD}@127.0.0.1:{port}/{collection}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data: Path = DEFAULT_DATA, port: int = 19530, timeout: float = 240.0) -> dict:
    """Start the server and the forwarder; wait until the server answers; return the state."""
    data = Path(data)
    data.mkdir(parents=True, exist_ok=True)
    why = isolation_available()
    if why:
        raise RuntimeError(why)
    log = open(data / "qa-server.log", "ab")
    me = [sys.executable, os.path.abspath(__file__)]
    server = subprocess.Popen(["unshare", "--net", "--map-root-user", "--", *me, "_inner", str(data)],
                              stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.5)  # unshare has exec'd by now: /proc/<pid>/ns/net is the private namespace
    fwd = subprocess.Popen([*me, "_forward", str(server.pid), str(port)], stdout=log, stderr=log,
                           stdin=subprocess.DEVNULL, start_new_session=True)
    state = {"server_pid": server.pid, "forward_pid": fwd.pid, "port": port, "url": url(port)}
    (data / STATE).write_text(json.dumps(state))
    t0 = time.monotonic()
    while True:
        if server.poll() is not None or fwd.poll() is not None:
            stop(data)
            raise RuntimeError(f"the Milvus server exited while starting; see {data / 'qa-server.log'}")
        if _ready(port):
            state["start_s"] = round(time.monotonic() - t0, 1)
            return state
        if time.monotonic() - t0 > timeout:
            stop(data)
            raise RuntimeError(f"the Milvus server was not ready after {timeout:.0f} s")
        time.sleep(1.0)


def _ready(port: int) -> bool:
    from pymilvus import MilvusClient
    try:
        c = MilvusClient(f"http://127.0.0.1:{port}", token=f"{USER}:{PASSWORD}", timeout=3)
        c.list_collections()
        c.close()
        return True
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False


def stop(data: Path = DEFAULT_DATA) -> bool:
    """Stop what start() started (by the recorded ids); False when nothing was recorded."""
    path = Path(data) / STATE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    pid, fwd = int(state["server_pid"]), int(state["forward_pid"])
    _signal_group(fwd, signal.SIGTERM)
    _signal_group(pid, signal.SIGINT)  # milvus-server's launcher stops its `milvus run` child on SIGINT
    for _ in range(300):
        if not _alive(pid):
            break
        time.sleep(0.1)
    for p in (pid, fwd):  # whatever is left of the two groups
        _signal_group(p, signal.SIGKILL)
    for p in (pid, fwd):
        _reap(p)
    path.unlink(missing_ok=True)
    return True


def _signal_group(pgid: int, sig) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


# -- inside the namespace ------------------------------------------------------------------------
def _inner(data: str) -> None:
    """Bring `lo` up in the fresh namespace, then become milvus-server."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ifr = fcntl.ioctl(s, 0x8913, struct.pack("16sh", b"lo", 0))  # SIOCGIFFLAGS
    flags = struct.unpack("16sh", ifr[:18])[1]
    fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
    s.close()
    exe = shutil.which("milvus-server")
    os.execv(exe, [exe, "--data", data, "--authorization-enabled", "true"])


def _forward(pid: str, port: str) -> None:
    """Listen on 127.0.0.1:port here, then join the server's namespace and pipe connections in."""
    lsock = socket.create_server(("127.0.0.1", int(port)))
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET; still one thread, so every later one joins too
        raise OSError(ctypes.get_errno(), "setns failed")
    os.close(fd)

    def watchdog():
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(1.0)
        os._exit(0)

    def pipe(a, b):
        try:
            while chunk := a.recv(65536):
                b.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    threading.Thread(target=watchdog, daemon=True).start()
    while True:
        client, _ = lsock.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", INNER_PORT), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pipe, args=(a, b), daemon=True).start()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_inner":
        _inner(sys.argv[2])
    if len(sys.argv) > 1 and sys.argv[1] == "_forward":
        _forward(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=("start", "stop"))
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"server data folder (default {DEFAULT_DATA})")
    ap.add_argument("--port", type=int, default=19530, help="port on 127.0.0.1 (default 19530)")
    args = ap.parse_args()
    if args.action == "stop":
        print("stopped" if stop(args.data) else f"nothing recorded in {args.data / STATE}")
        return 0
    try:
        state = start(args.data, args.port)
    except RuntimeError as e:
        print(f"milvus_server: {e}", file=sys.stderr)
        return 2
    print(f"ready in {state['start_s']} s: --store {state['url']} (stop: python bench/milvus_server.py stop)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
