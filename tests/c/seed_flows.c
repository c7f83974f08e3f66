/*
 * The seed documents' flows through the C ABI, with the statuses and exact amounts of the Rust
 * scenario (runtime/tests/seed_flows.rs): HEXONET's five steps with a private auction (.com, fee
 * 49 USD) and Alibaba's pre-release (exclusive model, .info, 39 USD). The Python and Node
 * bindings run the same scenario.
 *
 * Built by scripts/c-tests with -Wall -Wextra -Werror -fsanitize=address,undefined.
 */
#include "check.h"

/* Unix milliseconds of an RFC 3339 UTC time as the engine writes it ("2026-03-07T19:00:00Z",
 * with an optional fraction). */
static int64_t unix_ms(const char *text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return -1;
  /* Days from the civil date (proleptic Gregorian), after Howard Hinnant's algorithm. */
  y -= mo <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = (int64_t)era * 146097 + doe - 719468;
  int64_t ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
  const char *frac = strchr(text, '.');
  if (frac != NULL) {
    int scale = 100;
    for (const char *p = frac + 1; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
      ms += (*p - '0') * scale;
  }
  return ms;
}

static bo_engine *scripted(const char *outcomes) {
  char simulation[512];
  snprintf(simulation, sizeof simulation, "{\"start_unix_ms\":%lld,\"seed\":1,\"outcomes\":{%s}}",
           (long long)START, outcomes);
  bo_engine *e = NULL;
  EXPECT(BO_OK, bo_engine_open_simulated("memory:", simulation, &e));
  if (e == NULL) exit(finish("seed flows"));
  return e;
}

static void account(bo_engine *e, const char *id, const char *handle) {
  char json[256], *doc = NULL;
  if (handle != NULL)
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"currency\":\"USD\",\"contacts\":{\"owner\":\"%s\",\"admin\":\"%s\","
             "\"tech\":\"%s\",\"billing\":\"%s\"}}", id, handle, handle, handle, handle);
  else
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"currency\":\"USD\"}", id);
  EXPECT(BO_OK, bo_engine_create_account(e, json, &doc));
  bo_string_free(doc);
}

static void fund(bo_engine *e, const char *id, const char *amount, const char *key) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_fund(e, id, amount, key, &doc));
  bo_string_free(doc);
}

static void add(bo_engine *e, const char *domain, int64_t drop) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_add_pending_deletion(e, domain, drop, &doc));
  bo_string_free(doc);
}

static uint64_t place(bo_engine *e, const char *account, const char *domain) {
  char request[256], id[32], *doc = NULL;
  snprintf(request, sizeof request, "{\"account\":\"%s\",\"domain\":\"%s\"}", account, domain);
  EXPECT(BO_OK, bo_engine_place_backorder(e, request, &doc));
  field(doc ? doc : "", "id", id, sizeof id);
  bo_string_free(doc);
  return strtoull(id, NULL, 10);
}

/* Field `key` of the account's backorder `id`. */
static void backorder_field(bo_engine *e, const char *account, uint64_t id, const char *key,
                            char *value, size_t size) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_backorder(e, account, id, &doc));
  field(doc ? doc : "", key, value, size);
  bo_string_free(doc);
}

#define EXPECT_FIELD(e, account, id, key, want)                                   \
  do {                                                                            \
    char got_[64];                                                                \
    backorder_field(e, account, id, key, got_, sizeof got_);                      \
    CHECK(strcmp(got_, want) == 0 || same_amount(got_, want), "%s %llu %s: %s, want %s", \
          account, (unsigned long long)(id), key, got_, want);                    \
  } while (0)

#define EXPECT_BALANCE(e, account, bal, res, avail)                                      \
  do {                                                                                   \
    char *doc_ = NULL, b_[32], r_[32], a_[32];                                           \
    EXPECT(BO_OK, bo_engine_balance(e, account, &doc_));                                 \
    field(doc_ ? doc_ : "", "balance", b_, sizeof b_);                                   \
    field(doc_ ? doc_ : "", "reserved", r_, sizeof r_);                                  \
    field(doc_ ? doc_ : "", "available", a_, sizeof a_);                                 \
    bo_string_free(doc_);                                                                \
    CHECK(same_amount(b_, bal) && same_amount(r_, res) && same_amount(a_, avail),        \
          "%s: %s / %s / %s, want %s / %s / %s", account, b_, r_, a_, bal, res, avail);  \
  } while (0)

static void at(bo_engine *e, int64_t t) {
  char *report = NULL;
  EXPECT(BO_OK, bo_engine_set_time(e, t));
  EXPECT(BO_OK, bo_engine_tick(e, &report));
  CHECK(report != NULL && strstr(report, "\"errors\":[]") != NULL, "tick: %s", report);
  bo_string_free(report);
}

