"""Exact sets of addresses and ports, and boxes of flows, for the reachability model.

A ``Ranges`` is a sorted tuple of disjoint inclusive integer intervals (IPv4 addresses
as 32-bit integers, or ports). A flow space is a list of boxes ``(sources, destinations,
ports)``; filters intersect and subtract boxes, so an ordered rule list (a network ACL)
is evaluated exactly over every address and port at once instead of sampling packets.
Standard library only: the policy pack's virtualenv has nothing else.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

Ranges = tuple[tuple[int, int], ...]
Box = tuple[Ranges, Ranges, Ranges]

MAX_ADDRESS = 2**32 - 1
MAX_PORT = 65535
EMPTY: Ranges = ()
ALL_ADDRESSES: Ranges = ((0, MAX_ADDRESS),)
ALL_PORTS: Ranges = ((0, MAX_PORT),)


def span(lo: int, hi: int) -> Ranges:
    return ((lo, hi),) if lo <= hi else EMPTY


def normalize(intervals: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[list[int]] = []
    for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def union(a: Ranges, b: Ranges) -> Ranges:
    if not a:
        return b
    if not b:
        return a
    return normalize(a + b)


def inter(a: Ranges, b: Ranges) -> Ranges:
    if a is b or a == b:
        return a
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def sub(a: Ranges, b: Ranges) -> Ranges:
    if not a or not b:
        return a
    out: list[tuple[int, int]] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def covers(a: Ranges, b: Ranges) -> bool:
    """``b`` is a subset of ``a``."""
    return not sub(b, a)


@functools.lru_cache(maxsize=4096)
def cidr(text: str) -> Ranges | None:
    """An IPv4 CIDR as ``Ranges``; None for IPv6 or text that is not a CIDR."""
    try:
        net = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None
    if net.version != 4:
        return None
    return ((int(net.network_address), int(net.broadcast_address)),)


def cidrs(texts: Iterable[str]) -> Ranges:
    out: Ranges = EMPTY
    for text in texts:
        out = union(out, cidr(text) or EMPTY)
    return out


def prefix_length(text: str) -> int:
    return ipaddress.ip_network(str(text).strip(), strict=False).prefixlen


def format_addresses(r: Ranges, limit: int = 4) -> str:
    if r == ALL_ADDRESSES:
        return "0.0.0.0/0"
    blocks: list[str] = []
    for lo, hi in r:
        blocks += [str(n) for n in ipaddress.summarize_address_range(ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi))]
    if len(blocks) > limit:
        return ", ".join(blocks[:limit]) + f" and {len(blocks) - limit} more blocks"
    return ", ".join(blocks) or "no address"


def format_ports(r: Ranges) -> str:
    if r == ALL_PORTS:
        return "all ports"
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in r) or "no port"


def parse_ports(text: str) -> Ranges:
    """``443``, ``80,443``, ``1024-65535``; raises ValueError with the reason."""
    out: Ranges = EMPTY
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty port in {text!r}")
        lo_text, _, hi_text = part.partition("-")
        try:
            lo, hi = int(lo_text), int(hi_text or lo_text)
        except ValueError:
            raise ValueError(f"{part!r} is not a port or a range of ports") from None
        if not 0 <= lo <= hi <= MAX_PORT:
            raise ValueError(f"{part!r} is not within 0-{MAX_PORT}")
        out = union(out, span(lo, hi))
    return out


# --------------------------------------------------------------------------- boxes


def box_inter(x: Box, y: Box) -> Box | None:
    s = inter(x[0], y[0])
    if not s:
        return None
    d = inter(x[1], y[1])
    if not d:
        return None
    p = inter(x[2], y[2])
    if not p:
        return None
    return (s, d, p)


def box_sub(x: Box, y: Box) -> list[Box]:
    """``x - y`` as at most three disjoint boxes."""
    s_in = inter(x[0], y[0])
    if not s_in:
        return [x]
    d_in = inter(x[1], y[1])
    if not d_in:
        return [x]
    p_in = inter(x[2], y[2])
    if not p_in:
        return [x]
    out: list[Box] = []
    s_out = sub(x[0], y[0])
    if s_out:
        out.append((s_out, x[1], x[2]))
    d_out = sub(x[1], y[1])
    if d_out:
        out.append((s_in, d_out, x[2]))
    p_out = sub(x[2], y[2])
    if p_out:
        out.append((s_in, d_in, p_out))
    return out


def space_inter(space: list[Box], filt: Box) -> list[Box]:
    return [b for b in (box_inter(x, filt) for x in space) if b is not None]


def space_sub(space: list[Box], filt: Box) -> list[Box]:
    return [piece for x in space for piece in box_sub(x, filt)]


def space_meet(space: list[Box], other: list[Box]) -> list[Box]:
    return [b for x in space for y in other if (b := box_inter(x, y)) is not None]


def ports_of(space: list[Box]) -> Ranges:
    out: Ranges = EMPTY
    for b in space:
        out = union(out, b[2])
    return out


def sources_of(space: list[Box]) -> Ranges:
    out: Ranges = EMPTY
    for b in space:
        out = union(out, b[0])
    return out


def destinations_of(space: list[Box]) -> Ranges:
    out: Ranges = EMPTY
    for b in space:
        out = union(out, b[1])
    return out
