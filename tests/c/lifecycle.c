/*
 * The C ABI end to end: a HEXONET-style life cycle with an auction (two customers on one name,
 * one alone on another, a name lost to a competitor), then every kind of bad call: NULL
 * arguments, text that is not UTF-8, malformed JSON and amounts, refused requests. Each bad
 * call must answer its status and message and leave the state as it was.
 *
 * Built by scripts/c-tests with -Wall -Wextra -Werror -fsanitize=address,undefined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backorder.h"
#include "check.h"

#define DROP (START + 5 * 24 * HOUR + 19 * HOUR) /* the names' deletion time */

/* A backorder's status, e.g. "AUCTION-PENDING". */
static void status_of(bo_engine *e, const char *account, uint64_t id, char *status, size_t size) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_backorder(e, account, id, &doc));
  field(doc ? doc : "", "status", status, size);
  bo_string_free(doc);
}

static void expect_status(bo_engine *e, const char *account, uint64_t id, const char *want) {
  char got[32];
  status_of(e, account, id, got, sizeof got);
  CHECK(strcmp(got, want) == 0, "backorder %llu of %s is %s, want %s", (unsigned long long)id,
        account, got, want);
}

static uint64_t place(bo_engine *e, const char *account, const char *domain) {
  char request[256], id[32];
  char *doc = NULL;
  snprintf(request, sizeof request, "{\"account\":\"%s\",\"domain\":\"%s\"}", account, domain);
  EXPECT(BO_OK, bo_engine_place_backorder(e, request, &doc));
  field(doc ? doc : "", "id", id, sizeof id);
  bo_string_free(doc);
  return strtoull(id, NULL, 10);
}

/* The account's balance JSON fields. */
static void balance(bo_engine *e, const char *account, char *bal, char *reserved, size_t size) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_balance(e, account, &doc));
  field(doc ? doc : "", "balance", bal, size);
  field(doc ? doc : "", "reserved", reserved, size);
  bo_string_free(doc);
}

/* Moves the clock to `t` and runs the time-driven work. */
static void at(bo_engine *e, int64_t t) {
  char *report = NULL;
  EXPECT(BO_OK, bo_engine_set_time(e, t));
  EXPECT(BO_OK, bo_engine_tick(e, &report));
  CHECK(report != NULL && strstr(report, "\"errors\":[]") != NULL, "tick: %s", report);
  bo_string_free(report);
}

/* Moves the clock to the next wake-up and ticks; false when nothing waits. */
static int advance(bo_engine *e) {
  int64_t next = 0;
  bool has = false;
  EXPECT(BO_OK, bo_engine_next_wake(e, &next, &has));
  if (!has) return 0;
  int64_t now = 0;
  EXPECT(BO_OK, bo_engine_now(e, &now));
  at(e, next > now ? next : now);
  return 1;
}

