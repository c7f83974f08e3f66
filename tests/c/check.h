/* What the C tests share: checks that count failures, and reading fields of JSON results. */
#ifndef BACKORDER_TEST_CHECK_H
#define BACKORDER_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backorder.h"

static const int64_t START = 1772409600000; /* 2026-03-02T00:00:00Z */
static const int64_t HOUR = 3600 * 1000;

static int failures = 0;

#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                       \
      fprintf(stderr, " (last error: %s)\n", bo_last_error_message());    \
      failures++;                                                         \
    }                                                                     \
  } while (0)

/* Expects `call` to answer `want`; prints the message when it does not. */
#define EXPECT(want, call)                                                        \
  do {                                                                            \
    bo_status got_ = (call);                                                      \
    CHECK(got_ == (want), "%s: got %s, want %s", #call, bo_status_name(got_),     \
          bo_status_name(want));                                                  \
  } while (0)


/* The value of "key": in a JSON document, as text (number, or string without its quotes). */
static inline void field(const char *doc, const char *key, char *value, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char *p = strstr(doc, pattern);
  value[0] = '\0';
  if (p == NULL) return;
  p += strlen(pattern);
  if (*p == '"') p++;
  size_t n = 0;
  while (p[n] != '\0' && p[n] != '"' && p[n] != ',' && p[n] != '}' && n + 1 < size) n++;
  memcpy(value, p, n);
  value[n] = '\0';
}

/* True when two decimal texts are the same amount ("147" and "147.00"). */
static inline int same_amount(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (strchr(a, '.')) { while (la > 0 && a[la - 1] == '0') la--; if (la > 0 && a[la - 1] == '.') la--; }
  if (strchr(b, '.')) { while (lb > 0 && b[lb - 1] == '0') lb--; if (lb > 0 && b[lb - 1] == '.') lb--; }
  return la == lb && strncmp(a, b, la) == 0;
}

/* The engine's audit finds nothing wrong. */
static inline void expect_audit_clean(bo_engine *e) {
  char *doc = NULL;
  EXPECT(BO_OK, bo_engine_audit(e, &doc));
  CHECK(doc != NULL && strstr(doc, "\"problems\":[]") != NULL, "audit: %s", doc);
  bo_string_free(doc);
}

/* Ends a test program: 0 when every check held. */
static inline int finish(const char *what) {
  if (failures > 0) {
    fprintf(stderr, "%s: %d checks failed\n", what, failures);
    return 1;
  }
  printf("%s: all checks passed\n", what);
  return 0;
}

#endif
