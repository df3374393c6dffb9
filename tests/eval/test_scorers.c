/*
 * Unit tests of the eval scorers without a server: the JSON Schema subset
 * (every supported keyword passing and failing, unsupported keywords
 * refused), the scorer configuration checks, normalisation, contains
 * any/all, regex, numbers with separators and tolerances, tool-call
 * argument modes, and reading judge answers in both pairwise orders.
 */
#include "fwtest.h"
#include "jschema.h"
#include "judge.h"
#include "score.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static json_t *J(const char *s)
{
    json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
    FWT_CHECK_MSG(v != NULL, "bad test JSON: %s", s);
    return v;
}

/* 1 valid, 0 invalid */
static int valid(const char *schema, const char *inst)
{
    json_t *s = J(schema), *i = J(inst);
    char err[300];
    FWT_CHECK_MSG(fw_jschema_check(s, err, sizeof err) == 0, "%s: %s", schema, err);
    int rc = fw_jschema_validate(s, i, err, sizeof err);
    json_decref(s);
    json_decref(i);
    return rc;
}

static void test_schema(void)
{
    FWT_CHECK(valid("{\"type\": \"integer\"}", "3"));
    FWT_CHECK(valid("{\"type\": \"integer\"}", "3.0"));
    FWT_CHECK(!valid("{\"type\": \"integer\"}", "3.5"));
    FWT_CHECK(valid("{\"type\": [\"string\", \"null\"]}", "null"));
    FWT_CHECK(!valid("{\"type\": [\"string\", \"null\"]}", "1"));
    FWT_CHECK(valid("{\"required\": [\"a\"], \"properties\": {\"a\": {\"type\": \"string\"}}}",
                    "{\"a\": \"x\"}"));
    FWT_CHECK(!valid("{\"required\": [\"a\"]}", "{\"b\": 1}"));
    FWT_CHECK(!valid("{\"properties\": {\"a\": {\"type\": \"string\"}}}", "{\"a\": 1}"));
    FWT_CHECK(!valid("{\"additionalProperties\": false, \"properties\": {\"a\": {}}}",
                     "{\"a\": 1, \"b\": 2}"));
    FWT_CHECK(valid("{\"additionalProperties\": {\"type\": \"number\"}}", "{\"b\": 2}"));
    FWT_CHECK(!valid("{\"additionalProperties\": {\"type\": \"number\"}}", "{\"b\": \"2\"}"));
    FWT_CHECK(
        valid("{\"items\": {\"type\": \"integer\"}, \"minItems\": 1, \"maxItems\": 2}", "[1, 2]"));
    FWT_CHECK(!valid("{\"items\": {\"type\": \"integer\"}}", "[1, \"x\"]"));
    FWT_CHECK(!valid("{\"maxItems\": 2}", "[1, 2, 3]"));
    FWT_CHECK(valid("{\"enum\": [1, \"a\", null]}", "1.0"));
    FWT_CHECK(!valid("{\"enum\": [1, \"a\", null]}", "\"b\""));
    FWT_CHECK(valid("{\"const\": {\"a\": [1, 2]}}", "{\"a\": [1.0, 2]}"));
    FWT_CHECK(!valid("{\"const\": {\"a\": [1, 2]}}", "{\"a\": [2, 1]}"));
    FWT_CHECK(valid("{\"minimum\": 1, \"maximum\": 3}", "3"));
    FWT_CHECK(!valid("{\"minimum\": 1, \"maximum\": 3}", "0.5"));
    FWT_CHECK(!valid("{\"exclusiveMaximum\": 3}", "3"));
    FWT_CHECK(!valid("{\"exclusiveMinimum\": 3}", "3"));
    FWT_CHECK(valid("{\"minimum\": 1}", "\"not a number\""));
    /* lengths count code points: "añ🙂" is 3 */
    FWT_CHECK(valid("{\"minLength\": 3, \"maxLength\": 3}", "\"a\\u00f1\\ud83d\\ude42\""));
    FWT_CHECK(!valid("{\"maxLength\": 2}", "\"a\\u00f1\\ud83d\\ude42\""));
    FWT_CHECK(valid("{\"pattern\": \"[0-9]{3}\"}", "\"ab123\""));
    FWT_CHECK(!valid("{\"pattern\": \"^[0-9]{3}$\"}", "\"ab123\""));
    FWT_CHECK(valid("true", "[1]"));
    FWT_CHECK(!valid("false", "[1]"));
    FWT_CHECK(valid("{\"title\": \"t\", \"description\": \"d\", \"$schema\": \"x\"}", "1"));

    char err[300];
    json_t *s = J("{\"properties\": {\"a\": {\"items\": {\"type\": \"string\"}}}}");
    json_t *i = J("{\"a\": [\"x\", 2]}");
    FWT_CHECK(fw_jschema_validate(s, i, err, sizeof err) == 0);
    FWT_CHECK_EQ_STR(err, "expected string, got number at \"/a/1\"");
    json_decref(s);
    json_decref(i);

    const char *unsupported[] = {"{\"$ref\": \"#\"}",
                                 "{\"anyOf\": []}",
                                 "{\"properties\": {\"a\": {\"format\": \"email\"}}}",
                                 "{\"items\": {\"not\": {}}}",
                                 "{\"prefixItems\": []}",
                                 "{\"type\": \"decimal\"}",
                                 "{\"pattern\": \"(\"}",
                                 "{\"minLength\": -1}",
                                 "3"};
    for (size_t k = 0; k < sizeof unsupported / sizeof *unsupported; k++) {
        s = J(unsupported[k]);
        FWT_CHECK_MSG(fw_jschema_check(s, err, sizeof err) == -1, "accepted %s", unsupported[k]);
        json_decref(s);
    }
    s = J("{\"properties\": {\"a\": {\"format\": \"email\"}}}");
    fw_jschema_check(s, err, sizeof err);
    FWT_CHECK_EQ_STR(err, "unsupported JSON Schema keyword \"format\" at \"#/properties/a\"");
    json_decref(s);
}