static void life_cycle(void) {
  bo_engine *e = NULL;
  EXPECT(BO_OK, bo_engine_open_simulated(
                    "memory:",
                    "{\"start_unix_ms\":1772409600000,\"seed\":1,\"outcomes\":{"
                    "\"solo.com\":{\"outcome\":\"CAUGHT\"},"
                    "\"contest.com\":{\"outcome\":\"CAUGHT\"},"
                    "\"miss.com\":{\"outcome\":\"TAKEN\"}}}",
                    &e));
  if (e == NULL) return;
  CHECK(bo_last_error_status() == BO_OK, "a success clears the last error");

  const char *names[] = {"solo.com", "contest.com", "miss.com"};
  for (size_t i = 0; i < 3; i++) {
    char *entry = NULL;
    EXPECT(BO_OK, bo_engine_add_pending_deletion(e, names[i], DROP, &entry));
    bo_string_free(entry);
  }
  const char *accounts[] = {"alice", "carol"};
  for (size_t i = 0; i < 2; i++) {
    char json[256], *doc = NULL;
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"currency\":\"USD\",\"contacts\":{\"owner\":\"H-%s\","
             "\"admin\":\"H-%s\",\"tech\":\"H-%s\",\"billing\":\"H-%s\"}}",
             accounts[i], accounts[i], accounts[i], accounts[i], accounts[i]);
    EXPECT(BO_OK, bo_engine_create_account(e, json, &doc));
    bo_string_free(doc);
  }
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_fund(e, "alice", "500", "alice-1", &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_fund(e, "carol", "300.00", "carol-1", &doc));
  bo_string_free(doc);

  uint64_t solo = place(e, "alice", "solo.com");
  uint64_t miss = place(e, "alice", "miss.com");
  uint64_t a_contest = place(e, "alice", "contest.com");
  uint64_t c_contest = place(e, "carol", "contest.com");
  expect_status(e, "alice", solo, "REQUESTED");

  /* The deposit window opens 72 h before the drop: 49 USD reserved per backorder. */
  at(e, DROP - 72 * HOUR);
  expect_status(e, "alice", solo, "ACTIVE");
  expect_status(e, "carol", c_contest, "ACTIVE");
  char bal[32], reserved[32];
  balance(e, "alice", bal, reserved, sizeof bal);
  CHECK(same_amount(bal, "500") && same_amount(reserved, "147"), "alice %s / %s", bal, reserved);

  /* The drop: solo caught for its one backorderer, miss lost, contest to auction. */
  at(e, DROP);
  expect_status(e, "alice", solo, "SUCCESSFUL");
  expect_status(e, "alice", miss, "FAILED");
  expect_status(e, "alice", a_contest, "AUCTION-PENDING");
  expect_status(e, "carol", c_contest, "AUCTION-PENDING");

  /* Bid when the auction opens: alice up to 120, carol up to 100. */
  bo_status s = BO_AUCTION_NOT_OPEN;
  for (int i = 0; i < 10 && s == BO_AUCTION_NOT_OPEN; i++) {
    char *view = NULL;
    s = bo_engine_bid(e, "alice", a_contest, "120", NULL, &view);
    bo_string_free(view);
    if (s == BO_AUCTION_NOT_OPEN) advance(e);
  }
  EXPECT(BO_OK, s);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_bid(e, "carol", c_contest, "100", NULL, &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_BID_TOO_LOW, bo_engine_bid(e, "carol", c_contest, "1", NULL, &doc));
  CHECK(doc == NULL, "a refused call writes no output");

  /* Through the close: carol loses (released), alice owes the price. */
  char status[32] = "";
  for (int i = 0; i < 10; i++) {
    status_of(e, "carol", c_contest, status, sizeof status);
    if (strcmp(status, "AUCTION-LOST") == 0) break;
    if (!advance(e)) break;
  }
  CHECK(strcmp(status, "AUCTION-LOST") == 0, "carol is %s", status);
  balance(e, "carol", bal, reserved, sizeof bal);
  CHECK(same_amount(bal, "300") && same_amount(reserved, "0"), "carol %s / %s", bal, reserved);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_pay(e, "alice", a_contest, NULL, &doc));
  bo_string_free(doc);
  expect_status(e, "alice", a_contest, "AUCTION-WON");

  expect_audit_clean(e);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_events(e, 0, 1000, &doc));
  CHECK(doc != NULL && strstr(doc, "\"status_changed\"") != NULL, "events: %.200s", doc);
  bo_string_free(doc);
  bo_engine_free(e);
}

