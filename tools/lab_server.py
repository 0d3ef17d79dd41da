#!/usr/bin/env python3
"""Lab TCP server and client for tcpvitals' tests (loopback or test namespaces only).

server MODE ADDR PORT: accept connections forever.
prefork ADDR PORT N LOG: a parent listens and forks N workers that accept; each worker
  appends "PID PEERPORT" to LOG for every connection it accepts, then closes it.
  abort  read the request, then close with SO_LINGER {1,0}: the kernel sends a reset
  midabort  read 64 kB of an upload, then close with the rest unread: the kernel resets
  hold   keep every connection open until the peer closes it
  trickle  send 1000 bytes every 50 ms for 3 s, then close
  stream   answer with an HTTP header for 200 kB, then send 2000 bytes every 10 ms
           (1 s in all), then close: a client that gives up early gets data after its close
  bulk   send 4 MB, then wait for the client to close first
  readclose  read up to 4096 bytes of a request, then close while the client may still send
client ADDR PORT SECONDS: connect, send a line, stay connected SECONDS, close.
tlsupload CERT KEY ADDR PORT: a TLS 1.2 server that reads 64 kB of an upload, sends its
  close_notify alert (encrypted) and closes with the rest unread: the kernel resets.
slowread ADDR PORT SECONDS RCVBUF: connect with a receive buffer of RCVBUF bytes, send a
  line, read nothing for SECONDS, then read everything until the server closes, and close.
send ADDR PORT BYTES SECONDS: connect, send BYTES, stay connected and idle SECONDS, close.
ready SOCKET: bind a datagram socket at SOCKET (as systemd's NOTIFY_SOCKET) and print each
  message that arrives, one per line, flushed, until one holds STOPPING=1.
early ADDR PORT close|shutdown: send a request, read what has arrived, then close the
  socket (close) or shut down both directions and close 0.3 s later (shutdown), while the
  server is still sending.
"""
import socket
import struct
import sys
import threading
import time


def ready(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    while True:
        msg = sock.recv(4096).decode(errors="replace")
        print(msg.replace("\n", " "), flush=True)
        if "STOPPING=1" in msg:
            return


def listener(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(64)
    return srv


def serve(mode, addr, port):
    srv = listener(addr, port)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(mode, conn), daemon=True).start()


def handle(mode, conn):
    try:
        conn.recv(4096)
        if mode == "abort":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
            return
        if mode == "midabort":
            got = 0
            while got < 65536:
                data = conn.recv(65536)
                if not data:
                    break
                got += len(data)
            conn.close()
            return
        if mode == "bulk":
            conn.sendall(b"z" * 4000000)
            while conn.recv(65536):
                pass
            conn.close()
            return
        if mode == "readclose":
            conn.close()
            return
        if mode == "stream":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n")
            for _ in range(100):
                conn.sendall(b"y" * 2000)
                time.sleep(0.01)
            conn.close()
            return
        if mode == "trickle":
            for _ in range(60):
                conn.sendall(b"x" * 1000)
                time.sleep(0.05)
            conn.close()
            return
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def client(addr, port, seconds):
    """Stays SECONDS, reading whatever the server sends."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((addr, port))
    s.sendall(b"hello\n")
    print(s.getsockname()[1], flush=True)
    s.settimeout(0.1)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if not s.recv(65536):
                break
        except socket.timeout:
            pass
    s.close()


def prefork(addr, port, workers, logpath):
    import os
    srv = listener(addr, port)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            while True:
                conn, peer = srv.accept()
                with open(logpath, "a") as log:
                    log.write("%d %d\n" % (os.getpid(), peer[1]))
                conn.close()
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)


def tlsupload(cert, key, addr, port):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    srv = listener(addr, port)
    while True:
        raw, _ = srv.accept()
        conn = raw
        try:
            conn = ctx.wrap_socket(raw, server_side=True)  # takes over raw's descriptor
            got = 0
            while got < 65536:
                data = conn.recv(16384)
                if not data:
                    break
                got += len(data)
            conn.setblocking(False)
            try:
                conn.unwrap()  # sends close_notify, and does not wait for the peer's
            except (OSError, ssl.SSLError):
                pass
        except (OSError, ssl.SSLError):
            pass
        conn.close()


def slowread(addr, port, seconds, rcvbuf):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((addr, port))
    s.sendall(b"hello\n")
    time.sleep(seconds)
    got = 0
    while got < 4000000:
        data = s.recv(65536)
        if not data:
            break
        got += len(data)
    s.close()
    print(got)


def send(addr, port, nbytes, seconds):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((addr, port))
    s.sendall(b"z" * nbytes)
    print(s.getsockname()[1], flush=True)
    time.sleep(seconds)
    s.close()


def early(addr, port, how):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((addr, port))
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    s.recv(100)
    s.setblocking(False)
    try:  # read what has arrived: an empty receive queue makes close() send a FIN, not a reset
        while s.recv(65536):
            pass
    except BlockingIOError:
        pass
    if how == "shutdown":
        s.shutdown(socket.SHUT_RDWR)
        time.sleep(0.3)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "ready":
        ready(sys.argv[2])
    elif sys.argv[1] == "server":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "prefork":
        prefork(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    elif sys.argv[1] == "early":
        early(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "tlsupload":
        tlsupload(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "slowread":
        slowread(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