static fw_scorers *cfg(const char *text)
{
    char err[400];
    fw_scorers *s = fw_scorers_parse(text, err, sizeof err);
    FWT_CHECK_MSG(s != NULL, "%s: %s", text, err);
    return s;
}

static double score(const fw_scorer *sc, const char *text, const char *msg, const char *line)
{
    json_t *m = msg ? J(msg) : NULL, *l = J(line);
    double v = -1;
    char expl[600];
    FWT_CHECK(fw_sc_score(sc, text, m, l, &v, expl, sizeof expl) == 0);
    json_decref(m);
    json_decref(l);
    return v;
}

static void test_config(void)
{
    const char *bad[] = {"[]",
                         "{\"scorers\": [{\"type\": \"nope\"}]}",
                         "{\"scorers\": [{\"type\": \"exact\", \"colour\": 1}]}",
                         "{\"scorers\": [{\"type\": \"regex\"}]}",
                         "{\"scorers\": [{\"type\": \"regex\", \"pattern\": \"(\"}]}",
                         "{\"scorers\": [{\"type\": \"exact\"}, {\"type\": \"exact\"}]}",
                         "{\"scorers\": [{\"type\": \"judge\", \"model\": \"m\"}]}",
                         "{\"scorers\": [{\"type\": \"numeric\", \"tolerance\": -1}]}",
                         "{\"scorers\": [{\"type\": \"tool_call\", \"arguments\": \"some\"}]}",
                         "{\"scorers\": [{\"type\": \"exact\", \"name\": \"a b\"}]}",
                         "{\"scorers\": [], \"x\": 1}",
                         "not json"};
    char err[400];
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        fw_scorers *s = fw_scorers_parse(bad[k], err, sizeof err);
        FWT_CHECK_MSG(s == NULL, "accepted %s", bad[k]);
    }
    /* The canonical form sorts keys, so equal configurations hash equal. */
    fw_scorers *a =
        cfg("{\"scorers\": [{\"type\": \"numeric\", \"tolerance\": 1, \"name\": \"n\"}]}");
    fw_scorers *b = cfg("[{\"name\": \"n\", \"tolerance\": 1, \"type\": \"numeric\"}]");
    FWT_CHECK_EQ_STR(a->sha256, b->sha256);
    FWT_CHECK(strlen(a->sha256) == 64);
    fw_scorers_free(a);
    fw_scorers_free(b);
}