static void bad_calls(void) {
  bo_engine *e = NULL;
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_open(NULL, &e));
  CHECK(strstr(bo_last_error_message(), "url is NULL") != NULL, "message");
  CHECK(e == NULL, "no handle from a failed open");
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_open("ftp://nowhere", &e));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_open("memory:", NULL));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_open_simulated("memory:", "{\"seed\":1}", &e));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_open_simulated("memory:", "not json", &e));
  CHECK(e == NULL, "no handle from a failed open");

  /* An engine on the system clock refuses to have its time set. */
  EXPECT(BO_OK, bo_engine_open("memory:", &e));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_set_time(e, START));
  bo_engine_free(e);

  EXPECT(BO_OK, bo_engine_open_simulated("memory:", "{\"start_unix_ms\":1772409600000}", &e));
  if (e == NULL) return;
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_create_account(e, "{\"id\":\"ann\",\"currency\":\"USD\"}", &doc));
  bo_string_free(doc);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_fund(e, "ann", "100", "f1", &doc));
  bo_string_free(doc);

  char *out = NULL;
  /* NULL everywhere a pointer is taken. */
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_balance(NULL, "ann", &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_balance(e, NULL, &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_balance(e, "ann", NULL));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_fund(e, "ann", NULL, "f2", &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_fund(e, "ann", "5", NULL, &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_place_backorder(e, NULL, &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_tick(NULL, &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_next_wake(e, NULL, NULL));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_import_pending_list(e, NULL, 10, NULL, &out));
  /* Text that is not UTF-8. */
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_balance(e, "\xff\xfe", &out));
  CHECK(strstr(bo_last_error_message(), "not UTF-8") != NULL, "message");
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_place_backorder(e, "{\"account\":\"ann\",\"domain\":\"\xc3\"}", &out));
  /* Malformed JSON and records. */
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_create_account(e, "{\"id\":", &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_place_backorder(e, "{\"domain\":\"a.com\"}", &out));
  /* (a record that does not decode is INVALID_ARGUMENT; the message names the field) */
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_create_account(e, "{\"id\":\"bob\",\"currency\":\"US\"}", &out));
  CHECK(strstr(bo_last_error_message(), "invalid currency code") != NULL, "message");
  /* Amounts: text, never floats; positive. */
  EXPECT(BO_INVALID_AMOUNT, bo_engine_fund(e, "ann", "ten", "f3", &out));
  EXPECT(BO_INVALID_AMOUNT, bo_engine_fund(e, "ann", "1e3", "f4", &out));
  EXPECT(BO_INVALID_AMOUNT, bo_engine_fund(e, "ann", "-5", "f5", &out));
  /* The engine's own refusals. */
  EXPECT(BO_ACCOUNT_EXISTS, bo_engine_create_account(e, "{\"id\":\"ann\",\"currency\":\"USD\"}", &out));
  EXPECT(BO_ACCOUNT_NOT_FOUND, bo_engine_balance(e, "nobody", &out));
  EXPECT(BO_INVALID_DOMAIN_NAME, bo_engine_place_backorder(e, "{\"account\":\"ann\",\"domain\":\"-bad-.com\"}", &out));
  EXPECT(BO_UNKNOWN_TLD, bo_engine_place_backorder(e, "{\"account\":\"ann\",\"domain\":\"name.notazone\"}", &out));
  EXPECT(BO_BACKORDER_NOT_FOUND, bo_engine_backorder(e, "ann", 42, &out));
  EXPECT(BO_IDEMPOTENCY_CONFLICT, bo_engine_fund(e, "ann", "7", "f1", &out));
  EXPECT(BO_INVALID_ARGUMENT, bo_engine_set_time(e, START - 1));
  CHECK(out == NULL, "no refused call wrote output");
  CHECK(strcmp(bo_status_name(bo_last_error_status()), "INVALID_ARGUMENT") == 0, "status name");

  /* None of it changed anything. */
  char bal[32], reserved[32];
  balance(e, "ann", bal, reserved, sizeof bal);
  CHECK(same_amount(bal, "100") && same_amount(reserved, "0"), "ann %s / %s", bal, reserved);
  doc = NULL;
  EXPECT(BO_OK, bo_engine_backorders(e, "ann", &doc));
  CHECK(doc != NULL && strcmp(doc, "[]") == 0, "ann's backorders: %s", doc);
  bo_string_free(doc);
  expect_audit_clean(e);

  bo_engine_free(e);
  bo_engine_free(NULL);
  bo_string_free(NULL);
}

int main(void) {
  char macro_version[32];
  snprintf(macro_version, sizeof macro_version, "%d.%d.%d", BO_VERSION_MAJOR, BO_VERSION_MINOR,
           BO_VERSION_PATCH);
  CHECK(strcmp(bo_version(), macro_version) == 0, "bo_version() %s, macros %s", bo_version(),
        macro_version);
  life_cycle();
  bad_calls();
  return finish("C ABI life cycle and bad calls");
}