/* How many events of `type` the outbox holds for backorder `id`. */
static int events_of(bo_engine *e, uint64_t id, const char *type) {
  char *doc = NULL, needle[64], tag[64];
  EXPECT(BO_OK, bo_engine_events(e, 0, 100000, &doc));
  snprintf(needle, sizeof needle, "\"backorder\":%llu,", (unsigned long long)id);
  snprintf(tag, sizeof tag, "\"type\":\"%s\"", type);
  int n = 0;
  /* Events are one object each: {"seq":…,"backorder":id,…,"kind":{"type":…}} */
  for (const char *p = doc ? strstr(doc, needle) : NULL; p != NULL; p = strstr(p + 1, needle)) {
    const char *end = strstr(p, "\"seq\":");
    const char *t = strstr(p, tag);
    if (t != NULL && (end == NULL || t < end)) n++;
  }
  bo_string_free(doc);
  return n;
}

static void hexonet_five_steps(void) {
  const int64_t drop = START + 5 * 24 * HOUR + 19 * HOUR;
  bo_engine *e = scripted("\"solo.com\":{\"outcome\":\"CAUGHT\"},"
                          "\"contest.com\":{\"outcome\":\"CAUGHT\"},"
                          "\"miss.com\":{\"outcome\":\"TAKEN\"}");
  const char *names[] = {"solo.com", "miss.com", "contest.com", "later.com", "poor.com"};
  for (size_t i = 0; i < 5; i++) add(e, names[i], drop);
  account(e, "alice", "ALICE-1");
  account(e, "bob", NULL);
  account(e, "carol", "CAROL-1");
  account(e, "dave", "DAVE-1");
  account(e, "erin", "ERIN-1");

  /* Step 1: every account starts at zero; placing is free. */
  EXPECT_BALANCE(e, "alice", "0", "0", "0");
  uint64_t solo = place(e, "alice", "solo.com");
  uint64_t miss = place(e, "alice", "miss.com");
  uint64_t a_contest = place(e, "alice", "contest.com");
  uint64_t c_contest = place(e, "carol", "contest.com");
  uint64_t d_contest = place(e, "dave", "contest.com");
  EXPECT_FIELD(e, "alice", solo, "status", "REQUESTED");
  /* Without contact handles: INCOMPLETE until they exist. */
  uint64_t later = place(e, "bob", "later.com");
  EXPECT_FIELD(e, "bob", later, "status", "INCOMPLETE");
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_set_contacts(e, "bob", "{\"owner\":\"BOB-1\",\"admin\":\"BOB-1\","
                                       "\"tech\":\"BOB-1\",\"billing\":\"BOB-1\"}", &doc));
  bo_string_free(doc);
  EXPECT_FIELD(e, "bob", later, "status", "REQUESTED");
  uint64_t poor = place(e, "erin", "poor.com");
  fund(e, "alice", "500", "alice-1");
  fund(e, "carol", "300", "carol-1");
  fund(e, "dave", "100", "dave-1");
  fund(e, "bob", "20", "bob-1");
  doc = NULL;
  EXPECT(BO_OK, bo_engine_cancel_backorder(e, "bob", later, NULL, &doc));
  bo_string_free(doc);
  EXPECT_FIELD(e, "bob", later, "status", "CANCELLED");

  /* Step 2: 72 h before the deletion the deposits are reserved. */
  at(e, drop - 72 * HOUR);
  EXPECT_FIELD(e, "alice", solo, "status", "ACTIVE");
  EXPECT_FIELD(e, "alice", miss, "status", "ACTIVE");
  EXPECT_FIELD(e, "alice", a_contest, "status", "ACTIVE");
  EXPECT_BALANCE(e, "alice", "500", "147", "353");
  EXPECT_BALANCE(e, "carol", "300", "49", "251");
  /* Not enough funds: INACTIVE, one low-balance notice however often it is retried. */
  EXPECT_FIELD(e, "erin", poor, "status", "INACTIVE");
  at(e, drop - 60 * HOUR);
  CHECK(events_of(e, poor, "low_balance") == 1, "one low-balance notice: %d",
        events_of(e, poor, "low_balance"));
  /* Still unfunded at the 24 h deadline: void, nothing reserved. */
  at(e, drop - 24 * HOUR);
  EXPECT_FIELD(e, "erin", poor, "status", "EXPIRED");
  EXPECT_BALANCE(e, "erin", "0", "0", "0");
  /* After the finalization date (deletion - 3 h) cancelling is refused. */
  EXPECT(BO_OK, bo_engine_set_time(e, drop - 2 * HOUR));
  doc = NULL;
  EXPECT(BO_CANCELLATION_CLOSED, bo_engine_cancel_backorder(e, "alice", miss, NULL, &doc));

  /* Step 3: at the deletion time the backorders are processed; miss.com is lost and refunded. */
  at(e, drop);
  EXPECT_FIELD(e, "alice", miss, "status", "FAILED");
  CHECK(events_of(e, miss, "refunded") == 1, "miss.com refunded");
  /* Step 4: caught with one backorder: SUCCESSFUL, the deposit captured as the fee. */
  EXPECT_FIELD(e, "alice", solo, "status", "SUCCESSFUL");
  EXPECT_FIELD(e, "alice", solo, "paid", "49");
  EXPECT_BALANCE(e, "alice", "451", "49", "402");

  /* Step 5: caught with three backorders: a private auction among exactly those. */
  EXPECT_FIELD(e, "alice", a_contest, "status", "AUCTION-PENDING");
  EXPECT_FIELD(e, "carol", c_contest, "status", "AUCTION-PENDING");
  EXPECT_FIELD(e, "dave", d_contest, "status", "AUCTION-PENDING");
  CHECK(events_of(e, c_contest, "auction_invitation") == 1, "carol invited");
  char *view = NULL, value[64];
  EXPECT(BO_OK, bo_engine_auction(e, "carol", c_contest, &view));
  field(view ? view : "", "participants", value, sizeof value);
  CHECK(strcmp(value, "3") == 0, "participants %s", value);
  field(view ? view : "", "opening_price", value, sizeof value);
  CHECK(same_amount(value, "49"), "opening price %s", value);
  field(view ? view : "", "starts_at", value, sizeof value);
  int64_t starts = unix_ms(value);
  bo_string_free(view);
  view = NULL;
  EXPECT(BO_AUCTION_NOT_OPEN, bo_engine_bid(e, "carol", c_contest, "120", NULL, &view));
  at(e, starts);
  EXPECT(BO_OK, bo_engine_bid(e, "carol", c_contest, "120", NULL, &view));
  bo_string_free(view);
  view = NULL;
  EXPECT(BO_OK, bo_engine_bid(e, "dave", d_contest, "100", NULL, &view));
  /* Carol leads; the price is Dave's 100 plus the increment at 100 (5). */
  field(view ? view : "", "leading", value, sizeof value);
  CHECK(strcmp(value, "false") == 0, "dave leads? %s", value);
  field(view ? view : "", "price", value, sizeof value);
  CHECK(same_amount(value, "105"), "price %s", value);
  field(view ? view : "", "ends_at", value, sizeof value);
  int64_t ends = unix_ms(value);
  bo_string_free(view);
  /* A bid in the last ten minutes extends the end. */
  EXPECT(BO_OK, bo_engine_set_time(e, ends - 5 * 60000));
  view = NULL;
  EXPECT(BO_BID_TOO_LOW, bo_engine_bid(e, "dave", d_contest, "104", NULL, &view));
  EXPECT(BO_OK, bo_engine_bid(e, "dave", d_contest, "110", NULL, &view));
  field(view ? view : "", "ends_at", value, sizeof value);
  int64_t extended = unix_ms(value);
  CHECK(extended == ends + 5 * 60000, "extended to %s", value);
  field(view ? view : "", "price", value, sizeof value);
  CHECK(same_amount(value, "115"), "price %s", value);
  bo_string_free(view);

  /* The end: the winner owes the price; losers are released at once. */
  at(e, extended);
  EXPECT_FIELD(e, "carol", c_contest, "status", "AUCTION-WON");
  EXPECT_FIELD(e, "carol", c_contest, "amount_due", "115");
  EXPECT_FIELD(e, "alice", a_contest, "status", "AUCTION-LOST");
  EXPECT_FIELD(e, "dave", d_contest, "status", "AUCTION-LOST");
  EXPECT_BALANCE(e, "alice", "451", "0", "451");
  EXPECT_BALANCE(e, "dave", "100", "0", "100");
  /* Paying: the 49 deposit counts toward the 115; 66 is charged; the auth code is issued. */
  doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "carol", c_contest, "pay-1", &doc));
  field(doc ? doc : "", "paid", value, sizeof value);
  CHECK(same_amount(value, "115"), "paid %s", value);
  field(doc ? doc : "", "amount_due", value, sizeof value);
  CHECK(strcmp(value, "null") == 0, "amount due %s", value);
  field(doc ? doc : "", "auth_code", value, sizeof value);
  CHECK(strlen(value) == 16, "auth code '%s'", value);
  bo_string_free(doc);
  /* Paying again with the same key answers as the first time. */
  doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "carol", c_contest, "pay-1", &doc));
  bo_string_free(doc);
  EXPECT_BALANCE(e, "carol", "185", "0", "185");
  doc = NULL;
  EXPECT(BO_OK, bo_engine_statement(e, "carol", 0, 100, &doc));
  const char *kinds[] = {"\"FUND\"", "\"RESERVE\"", "\"CHARGE\"", "\"CAPTURE\""};
  const char *p = doc ? doc : "";
  for (size_t i = 0; i < 4 && p != NULL; i++) {
    p = strstr(p, kinds[i]);
    CHECK(p != NULL, "carol's statement has %s in order: %s", kinds[i], doc);
  }
  bo_string_free(doc);
  expect_audit_clean(e);
  bo_engine_free(e);
}

