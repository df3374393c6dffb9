"""HTTP tests of the pages beyond the reviewer's own item, against the real
server and PostgreSQL: disputes ordered by agreement and their adjudication
(blind "Reviewer A/B" unless the queue shows names, per-sentence
disagreement, the version check, the decision stored with its note and an
audit row), the quality page, the reviewer's history with edits until
adjudication, and the admin pages for queues and rubrics. Every refusal
comes from PostgreSQL's grants: a reviewer gets 403 on the adjudicator's
and admin's pages, an adjudicator 403 on the admin's."""
import html
import json
import re

from fwserve import Client, Env, check, eq, one, psql, run_main
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def field(page, name):
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    check(m, f"no {name} field on the page")
    return m.group(1)


def label_as(env, who, value_of):
    """Claims the next support item as `who` and submits value_of(output text)."""
    it = json.loads(one(env.dsn, f"SELECT flywheel.review_claim('support', '{who}')"))
    out = it["generation"]["output_messages"][0]["parts"][0]["content"]
    value = value_of(out)
    psql(env.dsn, f"SELECT flywheel.review_submit({it['item_id']}, "
                  f"$j${json.dumps(value)}$j$::jsonb, '{who}')")
    return it["item_id"], out


def main():
    env = Env("serve_adjudicate")
    psql(env.dsn, f"\\set n 3\n\\i {HERE}/seed.sql\n")
    maria, maria_tok = env.account("maria")
    james, james_tok = env.account("james")
    sam, sam_tok = env.account("sam", role="adjudicator")
    ops, ops_tok = env.account("ops", role="admin")
    srv = env.serve()
    m, j, s, o = Client(srv), Client(srv), Client(srv), Client(srv)
    m.signin(maria_tok)
    j.signin(james_tok)
    s.signin(sam_tok)
    o.signin(ops_tok)

    # Two reviewers disagree on each of the three items (overlap 2): maria
    # says correct and marks the first sentence, james says incorrect.
    first = {}

    def maria_label(out):
        end = out.index(". ") + 1
        return {"correct": True, "helpful": 4, "topic": "billing",
                "problems": [{"message": 0, "part": 0, "start": 0, "end": end,
                              "category": "style"}]}

    for _ in range(3):
        item, out = label_as(env, maria, maria_label)
        first[item] = out[:out.index(". ") + 1]
    for _ in range(3):
        label_as(env, james, lambda out: {"correct": False, "helpful": 2, "topic": "billing"})
    eq(one(env.dsn, "SELECT count(*) FROM flywheel.review_items WHERE status = 'disputed'"), "3",
       "three disputed items")
    items = sorted(first)

    # reviewers get PostgreSQL's refusal on the adjudicator's and admin's pages
    for path in ["/adjudicate", f"/adjudicate/{items[0]}", "/quality", "/admin/queues",
                 "/admin/rubrics", "/admin/reviewers"]:
        eq(m.get(path).status, 403, f"reviewer GET {path}")
    r = m.post(f"/adjudicate/{items[0]}", {"csrf": m.csrf(), "ver": "1", "action": "submit",
                                            "f:correct": "true", "f:helpful": "3"})
    eq(r.status, 403, "reviewer POST adjudicate")
    check("Disputes" not in m.get("/queues").text, "no adjudicator links for a reviewer")
    for path in ["/admin/queues", "/admin/rubrics"]:
        eq(s.get(path).status, 403, f"adjudicator GET {path}")

    # the disputes, lowest agreement first
    r = s.get("/adjudicate")
    eq(r.status, 200, "disputes page")
    listed = [int(x) for x in re.findall(r'href="/adjudicate/(\d+)"', r.text)]
    eq(sorted(listed), items, "every disputed item listed")
    check("correct" in r.text and "helpful" in r.text, "the fields in dispute are named")

    # the item: blind answers side by side, the sentence they differ on
    item = items[0]
    r = s.get(f"/adjudicate/{item}")
    eq(r.status, 200, "adjudication page")
    page = r.text
    check("Reviewer A" in page and "Reviewer B" in page, "answers as Reviewer A/B")
    check(maria not in page.replace(f"{sam}", "") and james not in page,
          "blind: no reviewer's name on the page")
    check("secret-model-name" not in page, "blind: no model name")
    dis = re.findall(r'<li data-sent="\d+" id="s\d+" value="\d+" class="dispute">.*?'
                     r'<span class="stext">(.*?)</span>', page, re.S)
    eq([html.unescape(x) for x in dis], [first[item]],
       "exactly the sentence one reviewer marked is in dispute")
    check("Reviewer A: style" in page and "Reviewer B: —" in page,
          "each reviewer's span category on the sentence")
    check(re.search(r'<tr class="dispute"><th scope="row">Is the answer correct\?', page),
          "the disagreeing field is marked in the answers table")
    ver = field(page, "ver")

    # a stale page (a label revised since): 409, nothing stored
    psql(env.dsn, f"SELECT flywheel.review_revise({item}, '{{\"correct\": false, \"helpful\": 1,"
                  f" \"topic\": \"billing\"}}'::jsonb, '{james}')")
    decide = {"csrf": s.csrf(), "ver": ver, "action": "submit", "f:correct": "false",
              "f:helpful": "2", "f:topic": "billing", "note": "the refund went to the old card"}
    r = s.post(f"/adjudicate/{item}", decide)
    eq(r.status, 409, "decision on a stale page")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.review_labels WHERE item_id = {item} "
                    f"AND is_adjudication"), "0", "nothing stored on a stale page")
    decide["ver"] = field(s.get(f"/adjudicate/{item}").text, "ver")
    # the database's validation: 422 naming the field, values kept
    bad = dict(decide, **{"f:helpful": "9"})
    r = s.post(f"/adjudicate/{item}", bad)
    eq(r.status, 422, "invalid decision")
    check("the refund went to the old card" in r.text, "the note is kept")
    r = s.post(f"/adjudicate/{item}", decide)
    eq((r.status, r.header("Location")), (303, "/adjudicate"), "decision")
    row = psql(env.dsn, f"SELECT reviewer, value->>'correct', value->>'helpful', note "
                        f"FROM flywheel.review_labels WHERE item_id = {item} AND is_adjudication")
    eq(row, [[sam, "false", "2", "the refund went to the old card"]], "the adjudication row")
    eq(one(env.dsn, f"SELECT status FROM flywheel.review_items WHERE id = {item}"), "adjudicated",
       "item adjudicated")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_audit WHERE account = '{sam}' "
                    f"AND action = 'adjudicate' AND item_id = {item}"), "1", "audit row")
    check(f'href="/adjudicate/{item}"' not in s.get("/adjudicate").text,
          "a decided item leaves the list")

    # the admin shows names for this queue: the adjudicator sees them
    r = o.post("/admin/queues", {"csrf": o.csrf("/admin/queues"), "queue": "support",
                                 "action": "names"})
    eq(r.status, 303, "show names")
    page = s.get(f"/adjudicate/{items[1]}").text
    check(f"Reviewer A ({maria})" in page and f"({james})" in page, "names shown when the queue "
          "shows them")

    # quality: agreement per field, throughput, time per item
    r = s.get("/quality")
    eq(r.status, 200, "quality page")
    for text in ["Agreement per field", "Gold-item accuracy", "Time per item", maria, "support"]:
        check(text in r.text, f"quality page shows {text!r}")
    agreement = one(env.dsn, "SELECT round(percent_agreement::numeric, 3) FROM "
                             "flywheel.review_agreement WHERE queue = 'support' "
                             "AND field = 'correct'")
    check(f"<td>correct</td><td>boolean</td>" in r.text and f">{agreement}<" in r.text,
          f"the agreement of 'correct' as the view says ({agreement})")

    # history: my labels, edits until adjudication, another reviewer's is 404
    r = m.get("/history")
    eq(r.status, 200, "history")
    eq(sorted(int(x) for x in re.findall(r'href="/history/(\d+)"', r.text)), items,
       "my three labels")
    open_item = items[1]
    page = m.get(f"/history/{open_item}").text
    check('name="f:correct" value="true" checked' in page, "the form holds my label")
    check('<option value="style" selected>' in page, "and my span label")
    ver = field(page, "ver")
    r = m.post(f"/history/{open_item}", {"csrf": m.csrf(), "ver": ver, "action": "submit",
                                         "f:correct": "false", "f:helpful": "2",
                                         "f:topic": "billing"})
    eq((r.status, r.header("Location")), (303, "/history"), "revise")
    eq(one(env.dsn, f"SELECT version || ':' || (value->>'correct') FROM "
                    f"flywheel.review_current_labels WHERE item_id = {open_item} "
                    f"AND reviewer = '{maria}'"), "2:false", "the revision stored")
    eq(one(env.dsn, f"SELECT status FROM flywheel.review_items WHERE id = {open_item}"),
       "labelled", "the item agrees now")
    r = m.post(f"/history/{open_item}", {"csrf": m.csrf(), "ver": ver, "action": "submit",
                                         "f:correct": "true", "f:helpful": "5"})
    eq(r.status, 409, "a second post of the same edit form")
    eq(j.get(f"/history/{items[2]}").status, 200, "james sees his own label")
    maria_only = one(env.dsn, f"SELECT min(id) FROM flywheel.review_items WHERE queue_id = "
                              f"(SELECT id FROM flywheel.review_queues WHERE name = 'pairs')")
    eq(m.get(f"/history/{maria_only}").status, 404, "an item I did not label")
    page = m.get(f"/history/{item}").text
    check("has been adjudicated" in page and 'id="review-form"' not in page,
          "an adjudicated item is read-only")
    r = m.post(f"/history/{item}", {"csrf": m.csrf(), "ver": field(page, "ver"),
                                    "action": "submit", "f:correct": "true", "f:helpful": "5"})
    eq(r.status, 409, "no edit after adjudication")

    # admin: rubrics and queues
    csrf = o.csrf("/admin/rubrics")
    r = o.post("/admin/rubrics", {"csrf": csrf, "name": "tone", "definition": "{not json"})
    eq(r.status, 422, "a rubric that is not JSON")
    r = o.post("/admin/rubrics", {"csrf": csrf, "name": "tone",
                                  "definition": '{"fields": [{"name": "x", "type": "nope"}]}'})
    eq(r.status, 422, "a rubric the database refuses")
    check("nope" in r.text, f"the database's message is shown ({r.text[:200]})")
    tone = {"instructions": "Is the tone right?",
            "fields": [{"name": "polite", "type": "boolean", "required": True}]}
    r = o.post("/admin/rubrics", {"csrf": csrf, "name": "tone", "definition": json.dumps(tone)})
    eq((r.status, r.header("Location")), (303, "/admin/rubrics"), "rubric created")
    tone["fields"].append({"name": "why", "type": "text"})
    r = o.post("/admin/rubrics", {"csrf": csrf, "name": "tone", "definition": json.dumps(tone)})
    eq(r.status, 303, "a new version")
    eq(one(env.dsn, "SELECT max(version) FROM flywheel.review_rubrics WHERE name = 'tone'"), "2",
       "edit records version 2")
    csrf = o.csrf("/admin/queues")
    spec = {"name": "tone-check", "rubric": "tone", "rubric_version": 1, "overlap": 1,
            "rules": {"prompt_template": "support"}}
    r = o.post("/admin/queues", {"csrf": csrf, "action": "create", "spec": json.dumps(spec)})
    eq(r.status, 303, f"queue created ({r.text[:200]})")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "create", "spec": json.dumps(spec)})
    eq(r.status, 422, "a queue that exists")
    check("already exists" in r.text, "the database's message")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "edit", "queue": "tone-check",
                                 "spec": '{"overlap": 3, "rubric_version": 2}'})
    eq(r.status, 303, "settings changed")
    eq(psql(env.dsn, "SELECT overlap, rubric_version FROM flywheel.review_queues "
                     "WHERE name = 'tone-check'"), [["3", "2"]], "the new settings")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "edit", "queue": "tone-check",
                                 "spec": '{"overlap": 99}'})
    eq(r.status, 422, "a value the table refuses")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "edit", "queue": "tone-check",
                                 "spec": '{"name": "renamed"}'})
    eq(r.status, 422, "a key that cannot change")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "fill", "queue": "tone-check"})
    eq(r.status, 303, "fill")
    eq(one(env.dsn, "SELECT count(*) FROM flywheel.review_items i JOIN flywheel.review_queues q "
                    "ON q.id = i.queue_id WHERE q.name = 'tone-check'"), "3", "filled")
    r = o.post("/admin/queues", {"csrf": csrf, "action": "pause", "queue": "tone-check"})
    eq(r.status, 303, "pause")
    eq(one(env.dsn, "SELECT paused FROM flywheel.review_queues WHERE name = 'tone-check'"), "t",
       "paused")
    check("Resume" in o.get("/admin/queues").text, "a paused queue offers Resume")
    r = s.post("/admin/queues", {"csrf": s.csrf(), "action": "resume", "queue": "tone-check"})
    eq(r.status, 403, "an adjudicator cannot change queues")
    eq(one(env.dsn, "SELECT paused FROM flywheel.review_queues WHERE name = 'tone-check'"), "t",
       "still paused")
    eq(one(env.dsn, f"SELECT count(*) FROM flywheel.web_audit WHERE account = '{ops}' "
                    f"AND action = 'admin'"), "7", "an audit row per admin change")


run_main(main)
