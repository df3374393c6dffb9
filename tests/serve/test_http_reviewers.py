"""HTTP tests of the admin's reviewers page (/admin/reviewers): add an
account (its one-time sign-in link shown once), a new link, change of role,
disable and enable, all through the flywheel.web_account_* functions as the
signed-in admin. Checked in PostgreSQL: the account, its role and
memberships, the token stored hashed, sessions ended, an audit row per
change. Refusals: a reviewer and an adjudicator get 403 and change nothing;
a post without or with a wrong CSRF token, or from another site, is 403; a
duplicate name, a bad name, an unknown account and the last admin disabling
or demoting itself are 422 with the database's message."""
import re

from fwserve import Client, Env, check, eq, one, run_main, sha256_hex

PAGE = "/admin/reviewers"


def link_of(r, origin):
    m = re.search(r'id="newlink" readonly value="' + re.escape(origin) +
                  r'/signin\?t=([A-Za-z0-9_-]{43})"', r.text)
    check(m, f"no sign-in link on the page: {r.text[:2000]}")
    return m.group(1)


def message(r):
    m = re.search(r'<p class="msg err" role="alert">(.*?)</p>', r.text, re.S)
    check(m, f"no error message on the page ({r.status}): {r.text[:1500]}")
    return m.group(1)


