"""Free UDP ports on the loopback interface."""

from __future__ import annotations

import socket


def free_udp_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return `count` distinct UDP ports that were free a moment ago."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((host, 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()
