/*
 * What placing a backorder costs through the C ABI, to set against the same placements made
 * from Rust directly (`cargo run --release --example place_overhead`): the difference is the
 * C ABI's own cost per call (checking and decoding the request JSON, encoding the backorder as
 * JSON, the status and last-error bookkeeping).
 *
 * Both programs do the same work: ROUNDS rounds, each on a fresh in-memory engine with ACCOUNTS
 * funded customers, placing CALLS backorders (customer i % ACCOUNTS, name i), and print the
 * median nanoseconds per placement. scripts/bench-bindings builds and runs both, alternated.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backorder.h"

enum { ROUNDS = 7, ACCOUNTS = 1000, CALLS = 100000 };

static void must(bo_status s, const char *what) {
  if (s != BO_OK) {
    fprintf(stderr, "%s: %s: %s\n", what, bo_status_name(s), bo_last_error_message());
    exit(1);
  }
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double round_ns_per_call(void) {
  bo_engine *e = NULL;
  char *json = NULL, request[160];
  must(bo_engine_open_simulated("memory:", "{\"start_unix_ms\":1772409600000}", &e), "open");
  for (int i = 0; i < ACCOUNTS; i++) {
    snprintf(request, sizeof request,
             "{\"id\":\"c%04d\",\"currency\":\"USD\",\"contacts\":{\"owner\":\"H-1\",\"admin\":"
             "\"H-1\",\"tech\":\"H-1\",\"billing\":\"H-1\"}}", i);
    must(bo_engine_create_account(e, request, &json), "create_account");
    bo_string_free(json);
    snprintf(request, sizeof request, "c%04d", i);
    must(bo_engine_fund(e, request, "1000", "top-up", &json), "fund");
    bo_string_free(json);
  }
  double start = now_ns();
  for (int i = 0; i < CALLS; i++) {
    snprintf(request, sizeof request, "{\"account\":\"c%04d\",\"domain\":\"name%d.com\"}",
             i % ACCOUNTS, i);
    must(bo_engine_place_backorder(e, request, &json), "place_backorder");
    bo_string_free(json);
  }
  double per_call = (now_ns() - start) / CALLS;
  bo_engine_free(e);
  return per_call;
}

int main(void) {
  double rounds[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) rounds[r] = round_ns_per_call();
  qsort(rounds, ROUNDS, sizeof rounds[0], by_value);
  printf("C ABI: place_backorder %.0f ns per call (median of %d rounds of %d; %.0f-%.0f)\n",
         rounds[ROUNDS / 2], ROUNDS, CALLS, rounds[0], rounds[ROUNDS - 1]);
  return 0;
}