static void test_text_scorers(void)
{
    fw_scorers *s = cfg(
        "{\"scorers\": ["
        "{\"type\": \"exact\"}, {\"type\": \"normalized\"},"
        "{\"name\": \"all\", \"type\": \"contains\", \"values\": [\"a\", \"B\"]},"
        "{\"name\": \"any\", \"type\": \"contains\", \"values\": [\"zz\", \"B\"], \"any\": true},"
        "{\"name\": \"ci\", \"type\": \"contains\", \"value\": \"PARIS\", \"case_insensitive\": "
        "true},"
        "{\"name\": \"ideal\", \"type\": \"contains\"},"
        "{\"name\": \"re\", \"type\": \"regex\", \"pattern\": \"^\\\\d+ (apples|pears)$\"},"
        "{\"name\": \"lab\", \"type\": \"exact\", \"label\": \"answer\"}"
        "]}");
    const char *line = "{\"ideal\": \"Hello, World!\", \"labels\": {\"answer\": \"42\"}}";
    FWT_CHECK(score(&s->v[0], "Hello, World!", NULL, line) == 1);
    FWT_CHECK(score(&s->v[0], "hello world", NULL, line) == 0);
    FWT_CHECK(score(&s->v[1], "  hello   WORLD ", NULL, line) == 1);
    FWT_CHECK(score(&s->v[1], "hello there", NULL, line) == 0);
    FWT_CHECK(score(&s->v[2], "a and B", NULL, line) == 1);
    FWT_CHECK(score(&s->v[2], "a and b", NULL, line) == 0);
    FWT_CHECK(score(&s->v[3], "just B", NULL, line) == 1);
    FWT_CHECK(score(&s->v[3], "neither", NULL, line) == 0);
    FWT_CHECK(score(&s->v[4], "in paris", NULL, line) == 1);
    FWT_CHECK(score(&s->v[5], "I say Hello, World! twice", NULL, line) == 1);
    FWT_CHECK(score(&s->v[6], "12 pears", NULL, line) == 1);
    FWT_CHECK(score(&s->v[6], "12 plums", NULL, line) == 0);
    FWT_CHECK(score(&s->v[7], "42", NULL, line) == 1);
    FWT_CHECK(score(&s->v[0], "x", NULL, "{}") == 0); /* no expected text: 0, explained */
    char *n = fw_sc_normalize("  Ünïcode, STAYS!\tas is ");
    FWT_CHECK_EQ_STR(n, "Ünïcode stays as is");
    free(n);
    fw_scorers_free(s);
}

static void test_numeric(void)
{
    fw_scorers *s =
        cfg("{\"scorers\": [{\"name\": \"abs\", \"type\": \"numeric\", \"tolerance\": 0.5},"
            "{\"name\": \"rel\", \"type\": \"numeric\", \"relative\": 0.01},"
            "{\"name\": \"last\", \"type\": \"numeric\", \"position\": \"last\"}]}");
    const char *line = "{\"ideal\": \"It costs 1,234.5 dollars\"}";
    FWT_CHECK(score(&s->v[0], "1234", NULL, line) == 1);
    FWT_CHECK(score(&s->v[0], "1233.9", NULL, line) == 0);
    FWT_CHECK(score(&s->v[1], "about 1,240", NULL, line) == 1);
    FWT_CHECK(score(&s->v[1], "1250", NULL, line) == 0);
    FWT_CHECK(score(&s->v[1], "no number", NULL, line) == 0);
    FWT_CHECK(score(&s->v[2], "first 7 then -2.5e1", NULL, "{\"ideal\": \"-25\"}") == 1);
    FWT_CHECK(score(&s->v[0], "-3", NULL, "{\"ideal\": \"-3.2\"}") == 1);
    fw_scorers_free(s);
}

static void test_tools(void)
{
    fw_scorers *s =
        cfg("{\"scorers\": [{\"name\": \"exact\", \"type\": \"tool_call\"},"
            "{\"name\": \"subset\", \"type\": \"tool_call\", \"arguments\": \"subset\"},"
            "{\"name\": \"names\", \"type\": \"tool_call\", \"arguments\": \"ignore\"}]}");
    const char *line =
        "{\"expected\": [{\"role\": \"assistant\", \"tool_calls\": ["
        "{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": \"{\\\"a\\\": "
        "1}\"}},"
        "{\"type\": \"function\", \"function\": {\"name\": \"g\", \"arguments\": \"{}\"}}]}]}";
    const char *same = "{\"tool_calls\": ["
                       "{\"function\": {\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1.0}\"}},"
                       "{\"function\": {\"name\": \"g\", \"arguments\": \"{}\"}}]}";
    const char *extra =
        "{\"tool_calls\": ["
        "{\"function\": {\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1, \\\"b\\\": 2}\"}},"
        "{\"function\": {\"name\": \"g\", \"arguments\": \"{}\"}}]}";
    const char *one =
        "{\"tool_calls\": [{\"function\": {\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 9}\"}}]}";
    FWT_CHECK(score(&s->v[0], "", same, line) == 1);
    FWT_CHECK(score(&s->v[0], "", extra, line) == 0.5);
    FWT_CHECK(score(&s->v[1], "", extra, line) == 1);
    FWT_CHECK(score(&s->v[2], "", one, line) == 0.5);
    FWT_CHECK(score(&s->v[0], "", one, line) == 0);
    FWT_CHECK(score(&s->v[0], "text", NULL, line) == 0);
    FWT_CHECK(score(&s->v[0], "text", NULL, "{\"expected\": []}") == 1);
    fw_scorers_free(s);
}

