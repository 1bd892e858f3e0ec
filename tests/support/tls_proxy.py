"""A TLS front for the Docker engine's socket, for tests: like `dockerd --tlsverify`, it
accepts only clients with a certificate signed by the CA, and forwards their bytes to the
socket. (socat's TLS listener cannot take resumed sessions with client verification.)

Usage: tls_proxy.py PORT CERT KEY CA SOCKET
"""
import socket
import ssl
import sys
import threading

port, cert, key, ca, target = sys.argv[1:6]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.load_verify_locations(ca)
context.verify_mode = ssl.CERT_REQUIRED


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    try:
        tls = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError):
        client.close()
        return
    engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    engine.connect(target)
    threading.Thread(target=pipe, args=(engine, tls), daemon=True).start()
    pipe(tls, engine)


listener = socket.create_server(("127.0.0.1", int(port)))
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
