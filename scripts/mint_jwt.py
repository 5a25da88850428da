#!/usr/bin/env python3
"""Mint an HS256 JWT the way the Nectr web app's backend does (stdlib only).

    python3 scripts/mint_jwt.py SUB [--key KEY] [--exp UNIX_SECONDS]

The default key is the documented local test key the fixtures in events/ are
signed with; it protects nothing and must never be used outside tests.
"""
import argparse
import base64
import hashlib
import hmac
import json
import time

LOCAL_TEST_KEY = "nectr-local-test-signing-key-not-a-secret"
YEAR_2100 = 4102444800


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(sub: str, key: str = LOCAL_TEST_KEY, exp: int = YEAR_2100, iat: int | None = None) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"sub": sub, "iat": int(time.time()) if iat is None else iat, "exp": exp}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sub")
    parser.add_argument("--key", default=LOCAL_TEST_KEY)
    parser.add_argument("--exp", type=int, default=YEAR_2100)
    args = parser.parse_args()
    print(mint(args.sub, args.key, args.exp))