static void test_json_scorers(void)
{
    fw_scorers *s = cfg("{\"scorers\": [{\"type\": \"json_valid\"},"
                        "{\"type\": \"json_schema\", \"schema\": {\"type\": \"array\"}}]}");
    FWT_CHECK(score(&s->v[0], "```json\n[1, 2]\n```", NULL, "{}") == 1);
    FWT_CHECK(score(&s->v[0], "[1, 2", NULL, "{}") == 0);
    FWT_CHECK(score(&s->v[0], "{\"a\": 1, \"a\": 2}", NULL, "{}") == 0);
    FWT_CHECK(score(&s->v[1], " [1] ", NULL, "{}") == 1);
    FWT_CHECK(score(&s->v[1], "{}", NULL, "{}") == 0);
    fw_scorers_free(s);
}

static void test_judge(void)
{
    fw_scorers *s = cfg(
        "{\"scorers\": [{\"name\": \"j\", \"type\": \"judge\", \"endpoint\": \"http://x\","
        " \"model\": \"m\", \"rubric\": \"r\", \"scale\": [1, 5]},"
        "{\"name\": \"p\", \"type\": \"judge\", \"mode\": \"pairwise\", \"endpoint\": \"http://x\","
        " \"model\": \"m\", \"rubric\": \"r\"}]}");
    double v;
    char why[300];
    FWT_CHECK(fw_judge_read(&s->v[0], 0, "Sure: {\"score\": 4, \"reason\": \"ok\"}", &v, why,
                            sizeof why));
    FWT_CHECK(fabs(v - 0.75) < 1e-12);
    FWT_CHECK(!fw_judge_read(&s->v[0], 0, "{\"score\": 6}", &v, why, sizeof why));
    FWT_CHECK(!fw_judge_read(&s->v[0], 0, "four", &v, why, sizeof why));
    /* order 0: the answer is A; order 1: the answer is B */
    FWT_CHECK(fw_judge_read(&s->v[1], 0, "{\"winner\": \"A\"}", &v, why, sizeof why) && v == 1);
    FWT_CHECK(fw_judge_read(&s->v[1], 1, "{\"winner\": \"A\"}", &v, why, sizeof why) && v == 0);
    FWT_CHECK(fw_judge_read(&s->v[1], 1, "{\"winner\": \"tie\"}", &v, why, sizeof why) && v == 0.5);
    FWT_CHECK(!fw_judge_read(&s->v[1], 1, "{\"winner\": \"C\"}", &v, why, sizeof why));
    /* both orders carry the answer and the reference in swapped places */
    json_t *line = J("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]},"
                     " \"expected\": [{\"role\": \"assistant\", \"content\": \"REF\"}]}");
    int skip;
    json_t *r0 = fw_judge_request(&s->v[1], 0, line, "ANS", NULL, &skip, why, sizeof why);
    json_t *r1 = fw_judge_request(&s->v[1], 1, line, "ANS", NULL, &skip, why, sizeof why);
    const char *u0 = json_string_value(
        json_object_get(json_array_get(json_object_get(r0, "messages"), 1), "content"));
    const char *u1 = json_string_value(
        json_object_get(json_array_get(json_object_get(r1, "messages"), 1), "content"));
    FWT_CHECK(strstr(u0, "Answer A:\nANS\n\nAnswer B:\nREF") != NULL);
    FWT_CHECK(strstr(u1, "Answer A:\nREF\n\nAnswer B:\nANS") != NULL);
    json_decref(r0);
    json_decref(r1);
    json_t *noref = J("{\"input\": {\"messages\": []}}");
    FWT_CHECK(fw_judge_request(&s->v[1], 0, noref, "ANS", NULL, &skip, why, sizeof why) == NULL &&
              skip);
    json_decref(noref);
    json_decref(line);
    fw_scorers_free(s);
}

int main(void)
{
    test_schema();
    test_config();
    test_text_scorers();
    test_numeric();
    test_tools();
    test_json_scorers();
    test_judge();
    return 0;
}
