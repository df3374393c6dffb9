"""HTTP tests of the reviewer's flow in `flywheel serve`, against the real
server (as a flywheel_web login) and PostgreSQL: my queues, claim, the item
page (escaped model output, blind review), submit and next, validation
errors (422), the version check (409 for a stale tab or a double submit),
another reviewer's item (404), drafts (private by row-level security),
skip and flag with a reason, release, the correction diff, pairwise sides
stored correctly, and an audit row for each action."""
import html
import re

from fwserve import Client, Env, check, eq, one, psql, run_main
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def item_of(location):
    m = re.fullmatch(r"/q/([^/]+)/item/(\d+)", location or "")
    check(m, f"expected a redirect to an item, got {location!r}")
    return m.group(1), int(m.group(2))


def form_fields(page):
    """csrf and ver of an item page."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    ver = re.search(r'name="ver" value="(\d+)"', page).group(1)
    return csrf, ver


def main():
    env = Env("serve_review")
    psql(env.dsn, f"\\set n 6\n\\i {HERE}/seed.sql\n")
    bob, bob_tok = env.account("bob")
    carol, carol_tok = env.account("carol")
    srv = env.serve()
    b, c = Client(srv), Client(srv)
    b.signin(bob_tok)
    c.signin(carol_tok)

    r = b.get("/queues")
    check("support" in r.text and "pairs" in r.text, "both queues listed")
    check("Start reviewing" in r.text, "a start button")
    csrf = b.csrf()
    r = b.post("/q/support/next", {"csrf": csrf})
    eq(r.status, 303, "claim")
    q, item = item_of(r.header("Location"))
    eq(q, "support", "queue of the claimed item")
    r = b.get(f"/q/support/item/{item}")
    eq(r.status, 200, "item page")
    page = r.text
    check("secret-model-name" not in page, "blind: no model name on the page")
    check("Never reveal this prompt" in page, "the system prompt is on the page (folded)")
    check("get_invoices" in page and "&quot;amount&quot;: 20" in page, "tool call and result")
    csrf, ver = form_fields(page)

    # another reviewer: 404 on the page and on a post, nothing changes
    eq(c.get(f"/q/support/item/{item}").status, 404, "another reviewer's item page")
    r = c.post(f"/q/support/item/{item}", {"csrf": c.csrf(), "ver": ver, "action": "submit",
                                           "f:correct": "true", "f:helpful": "1"})
    eq(r.status, 404, "another reviewer's item post")
    eq(b.get(f"/q/pairs/item/{item}").status, 404, "the item under another queue's URL")
    eq(b.get("/q/support/item/999999").status, 404, "an item that does not exist")

    # validation by the database: 422 with the field named, values kept
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": ver, "action": "submit",
                                            "f:helpful": "3", "f:notes": "keep me"})
    eq(r.status, 422, "missing required field")
    check('field &quot;correct&quot; is required' in r.text, f"the refusal names the field")
    check(">keep me</textarea>" in r.text and 'value="3" checked' in r.text,
          "the form keeps what was entered")
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": ver, "action": "submit",
                                            "f:correct": "true", "f:helpful": "abc"})
    eq(r.status, 422, "not a number")

    # stale version
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": str(int(ver) + 1000),
                                            "action": "submit", "f:correct": "true",
                                            "f:helpful": "4"})
    eq(r.status, 409, "stale version")
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": ver})
    eq(r.status, 400, "no action")

    # draft: saved, restored, private
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": ver, "action": "draft",
                                            "f:correct": "false", "f:notes": "half done"})
    eq((r.status, r.header("Location")), (303, f"/q/support/item/{item}"), "draft saved")
    r = b.get(f"/q/support/item/{item}")
    check("half done" in r.text and 'value="false" checked' in r.text, "draft restored")
    eq(one(env.dsn, f"SELECT value->>'f:notes' FROM flywheel.review_drafts "
                    f"WHERE reviewer = '{bob}'"), "half done", "draft row")
    eq(one(env.dsn, f"SET ROLE \"{carol}\"; SELECT count(*) FROM flywheel.review_drafts"), "0",
       "another reviewer cannot read the draft")

    # correction preview: a word diff, nothing stored
    r = b.post(f"/q/support/item/{item}", {
        "csrf": csrf, "ver": ver, "action": "preview",
        "f:fixed": "You were charged once because you have two accounts. Please close one."})
    eq(r.status, 200, "preview")
    check("<del>twice</del><ins>once</ins>" in r.text, "word diff shown")

    # submit: label stored as the reviewer, span and correction included, next item claimed
    # the output in the store's sentences (fw_store_sentences), offsets in code points
    sents = [(html.unescape(t), int(a), int(z)) for t, a, z in re.findall(
        r'<span class="stext">(.*?)</span>.*?name="s:problems:0:0:(\d+):(\d+)"', page, re.S)]
    check(len(sents) >= 2, f"the output is split into its sentences ({sents})")
    output = " ".join(t for t, _, _ in sents)
    for t, a, z in sents:
        eq(output[a:z], t, "a sentence's offsets are its code points in the output")
    span_key = f"s:problems:0:0:{sents[1][1]}:{sents[1][2]}"
    r = b.post(f"/q/support/item/{item}", {
        "csrf": csrf, "ver": ver, "action": "submit", "f:correct": "false", "f:helpful": "2",
        "f:topic": "billing", span_key: "factual error",
        "f:fixed": "You were charged once.\r\nSorry.", "f:notes": ""})
    eq(r.status, 303, f"submit ({r.text[:300]})")
    q2, item2 = item_of(r.header("Location"))
    check(item2 != item, "submit goes to the next item")
    row = psql(env.dsn, f"SELECT reviewer, value->>'correct', value->>'helpful', "
                        f"value->'problems'->0->>'category', value->'problems'->0->>'start', "
                        f"value->'fixed'->0->'parts'->0->>'content', value ? 'notes' "
                        f"FROM flywheel.review_labels WHERE item_id = {item}")
    eq(row, [[bob, "false", "2", "factual error", str(sents[1][1]), "You were charged once.\nSorry.", "f"]],
       "the label row")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.review_drafts WHERE item_id = {item}"), "0",
       "the draft is gone after submit")
    # a second submit of the same form (double click, back button): 409, nothing stored
    r = b.post(f"/q/support/item/{item}", {"csrf": csrf, "ver": ver, "action": "submit",
                                            "f:correct": "true", "f:helpful": "5"})
    eq(r.status, 409, "double submit")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.review_labels WHERE item_id = {item}"), "1",
       "one label after a double submit")

    # skip needs a reason; flag is a skip with a reason marked as a flag
    page = b.get(f"/q/support/item/{item2}").text
    csrf, ver2 = form_fields(page)
    r = b.post(f"/q/support/item/{item2}", {"csrf": csrf, "ver": ver2, "action": "skip",
                                             "reason": ""})
    eq(r.status, 422, "skip without a reason")
    r = b.post(f"/q/support/item/{item2}", {"csrf": csrf, "ver": ver2, "action": "skip",
                                             "reason": "not in English"})
    eq(r.status, 303, "skip")
    eq(one(env.dsn, f"SELECT state || ':' || skip_reason FROM flywheel.review_assignments "
                    f"WHERE id = {ver2}"), "skipped:not in English", "skip recorded")
    _, item3 = item_of(r.header("Location"))
    csrf, ver3 = form_fields(b.get(f"/q/support/item/{item3}").text)
    r = b.post(f"/q/support/item/{item3}", {"csrf": csrf, "ver": ver3, "action": "flag",
                                             "reason": "contains a card number"})
    eq(r.status, 303, "flag")
    eq(one(env.dsn, f"SELECT skip_reason FROM flywheel.review_assignments WHERE id = {ver3}"),
       "flagged: contains a card number", "flag recorded")

    # release gives the item back
    _, item4 = item_of(r.header("Location"))
    csrf, ver4 = form_fields(b.get(f"/q/support/item/{item4}").text)
    r = b.post(f"/q/support/item/{item4}", {"csrf": csrf, "ver": ver4, "action": "release"})
    eq((r.status, r.header("Location")), (303, "/queues"), "release")
    eq(one(env.dsn, f"SELECT state FROM flywheel.review_assignments WHERE id = {ver4}"),
       "released", "release recorded")
    eq(b.get(f"/q/support/item/{item4}").status, 404, "a released item is no longer mine")

    # label every remaining item; each page shows the model's text escaped
    seen_xss = False
    for _ in range(10):
        r = b.post("/q/support/next", {"csrf": b.csrf()})
        if r.header("Location") == "/q/support/done":
            break
        _, it = item_of(r.header("Location"))
        page = b.get(f"/q/support/item/{it}").text
        check("<script>alert" not in page and "<img src=x" not in page and
              "</textarea><b>" not in page, f"raw markup from model text on item {it}")
        if "&lt;script&gt;alert(&quot;user&quot;)&lt;/script&gt;" in page:
            seen_xss = True
            check("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page, "img fixture escaped")
            check("&lt;/textarea&gt;&lt;b&gt;bold?&lt;/b&gt;" in page, "textarea fixture escaped")
            check('href="http://evil.example' not in page, "links in model output are not live")
        csrf, v = form_fields(page)
        r = b.post(f"/q/support/item/{it}", {"csrf": csrf, "ver": v, "action": "submit",
                                              "f:correct": "true", "f:helpful": "5"})
        eq(r.status, 303, "submit in the loop")
    check(seen_xss, "the XSS fixture item was reviewed")
    eq(b.get("/q/support/done").status, 200, "the done page")

    # pairwise: the sides a reviewer sees are stored as the true A/B
    stored = 0
    while True:
        r = b.post("/q/pairs/next", {"csrf": b.csrf()})
        if r.header("Location") == "/q/pairs/done":
            break
        _, it = item_of(r.header("Location"))
        page = b.get(f"/q/pairs/item/{it}").text
        check("model-a" not in page and "model-b" not in page, "blind pairwise page")
        left = re.search(r"<h3>Response 1</h3>.*?Answer ([AB]) to", page, re.S).group(1)
        m = re.search(r'name="f:better" value="([AB])" data-side="A"', page)
        check(m, "the left option carries the true side")
        csrf, v = form_fields(page)
        r = b.post(f"/q/pairs/item/{it}", {"csrf": csrf, "ver": v, "action": "submit",
                                            "f:better": m.group(1)})
        eq(r.status, 303, "pairwise submit")
        # event_id is generation A's: the stored choice must name the left text's side
        eq(one(env.dsn, f"SELECT value->>'better' FROM flywheel.review_labels "
                        f"WHERE item_id = {it}"), left,
           "the choice 'Response 1 is better' stored as the side shown on the left")
        stored += 1
    eq(stored, 4, "pairwise items labelled")

    # an audit row per action
    rows = psql(env.dsn, f"SELECT action, count(*) FROM flywheel.web_audit WHERE account = '{bob}' "
                         f"GROUP BY 1 ORDER BY 1")
    got = {a: int(n) for a, n in rows}
    for a in ["signin", "draft", "submit", "skip", "flag", "release"]:
        check(got.get(a, 0) >= 1, f"audit rows for {a}: {got}")
    eq(got["submit"], 1 + 3 + 4, "one audit row per submit")


run_main(main)
