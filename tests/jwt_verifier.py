"""An independent verifier of the access tokens, as another service would be: PyJWT, not the
library the functions sign with. It finds the keys the way such a service does, from the API's
discovery document and JWKS over HTTP, and checks every claim.

Input on stdin: {"issuer": API base URL, "tokens": [{"token", "aud", "sub", "sid", "client_id",
"exp"}], "forged": [token, ...]}. Output on stdout: {"verified": [claims...], "refused": n}.
Any failed check exits non-zero, naming it.
"""

import json
import sys
import time
import urllib.request

import jwt

CLAIMS = {"iss", "sub", "aud", "client_id", "sid", "iat", "exp", "jti"}


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, (url, response.status)
        assert response.headers["Content-Type"] == "application/json", url
        assert response.headers["Cache-Control"] == "public, max-age=300", url
        return json.load(response)


def check(condition, what):
    if not condition:
        sys.exit(f"verifier: {what}")


def main():
    given = json.load(sys.stdin)
    issuer = given["issuer"]
    discovery = fetch(issuer + "/.well-known/openid-configuration")
    check(discovery["issuer"] == issuer, f"discovery issuer {discovery['issuer']}")
    check(
        discovery["jwks_uri"] == issuer + "/.well-known/jwks.json",
        f"jwks_uri {discovery['jwks_uri']}",
    )
    check(discovery["id_token_signing_alg_values_supported"] == ["RS256"], "algorithms")
    jwks = jwt.PyJWKSet.from_dict(fetch(discovery["jwks_uri"]))
    keys = {key.key_id: key for key in jwks.keys}
    check(len(keys) >= 2, "a current and a next key are published")

    verified = []
    for expected in given["tokens"]:
        token = expected["token"]
        header = jwt.get_unverified_header(token)
        check(
            set(header) == {"alg", "typ", "kid"}
            and header["alg"] == "RS256"
            and header["typ"] == "at+jwt",
            f"header {header}",
        )
        check(header["kid"] in keys, f"kid {header['kid']} is published")
        claims = jwt.decode(
            token,
            keys[header["kid"]],
            algorithms=["RS256"],
            audience=expected["aud"],
            issuer=issuer,
            options={"require": sorted(CLAIMS), "strict_aud": True},
        )
        check(set(claims) == CLAIMS, f"exactly the claims, got {sorted(claims)}")
        for name in ("sub", "sid", "client_id", "exp"):
            check(claims[name] == expected[name], f"{name} {claims[name]}")
        check(claims["iat"] <= time.time() + 60, "iat is not in the future")
        check(len(claims["jti"]) >= 22, "jti carries at least 128 bits")
        verified.append(claims)

    refused = 0
    for token in given["forged"]:
        try:
            header = jwt.get_unverified_header(token)
            key = keys[header["kid"]]
            jwt.decode(token, key, algorithms=["RS256"], issuer=issuer,
                       options={"verify_aud": False})
        except (jwt.PyJWTError, KeyError):
            refused += 1
        else:
            sys.exit(f"verifier: a forged token verified: {token}")
    json.dump({"verified": verified, "refused": refused}, sys.stdout)


if __name__ == "__main__":
    main()
