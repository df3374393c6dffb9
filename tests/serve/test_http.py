"""HTTP tests of `flywheel serve` against the real server and PostgreSQL:
health and metrics, security headers, sign-in links (single use, expiry,
hashed), cookie flags, sessions (idle and absolute expiry, rotation, sign
out, disabled accounts), the cross-origin and CSRF guards, body limits and
content types, rate limits, and that a reviewer cannot reach admin pages."""
import re

from fwserve import (Client, Env, check, eq, one, psql, run_main, sha256_hex)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def check_headers(r, what):
    for k, v in SECURITY_HEADERS.items():
        eq(r.header(k), v, f"{k} on {what}")


def main():
    env = Env("serve_http")
    bob, bob_tok = env.account("bob")
    alice, alice_tok = env.account("alice", role="admin")
    srv = env.serve("rate.signin_per_minute=1000")
    c = Client(srv)

    # health, readiness, metrics
    r = c.get("/healthz")
    eq((r.status, r.text), (200, "ok\n"), "/healthz")
    check_headers(r, "/healthz")
    r = c.get("/readyz")
    eq((r.status, r.text), (200, "ready\n"), "/readyz")
    eq(c.get("/nope").status, 404, "unknown path")
    eq(c.request("PUT", "/queues").status, 405, "PUT /queues")
    eq(c.get("/static/app.css").header("Content-Type"), "text/css; charset=utf-8", "css type")
    eq(c.get("/static/missing.js").status, 404, "missing static file")

    # signed out: pages redirect to the sign-in page, posts are refused
    for path in ["/", "/queues", "/admin/reviewers"]:
        r = c.get(path)
        eq((r.status, r.header("Location")), (303, "/signin"), f"GET {path} signed out")
        check_headers(r, f"redirect of {path}")
    eq(c.post("/signout", {"csrf": "x"}).status, 403, "POST /signout signed out")

    # the sign-in link page changes nothing; the token works once
    r = c.get(f"/signin?t={bob_tok}")
    eq(r.status, 200, "GET /signin?t=")
    check(f'value="{bob_tok}"' in r.text, "the sign-in page carries the token in its form")
    check_headers(r, "/signin")
    eq(one(env.dsn, "SELECT count(*) FROM flywheel.web_signin_tokens WHERE used_at IS NOT NULL"),
       "0", "a GET used no token")
    # only hashes are stored
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_signin_tokens "
                    f"WHERE token_hash = decode('{sha256_hex(bob_tok)}', 'hex')"), "1",
       "the token's SHA-256 is stored")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_signin_tokens "
                    f"WHERE position(convert_to('{bob_tok}', 'UTF8') IN token_hash) > 0"), "0",
       "the token itself is not stored")

    # cross-site sign-in posts are refused before the token is looked at
    r = c.post("/signin", {"token": bob_tok}, headers={"Sec-Fetch-Site": "cross-site"})
    eq(r.status, 403, "cross-site sign-in")
    r = c.post("/signin", {"token": bob_tok},
               headers={"Sec-Fetch-Site": None, "Origin": "https://evil.example"})
    eq(r.status, 403, "foreign Origin on sign-in")
    r = c.post("/signin", {"token": "A" * 43})
    eq(r.status, 403, "unknown token")
    r = c.post("/signin", {"token": "not a token"})
    eq(r.status, 403, "malformed token")
    eq(one(env.dsn, "SELECT count(*) FROM flywheel.web_audit WHERE action = 'signin_refused'"),
       "2", "refused sign-ins are audited")

    r = c.signin(bob_tok)
    cookie = r.header("Set-Cookie")
    check(re.fullmatch(r"fw_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=43200; HttpOnly; "
                       r"SameSite=Strict", cookie), f"cookie flags on loopback: {cookie}")
    sid = c.cookies["fw_session"]
    eq(one(env.dsn, f"SELECT account FROM flywheel.web_sessions "
                    f"WHERE session_hash = decode('{sha256_hex(sid)}', 'hex')"), bob,
       "the session's SHA-256 is stored")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_audit WHERE action = 'signin' "
                    f"AND account = '{bob}'"), "1", "sign-in audited")
    r = c.get("/queues")
    eq(r.status, 200, "GET /queues signed in")
    check_headers(r, "/queues")
    check(bob in r.text, "the page names the account")
    eq(Client(srv).post("/signin", {"token": bob_tok}).status, 403, "a used token is refused")

    # a second sign-in in the same browser rotates the session
    tok2 = env.link(bob)
    c.signin(tok2)
    check(c.cookies["fw_session"] != sid, "a new session id at sign-in")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_sessions "
                    f"WHERE session_hash = decode('{sha256_hex(sid)}', 'hex')"), "0",
       "the previous session of the browser is deleted")
    sid = c.cookies["fw_session"]

    # CSRF: posts need the session's token, from our own origin
    token = c.csrf()
    eq(c.post("/signout", {}).status, 403, "sign out without csrf")
    eq(c.post("/signout", {"csrf": "A" * 43}).status, 403, "sign out with a wrong csrf")
    eq(c.post("/signout", {"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}).status, 403,
       "cross-site sign out with the right csrf")
    eq(c.post("/signout", {"csrf": token}, headers={"Sec-Fetch-Site": "same-site"}).status, 403,
       "same-site sign out")
    eq(c.post("/signout", {"csrf": token},
              headers={"Sec-Fetch-Site": None, "Origin": "http://127.0.0.1:1"}).status, 403,
       "foreign Origin")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_sessions WHERE account = '{bob}'"), "1",
       "refused posts changed nothing")

    # body rules: urlencoded only, limits
    r = c.request("POST", "/signout", body=b"--x\r\n", headers={
        "Content-Type": "multipart/form-data; boundary=x"})
    eq(r.status, 415, "multipart")
    r = c.request("POST", "/signout", body=b"{}", headers={"Content-Type": "application/json"})
    eq(r.status, 415, "json")
    r = c.post("/signout", {"csrf": token, "note": "x" * 300000})
    eq(r.status, 413, "body over serve.max_body_bytes")
    r = c.post("/signout", {"csrf": token, "note": "x" * 140000})
    eq(r.status, 413, "field over serve.max_field_bytes")
    r = c.post("/signout", "csrf=" + token + "&note=%zz")
    eq(r.status, 400, "bad percent escape")
    m = c.get("/metrics").text
    check(re.search(r'flywheel_serve_refused_total\{reason="csrf"\} [1-9]', m), "csrf metric")
    check(re.search(r'flywheel_serve_refused_total\{reason="origin"\} [1-9]', m), "origin metric")
    check(re.search(r'flywheel_serve_refused_total\{reason="content_type"\} 2', m), "415 metric")
    check(re.search(r'flywheel_serve_requests_total\{route="queues",code="2xx"\} [1-9]', m),
          "requests by route")
    check('flywheel_serve_request_duration_seconds_bucket{route="queues",le="+Inf"}' in m,
          "latency histogram")

    # a reviewer cannot reach admin pages: the database refuses, the server says 403
    r = c.get("/admin/reviewers")
    eq(r.status, 403, "reviewer on /admin/reviewers")
    check(alice not in r.text, "no account list for a reviewer")
    a = Client(srv)
    a.signin(alice_tok)
    r = a.get("/admin/reviewers")
    eq(r.status, 200, "admin on /admin/reviewers")
    check(bob in r.text and alice in r.text, "the admin sees the accounts")

    # idle and absolute expiry, decided by the server from the session row
    psql(env.dsn, f"UPDATE flywheel.web_sessions SET last_seen = now() - interval '3 hours' "
                  f"WHERE account = '{bob}'")
    r = c.get("/queues")
    eq((r.status, r.header("Location")), (303, "/signin"), "idle session")
    check("Max-Age=0" in (r.header("Set-Cookie") or ""), "the stale cookie is cleared")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_sessions WHERE account = '{bob}'"), "0",
       "the idle session is deleted")
    c.signin(env.link(bob))
    psql(env.dsn, f"UPDATE flywheel.web_sessions SET created_at = now() - interval '13 hours' "
                  f"WHERE account = '{bob}'")
    eq(c.get("/queues").status, 303, "session past the absolute timeout")

    # expired links
    tok = env.link(bob)
    psql(env.dsn, f"UPDATE flywheel.web_signin_tokens SET expires_at = now() - interval '1 s' "
                  f"WHERE token_hash = decode('{sha256_hex(tok)}', 'hex')")
    eq(Client(srv).post("/signin", {"token": tok}).status, 403, "expired link")

    # signing out ends the session in the database
    c.signin(env.link(bob))
    sid = c.cookies["fw_session"]
    r = c.post("/signout", {"csrf": c.csrf()})
    eq((r.status, r.header("Location")), (303, "/signin"), "sign out")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_sessions "
                    f"WHERE session_hash = decode('{sha256_hex(sid)}', 'hex')"), "0",
       "sign out deletes the session")
    c.cookies["fw_session"] = sid
    eq(c.get("/queues").status, 303, "the old cookie is dead")

    # disabling an account ends its sessions and refuses its links
    c.signin(env.link(bob))
    spare = env.link(bob)
    import subprocess
    p = subprocess.run([env.fw, "reviewer", "disable", bob, "--dsn", env.dsn], capture_output=True,
                       text=True)
    eq(p.returncode, 0, f"reviewer disable: {p.stderr}")
    eq(c.get("/queues").status, 303, "disabled account's session")
    eq(Client(srv).post("/signin", {"token": spare}).status, 403, "disabled account's link")
    eq(one(env.dsn, f"SELECT pg_has_role('{env.web_role}', '{bob}', 'MEMBER')"), "f",
       "the server's login can no longer become the disabled account")

    # the login can switch only to accounts granted to flywheel_web (and the
    # groups they are in), never to anything else
    for role in ["postgres", "flywheel_ingest", "flywheel_web_nonexistent"]:
        check(psql(env.web_dsn, f'SET ROLE "{role}"', check_rc=False) is None,
              f"the server's login must not be able to SET ROLE {role}")
    # the login cannot become a role that was never granted to flywheel_web
    eq(one(env.web_dsn, "SELECT pg_has_role(current_user, 'flywheel_admin', 'USAGE')"), "f",
       "the server's login has no admin privileges of its own")

    # Secure cookies with the __Host- prefix, and the sign-in rate limit
    s2 = env.serve("session.cookie_secure=on", "rate.signin_per_minute=2")
    c2 = Client(s2)
    r = c2.post("/signin", {"token": env.link(alice)})
    eq(r.status, 303, "sign-in on the secure-cookie server")
    check(re.fullmatch(r"__Host-fw_session=[A-Za-z0-9_-]{43}; Path=/; Max-Age=43200; HttpOnly; "
                       r"SameSite=Strict; Secure", r.header("Set-Cookie")),
          f"secure cookie: {r.header('Set-Cookie')}")
    c2.post("/signin", {"token": "B" * 43})
    r = c2.post("/signin", {"token": "C" * 43})
    eq(r.status, 429, "third sign-in attempt within a minute")
    check(int(r.header("Retry-After")) >= 1, "Retry-After on 429")

    # single sign-on: the header counts only from an allow-listed peer
    s3 = env.serve("auth.trusted_header=X-Forwarded-User", "auth.trusted_peers=127.0.0.1")
    c3 = Client(s3)
    r = c3.get("/signin", headers={"X-Forwarded-User": alice})
    check(f"Continue as {alice}" in r.text, "the proxy-named account is offered")
    r = c3.post("/signin", {"sso": "1"}, headers={"X-Forwarded-User": alice})
    eq((r.status, r.header("Location")), (303, "/queues"), "sign-in through the proxy header")
    eq(c3.get("/queues").status, 200, "proxy session works")
    r = Client(s3).post("/signin", {"sso": "1"}, headers={"X-Forwarded-User": bob})
    eq(r.status, 403, "a disabled account through the proxy header")
    s4 = env.serve("auth.trusted_header=X-Forwarded-User", "auth.trusted_peers=10.9.9.9")
    c4 = Client(s4)
    r = c4.get("/signin", headers={"X-Forwarded-User": alice})
    check("Continue as" not in r.text, "the header from a peer not on the list is ignored")
    eq(c4.post("/signin", {"sso": "1"}, headers={"X-Forwarded-User": alice}).status, 403,
       "header sign-in from a peer not on the list")


run_main(main)
