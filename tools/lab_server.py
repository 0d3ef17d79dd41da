#!/usr/bin/env python3
"""Lab TCP server and client for tcpvitals' tests (loopback or test namespaces only).

server MODE ADDR PORT: accept connections forever.
  abort  read the request, then close with SO_LINGER {1,0}: the kernel sends a reset
  hold   keep every connection open until the peer closes it
client ADDR PORT SECONDS: connect, send a line, stay connected SECONDS, close.
"""
import socket
import struct
import sys
import threading
import time


def serve(mode, addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(64)
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
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def client(addr, port, seconds):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.connect((addr, port))
    s.sendall(b"hello\n")
    print(s.getsockname()[1], flush=True)
    time.sleep(seconds)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