static void alibaba_pre_release(void) {
  const int64_t drop = START + 3 * 24 * HOUR;
  bo_engine *e = scripted("\"prerelease.info\":{\"outcome\":\"CAUGHT\"},"
                          "\"gone.info\":{\"outcome\":\"TAKEN\"},"
                          "\"owed.info\":{\"outcome\":\"TAKEN\"},"
                          "\"turned.info\":{\"outcome\":\"PREMIUM\"}");
  const char *names[] = {"prerelease.info", "gone.info", "owed.info", "turned.info", "lonely.info"};
  for (size_t i = 0; i < 5; i++) add(e, names[i], drop);
  const char *users[] = {"u1", "u2", "u3"};
  for (size_t i = 0; i < 3; i++) {
    char key[32];
    snprintf(key, sizeof key, "%s-fund", users[i]);
    account(e, users[i], "HANDLE-1");
    fund(e, users[i], "100", key);
  }
  /* Each name can be backordered by one customer only: the first to place and pay. */
  uint64_t first = place(e, "u1", "prerelease.info");
  uint64_t second = place(e, "u2", "prerelease.info");
  EXPECT_FIELD(e, "u1", first, "status", "PENDING-PAYMENT");
  EXPECT_FIELD(e, "u2", second, "status", "PENDING-PAYMENT");
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "u1", first, NULL, &doc));
  bo_string_free(doc);
  EXPECT_FIELD(e, "u1", first, "status", "BACKORDERED");
  EXPECT_BALANCE(e, "u1", "100", "39", "61");
  EXPECT_FIELD(e, "u2", second, "status", "CANCELLED");
  doc = NULL;
  EXPECT(BO_NAME_ALREADY_BACKORDERED,
         bo_engine_place_backorder(e, "{\"account\":\"u3\",\"domain\":\"prerelease.info\"}", &doc));
  /* No cancellation once paid. */
  EXPECT(BO_CANCELLATION_NOT_ALLOWED, bo_engine_cancel_backorder(e, "u1", first, NULL, &doc));

  /* Not caught: refunded to the original payment method when the account owes nothing... */
  uint64_t gone = place(e, "u2", "gone.info");
  EXPECT(BO_OK, bo_engine_pay(e, "u2", gone, NULL, &doc));
  bo_string_free(doc);
  /* ...and to the balance when it owes the registrar money. */
  uint64_t owed = place(e, "u3", "owed.info");
  doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "u3", owed, NULL, &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_set_outstanding(e, "u3", "10", &doc));
  bo_string_free(doc);
  /* A name that turned premium by registration time fails. */
  uint64_t turned = place(e, "u3", "turned.info");
  doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "u3", turned, NULL, &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_NAME_ALREADY_BACKORDERED,
         bo_engine_place_backorder(e, "{\"account\":\"u2\",\"domain\":\"turned.info\"}", &doc));
  /* An order never paid expires at the finalization date. */
  uint64_t unpaid = place(e, "u2", "lonely.info");

  at(e, drop - 3 * HOUR);
  EXPECT_FIELD(e, "u2", unpaid, "status", "EXPIRED");
  at(e, drop);
  EXPECT_FIELD(e, "u1", first, "status", "SUCCESSFUL");
  EXPECT_FIELD(e, "u1", first, "registered_until", "2027-03-05T00:00:00Z");
  EXPECT_BALANCE(e, "u1", "61", "0", "61");
  EXPECT_FIELD(e, "u2", gone, "status", "FAILED");
  CHECK(events_of(e, gone, "refunded") == 1, "gone.info refunded");
  /* The 39 left the balance for the payment method. */
  EXPECT_BALANCE(e, "u2", "61", "0", "61");
  doc = NULL;
  EXPECT(BO_OK, bo_engine_statement(e, "u2", 0, 100, &doc));
  CHECK(doc != NULL && strstr(doc, "\"PAYOUT\"") != NULL, "u2's payout: %s", doc);
  bo_string_free(doc);
  CHECK(events_of(e, owed, "refunded") == 1, "owed.info refunded");
  EXPECT_FIELD(e, "u3", turned, "status", "FAILED");
  /* u3: both refunds went back to the balance (it owes money). */
  EXPECT_BALANCE(e, "u3", "100", "0", "100");
  expect_audit_clean(e);
  bo_engine_free(e);
}

int main(void) {
  hexonet_five_steps();
  alibaba_pre_release();
  return finish("C ABI seed flows (HEXONET five steps, Alibaba pre-release)");
}
