/*
 * Every export of the C ABI called at least once with good arguments (what lifecycle.c does
 * not reach), and an engine handle shared by several threads placing at once.
 *
 * Built by scripts/c-tests with -Wall -Wextra -Werror -fsanitize=address,undefined -pthread.
 */
#include <pthread.h>

#include "check.h"

/* The JSON object in `array` that starts with `prefix` (e.g. {"zone":"com"), copied out; ""
 * when there is none. Strings are skipped, so braces inside them do not count. */
static void object_starting(const char *array, const char *prefix, char *out, size_t size) {
  const char *p = strstr(array, prefix);
  out[0] = '\0';
  if (p == NULL) return;
  int depth = 0, in_string = 0;
  size_t n = 0;
  do {
    char c = p[n];
    if (c == '\0') return;
    if (in_string) {
      if (c == '\\') n++;
      else if (c == '"') in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == '{') {
      depth++;
    } else if (c == '}') {
      depth--;
    }
    n++;
  } while (depth > 0);
  if (n + 1 > size) return;
  memcpy(out, p, n);
  out[n] = '\0';
}

static void every_call(void) {
  bo_engine *e = NULL;
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_open_simulated("memory:", "{\"start_unix_ms\":1772409600000,\"seed\":3}", &e));
  if (e == NULL) return;

  int64_t now = 0;
  EXPECT(BO_OK, bo_engine_now(e, &now));
  CHECK(now == START, "now %lld", (long long)now);

  /* Policies: read them, put .com back with a new fee, read it again. */
  EXPECT(BO_OK, bo_engine_policies(e, &doc));
  static char com[8192];
  object_starting(doc ? doc : "", "{\"zone\":\"com\"", com, sizeof com);
  bo_string_free(doc);
  CHECK(com[0] != '\0', "the .com policy is listed");
  char *fee = strstr(com, "\"amount\":\"49");
  CHECK(fee != NULL, ".com's fee is 49: %.200s", com);
  if (fee != NULL) memcpy(fee, "\"amount\":\"59", 12); /* 49.. -> 59.. */
  EXPECT(BO_OK, bo_engine_set_policy(e, com));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_set_policy(e, "{\"zone\":\"com\"}"));
  doc = NULL;
  EXPECT(BO_OK, bo_engine_policies(e, &doc));
  CHECK(doc != NULL && strstr(doc, "\"amount\":\"59") != NULL, "the new fee is stored");
  bo_string_free(doc);

  /* Accounts, contacts, funding and the statement. */
  doc = NULL;
  EXPECT(BO_OK, bo_engine_create_account(e, "{\"id\":\"dora\",\"currency\":\"USD\"}", &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_set_contacts(e, "dora", "{\"owner\":\"DORA-1\",\"admin\":\"DORA-1\","
                                       "\"tech\":\"DORA-1\",\"billing\":\"DORA-1\"}", &doc));
  CHECK(doc != NULL && strstr(doc, "DORA-1") != NULL, "contacts: %s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_account(e, "dora", &doc));
  CHECK(doc != NULL && strstr(doc, "\"id\":\"dora\"") != NULL, "account: %s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_fund(e, "dora", "250.50", "dora-1", &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_statement(e, "dora", 0, 10, &doc));
  CHECK(doc != NULL && strstr(doc, "250.5") != NULL, "statement: %s", doc);
  bo_string_free(doc);

  /* The catalog: import a list, search it, alerts on new names. */
  doc = NULL;
  EXPECT(BO_OK, bo_engine_subscribe_alerts(e, "{\"account\":\"dora\",\"keywords\":[\"shop\"]}", &doc));
  char sub_id[32];
  field(doc ? doc : "", "id", sub_id, sizeof sub_id);
  bo_string_free(doc);
  const char list[] = "myshop.com;2026-03-09 19:00:00\nother.net;2026-03-10 19:00:00\n";
  doc = NULL;
  EXPECT(BO_OK, bo_engine_import_pending_list(e, (const uint8_t *)list, sizeof list - 1,
                                              "{\"withdraw_missing\":false}", &doc));
  CHECK(doc != NULL && strstr(doc, "\"added\":2") != NULL && strstr(doc, "\"alerts\":1") != NULL,
        "import: %s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_search_pending(e, "{\"keywords\":[\"shop\"]}", &doc));
  CHECK(doc != NULL && strstr(doc, "\"total\":1") != NULL, "search: %s", doc);
  bo_string_free(doc);
  EXPECT(BO_OK, bo_engine_unsubscribe_alerts(e, "dora", strtoull(sub_id, NULL, 10)));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_unsubscribe_alerts(e, "dora", strtoull(sub_id, NULL, 10)));

  /* A backorder modified, then cancelled (refunded). */
  doc = NULL;
  EXPECT(BO_OK, bo_engine_place_backorder(e, "{\"account\":\"dora\",\"domain\":\"myshop.com\"}", &doc));
  char id[32];
  field(doc ? doc : "", "id", id, sizeof id);
  bo_string_free(doc);
  uint64_t b = strtoull(id, NULL, 10);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_modify_backorder(e, "dora", b, "{\"owner\":\"DORA-2\"}", &doc));
  CHECK(doc != NULL && strstr(doc, "DORA-2") != NULL, "modified: %s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_cancel_backorder(e, "dora", b, NULL, &doc));
  CHECK(doc != NULL && strstr(doc, "\"status\":\"CANCELLED\"") != NULL, "cancelled: %s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_PAYMENT_NOT_DUE, bo_engine_pay(e, "dora", b, NULL, &doc));
  EXPECT(BO_STATUS_DOES_NOT_ALLOW, bo_engine_auction(e, "dora", b, &doc));
  CHECK(doc == NULL, "no output from refused calls");

  /* The dashboard figures, the next wake-up, the outbox drained and acknowledged. */
  EXPECT(BO_OK, bo_engine_status_counts(e, &doc));
  CHECK(doc != NULL && strstr(doc, "\"CANCELLED\":1") != NULL, "counts: %s", doc);
  bo_string_free(doc);
  int64_t next = 0;
  bool has = true;
  EXPECT(BO_OK, bo_engine_next_wake(e, &next, &has));
  doc = NULL;
  EXPECT(BO_OK, bo_engine_events(e, 0, 1000, &doc));
  CHECK(doc != NULL && strstr(doc, "\"alert\"") != NULL, "an alert for myshop.com: %.300s", doc);
  bo_string_free(doc);
  EXPECT(BO_OK, bo_engine_ack_events(e, 1000000));
  doc = NULL;
  EXPECT(BO_OK, bo_engine_events(e, 0, 1000, &doc));
  CHECK(doc != NULL && strcmp(doc, "[]") == 0, "acknowledged events are gone: %.200s", doc);
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_tick(e, &doc));
  bo_string_free(doc);
  expect_audit_clean(e);
  bo_engine_free(e);
}

enum { THREADS = 4, PER_THREAD = 100 };

struct worker {
  bo_engine *engine;
  int index;
  int failed;
};

/* Places PER_THREAD backorders for the thread's own account on the shared engine. */
static void *place_many(void *arg) {
  struct worker *w = arg;
  char request[128];
  for (int i = 0; i < PER_THREAD; i++) {
    char *doc = NULL;
    snprintf(request, sizeof request, "{\"account\":\"t%d\",\"domain\":\"t%d-name%d.com\"}",
             w->index, w->index, i);
    if (bo_engine_place_backorder(w->engine, request, &doc) != BO_OK) w->failed++;
    bo_string_free(doc);
    /* Each thread has its own last error: a failure on another thread does not show here. */
    if (bo_engine_balance(w->engine, "nobody", &doc) != BO_ACCOUNT_NOT_FOUND) w->failed++;
    if (bo_last_error_status() != BO_ACCOUNT_NOT_FOUND) w->failed++;
  }
  return NULL;
}

static void threads(void) {
  bo_engine *e = NULL;
  EXPECT(BO_OK, bo_engine_open_simulated("memory:", "{\"start_unix_ms\":1772409600000}", &e));
  if (e == NULL) return;
  struct worker workers[THREADS];
  pthread_t ids[THREADS];
  for (int t = 0; t < THREADS; t++) {
    char account[96], *doc = NULL;
    snprintf(account, sizeof account, "{\"id\":\"t%d\",\"currency\":\"USD\"}", t);
    EXPECT(BO_OK, bo_engine_create_account(e, account, &doc));
    bo_string_free(doc);
    workers[t] = (struct worker){.engine = e, .index = t, .failed = 0};
  }
  for (int t = 0; t < THREADS; t++) pthread_create(&ids[t], NULL, place_many, &workers[t]);
  for (int t = 0; t < THREADS; t++) {
    pthread_join(ids[t], NULL);
    CHECK(workers[t].failed == 0, "thread %d: %d calls failed", t, workers[t].failed);
  }
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_status_counts(e, &doc));
  char want[64];
  snprintf(want, sizeof want, "\"INCOMPLETE\":%d", THREADS * PER_THREAD);
  CHECK(doc != NULL && strstr(doc, want) != NULL, "counts: %s", doc);
  bo_string_free(doc);
  bo_engine_free(e);
}

int main(void) {
  every_call();
  threads();
  return finish("C ABI every call, and threads sharing an engine");
}