def main():
    env = Env("serve_http_rev")
    admin, admin_tok = env.account("admin", role="admin")
    bob, bob_tok = env.account("bob")
    adj, adj_tok = env.account("adj", role="adjudicator")
    srv = env.serve("rate.signin_per_minute=1000", "rate.posts_per_minute=1000")
    new = f"fwt{env.pid}_new.person"
    env.roles.append(new)

    def accounts():
        return one(env.dsn, "SELECT string_agg(name || ':' || kind || ':' || "
                            "(disabled_at IS NULL)::text, ',' ORDER BY name) "
                            "FROM flywheel.web_accounts")

    def audits(what):
        return int(one(env.dsn, f"SELECT count(*) FROM flywheel.web_audit WHERE action = 'admin' "
                                f"AND detail->>'action' = 'reviewer_{what}' "
                                f"AND account = '{admin}'"))

    before = accounts()
    tokens = one(env.dsn, "SELECT count(*) FROM flywheel.web_signin_tokens")

    # reviewers and adjudicators: the database refuses (42501), nothing changes
    for who, tok in [(bob, bob_tok), (adj, adj_tok)]:
        c = Client(srv)
        c.signin(tok)
        eq(c.get(PAGE).status, 403, f"GET {PAGE} as {who}")
        csrf = c.csrf("/queues")
        for form in [{"action": "add", "name": new, "kind": "admin"},
                     {"action": "role", "name": who, "kind": "admin"},
                     {"action": "disable", "name": admin},
                     {"action": "link", "name": admin}]:
            r = c.post(PAGE, dict(form, csrf=csrf))
            eq(r.status, 403, f"{form['action']} as {who}")
            check("newlink" not in r.text, "no link on a refusal")
    eq(accounts(), before, "a reviewer's or adjudicator's posts changed no account")
    eq(one(env.dsn, "SELECT count(*) FROM flywheel.web_signin_tokens"), tokens,
       "no link was made by a reviewer or an adjudicator")

    a = Client(srv)
    a.signin(admin_tok)
    r = a.get(PAGE)
    eq(r.status, 200, f"GET {PAGE} as admin")
    for name in [admin, bob, adj]:
        check(f">{name}" in r.text, f"{name} listed")
    check('id="add-reviewer"' in r.text, "the add form is there")
    csrf = a.csrf(PAGE)

    # the CSRF and origin guards come before the page
    add = {"action": "add", "name": new, "kind": "reviewer"}
    eq(a.post(PAGE, add).status, 403, "add without a CSRF token")
    eq(a.post(PAGE, dict(add, csrf="x" * 43)).status, 403, "add with a wrong CSRF token")
    eq(a.post(PAGE, dict(add, csrf=csrf), headers={"Sec-Fetch-Site": "cross-site"}).status, 403,
       "add from another site")
    eq(accounts(), before, "refused posts changed nothing")

    # add: the link is on the answer to the post, once; only its hash is stored
    r = a.post(PAGE, dict(add, csrf=csrf))
    eq(r.status, 200, f"add ({r.text[:500]})")
    tok = link_of(r, srv.origin)
    check(f"Sign-in link for {new}" in r.text, "the link is labelled with the account")
    eq(one(env.dsn, f"SELECT kind || ' ' || created_by || ' ' || (disabled_at IS NULL) "
                    f"FROM flywheel.web_accounts WHERE name = '{new}'"),
       f"reviewer {admin} true", "the account row, created by the admin")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_signin_tokens WHERE account = '{new}' "
                    f"AND token_hash = decode('{sha256_hex(tok)}', 'hex') "
                    f"AND expires_at > now() + interval '59 minutes'"), "1",
       "the token stored as its SHA-256, valid for an hour")
    eq(one(env.dsn, f"SELECT rolcanlogin::text || pg_has_role('{new}', 'flywheel_reviewer', "
                    f"'MEMBER')::text || pg_has_role('{new}', 'flywheel_adjudicator', "
                    f"'MEMBER')::text || pg_has_role('{env.web_role}', '{new}', 'MEMBER')::text "
                    f"FROM pg_roles WHERE rolname = '{new}'"),
       "falsetruefalsetrue", "the role: NOLOGIN, a reviewer, reachable by the server's login")
    eq(audits("add"), 1, "an audit row for the add")
    eq(one(env.dsn, "SELECT detail->>'kind' FROM flywheel.web_audit "
                    "WHERE detail->>'action' = 'reviewer_add'"), "reviewer", "audit: the kind")
    r = a.get(PAGE)
    check(tok not in r.text and "newlink" not in r.text, "the link is shown only once")
    check(re.search(re.escape(new) + r"</td><td>reviewer</td>", r.text), "listed as a reviewer")
    n = Client(srv)
    n.signin(tok)
    eq(n.get("/queues").status, 200, "the new account signs in with its link")
    eq(Client(srv).post("/signin", {"token": tok}).status, 403, "the link works once")
    eq(n.get("/adjudicate").status, 403, "a reviewer cannot adjudicate")

    # refusals with the database's message, the form kept
    r = a.post(PAGE, dict(add, csrf=csrf))
    eq(r.status, 422, "a duplicate name")
    eq(message(r), f"account &quot;{new}&quot; already exists. Issue a new sign-in link for it "
                   f"instead.", "duplicate message")
    check(f'id="new-name" name="name" maxlength="63" required autocomplete="off" value="{new}"'
          in r.text, "the name is kept in the form")
    r = a.post(PAGE, {"csrf": csrf, "action": "add", "name": "Not Valid", "kind": "reviewer"})
    eq(r.status, 422, "a bad name")
    check(message(r).startswith("invalid account name &quot;Not Valid&quot;. Use up to 63"),
          "bad name message")
    r = a.post(PAGE, {"csrf": csrf, "action": "add", "name": "postgres", "kind": "reviewer"})
    eq(r.status, 422, "a superuser's role")
    eq(message(r), "role &quot;postgres&quot; cannot be a web account", "superuser role message")
    r = a.post(PAGE, {"csrf": csrf, "action": "add", "name": f"fwt{env.pid}_x", "kind": "boss"})
    eq(r.status, 422, "an unknown role")
    check(message(r).startswith("invalid account role &quot;boss&quot;"), "unknown kind message")
    for action in ["disable", "enable", "link", "role"]:
        r = a.post(PAGE, {"csrf": csrf, "action": action, "name": f"fwt{env.pid}_nobody",
                          "kind": "reviewer"})
        eq(r.status, 422, f"{action} of an unknown account")
        check(message(r).startswith(f"account &quot;fwt{env.pid}_nobody&quot; does not exist"),
              f"{action}: unknown account message")
    eq(a.post(PAGE, {"csrf": csrf, "action": "fly", "name": new}).status, 400, "unknown action")
    eq(int(one(env.dsn, "SELECT count(*) FROM flywheel.web_accounts")), 4,
       "refusals added no account")

    # change of role: the database gives the rights at once, to the open session
    r = a.post(PAGE, {"csrf": csrf, "action": "role", "name": new, "kind": "adjudicator"})
    eq((r.status, r.header("Location")), (303, PAGE), "role change")
    eq(one(env.dsn, f"SELECT kind || pg_has_role('{new}', 'flywheel_adjudicator', 'MEMBER')::text "
                    f"FROM flywheel.web_accounts WHERE name = '{new}'"), "adjudicatortrue",
       "kind and membership")
    eq(n.get("/adjudicate").status, 200, "the open session now adjudicates")
    eq(audits("role"), 1, "an audit row for the role change")

    # a new link (a lost one): works, the older unused one too until it expires
    r = a.post(PAGE, {"csrf": csrf, "action": "link", "name": new})
    eq(r.status, 200, "new link")
    tok2 = link_of(r, srv.origin)
    check(tok2 != tok, "a new token")
    eq(audits("link"), 1, "an audit row for the link")
    n2 = Client(srv)
    n2.signin(tok2)

    # disable: sessions and unused links end, the server's login loses the role
    spare = link_of(a.post(PAGE, {"csrf": csrf, "action": "link", "name": new}), srv.origin)
    r = a.post(PAGE, {"csrf": csrf, "action": "disable", "name": new})
    eq((r.status, r.header("Location")), (303, PAGE), "disable")
    eq(one(env.dsn, f"SELECT (disabled_at IS NOT NULL)::text || "
                    f"(SELECT count(*) FROM flywheel.web_sessions WHERE account = '{new}') || "
                    f"(SELECT count(*) FROM flywheel.web_signin_tokens "
                    f" WHERE account = '{new}' AND used_at IS NULL) || "
                    f"pg_has_role('{env.web_role}', '{new}', 'MEMBER')::text "
                    f"FROM flywheel.web_accounts WHERE name = '{new}'"), "true00false",
       "disabled, no session, no unused link, not reachable by the server")
    eq(n2.get("/queues").status, 303, "the disabled account's session is over")
    eq(Client(srv).post("/signin", {"token": spare}).status, 403, "its link is refused")
    check(re.search(r"disabled \d{4}-", a.get(PAGE).text), "shown as disabled")
    r = a.post(PAGE, {"csrf": csrf, "action": "link", "name": new})
    eq(r.status, 422, "no link for a disabled account")
    eq(message(r), f"account &quot;{new}&quot; is disabled. Enable it first.", "disabled message")
    eq(audits("disable"), 1, "an audit row for the disable")

    # enable: reachable again, signs in with a new link
    r = a.post(PAGE, {"csrf": csrf, "action": "enable", "name": new})
    eq((r.status, r.header("Location")), (303, PAGE), "enable")
    eq(one(env.dsn, f"SELECT (disabled_at IS NULL)::text || "
                    f"pg_has_role('{env.web_role}', '{new}', 'MEMBER')::text "
                    f"FROM flywheel.web_accounts WHERE name = '{new}'"), "truetrue", "enabled")
    n3 = Client(srv)
    n3.signin(link_of(a.post(PAGE, {"csrf": csrf, "action": "link", "name": new}), srv.origin))
    eq(n3.get("/adjudicate").status, 200, "signed in again, still an adjudicator")
    eq(audits("enable"), 1, "an audit row for the enable")

    # the last admin may neither disable nor demote itself
    r = a.post(PAGE, {"csrf": csrf, "action": "disable", "name": admin})
    eq(r.status, 422, "the last admin disabling itself")
    eq(message(r), f"cannot disable account &quot;{admin}&quot;: it is the last enabled admin. "
                   f"Make another account an admin first.", "last admin message")
    r = a.post(PAGE, {"csrf": csrf, "action": "role", "name": admin, "kind": "reviewer"})
    eq(r.status, 422, "the last admin demoting itself")
    check("it is the last enabled admin" in message(r), "last admin demotion message")
    eq(one(env.dsn, f"SELECT kind || (disabled_at IS NULL)::text FROM flywheel.web_accounts "
                    f"WHERE name = '{admin}'"), "admintrue", "the admin is unchanged")
    eq(a.get(PAGE).status, 200, "and still signed in")

    # with a second admin, it may: its own session ends
    r = a.post(PAGE, {"csrf": csrf, "action": "role", "name": new, "kind": "admin"})
    eq(r.status, 303, "a second admin")
    r = a.post(PAGE, {"csrf": csrf, "action": "disable", "name": admin})
    eq((r.status, r.header("Location")), (303, PAGE), "an admin disables itself")
    eq(a.get(PAGE).status, 303, "its session is over")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_accounts WHERE name = '{admin}' "
                    f"AND disabled_at IS NOT NULL"), "1", "the admin is disabled")
    eq(n3.get(PAGE).status, 200, "the other admin manages accounts")

    # the CLI calls the same functions: its refusals are the same
    import subprocess
    p = subprocess.run([env.fw, "reviewer", "add", new, "--dsn", env.dsn, "--url", "http://x"],
                       capture_output=True, text=True)
    eq(p.returncode, 1, "CLI add of an existing account")
    check(f'account "{new}" already exists (SQLSTATE FR007)' in p.stderr, f"CLI: {p.stderr}")
    p = subprocess.run([env.fw, "reviewer", "role", bob, "--role", "adjudicator", "--dsn",
                        env.dsn], capture_output=True, text=True)
    eq(p.returncode, 0, f"CLI role: {p.stderr}")
    eq(one(env.dsn, f"SELECT kind FROM flywheel.web_accounts WHERE name = '{bob}'"),
       "adjudicator", "CLI role change")


run_main(main)
