/*
 * libbackorder from C in one page: a customer backorders a name about to be deleted, the
 * deposit is secured 72 hours before the drop, the name is caught and the deposit captured.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs backorder) -o quickstart && ./quickstart
 *
 * (scripts/c-tests builds and runs it against a staged copy of the library.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "backorder.h"

/* Stops with the library's message when a call fails. */
static void must(bo_status status, const char *what) {
  if (status != BO_OK) {
    fprintf(stderr, "%s failed: %s: %s\n", what, bo_status_name(status), bo_last_error_message());
    exit(1);
  }
}

/* Prints a JSON result and frees it. */
static void show(const char *label, char *json) {
  printf("%s: %s\n", label, json);
  bo_string_free(json);
}

int main(void) {
  const int64_t hour = 3600 * 1000;
  const int64_t start = 1772409600000; /* 2026-03-02T00:00:00Z */
  const int64_t drop = start + 5 * 24 * hour;
  char *json = NULL;

  /* A simulated engine: in memory, its clock moved by hand, the registry catching the name. */
  bo_engine *engine = NULL;
  must(bo_engine_open_simulated("memory:",
                                "{\"start_unix_ms\":1772409600000,"
                                "\"outcomes\":{\"example.com\":{\"outcome\":\"CAUGHT\"}}}",
                                &engine),
       "open");

  must(bo_engine_create_account(engine,
                                "{\"id\":\"reseller-1\",\"currency\":\"USD\",\"contacts\":"
                                "{\"owner\":\"RS-1\",\"admin\":\"RS-1\",\"tech\":\"RS-1\","
                                "\"billing\":\"RS-1\"}}",
                                &json),
       "create_account");
  bo_string_free(json);
  must(bo_engine_fund(engine, "reseller-1", "100.00", "top-up-1", &json), "fund");
  bo_string_free(json);
  must(bo_engine_add_pending_deletion(engine, "example.com", drop, &json), "add_pending_deletion");
  bo_string_free(json);

  must(bo_engine_place_backorder(engine, "{\"account\":\"reseller-1\",\"domain\":\"example.com\"}",
                                 &json),
       "place_backorder");
  show("placed", json);

  /* 72 hours before the drop the deposit is reserved; at the drop the name is caught. */
  must(bo_engine_set_time(engine, drop - 72 * hour), "set_time");
  must(bo_engine_tick(engine, &json), "tick");
  bo_string_free(json);
  must(bo_engine_set_time(engine, drop), "set_time");
  must(bo_engine_tick(engine, &json), "tick");
  show("tick at the drop", json);

  must(bo_engine_backorder(engine, "reseller-1", 1, &json), "backorder");
  show("backorder", json);
  must(bo_engine_balance(engine, "reseller-1", &json), "balance");
  show("balance", json);

  /* A refused request: the status and the message say why, and nothing changed. */
  bo_status s = bo_engine_fund(engine, "reseller-1", "-5", "bad-1", &json);
  printf("funding -5: %s (%s)\n", bo_status_name(s), bo_last_error_message());

  bo_engine_free(engine);
  return 0;
}
