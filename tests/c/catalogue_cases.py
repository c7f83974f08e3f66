#!/usr/bin/env python3
"""Writes the bad-input catalogue (tests/bad_input/engine_calls.json) as a C header, so that
tests/c/bad_input_catalogue.c runs the very cases Rust, Python and Node run, through the C ABI.

Each call becomes the arguments of its C function: JSON objects stay JSON text, amounts stay
decimal text, times become Unix milliseconds, a missing idempotency key becomes NULL. A case C
cannot express at all (a float where the C function takes text, a negative id where it takes
uint64_t, a call with no C function) is listed in CATALOGUE_SKIPPED with the reason, not dropped
silently.

Usage: tests/c/catalogue_cases.py CATALOGUE.json > catalogue_cases.h   (scripts/c-tests does it)
"""

import json
import sys
from datetime import datetime, timezone

# Every call the catalogue's setup, snapshot and cases use, with the C arguments it takes.
OPS = {
    "create_account": ("json:account",),
    "fund": ("account", "amount:amount", "key:idempotency_key"),
    "set_contacts": ("account", "json:contacts"),
    "set_outstanding": ("account", "amount:amount"),
    "place_backorder": ("json:request",),
    "backorder": ("account", "id"),
    "cancel_backorder": ("account", "id", "key:idempotency_key"),
    "modify_backorder": ("account", "id", "json:contacts"),
    "pay": ("account", "id", "key:idempotency_key"),
    "bid": ("account", "id", "amount:max", "key:idempotency_key"),
    "add_pending_deletion": ("domain", "time:drop_at"),
    "pending_deletion": ("domain",),
    "search_pending": ("json:query",),
    "subscribe_alerts": ("json:request",),
    "alert_subscriptions": ("account",),
    "statement": ("account", "after", "limit"),
    "events": ("after", "limit"),
    "balance": ("account",),
    "backorders": ("account",),
    "account": ("account",),
    "set_time": ("time:at",),
    "status_counts": (),
    "policies": (),
    "next_wake": (),
    "now": (),
}


class Skip(Exception):
    """C cannot make this call: the reason."""


def c_string(value):
    if value is None:
        return "NULL"
    out = []
    for byte in value.encode("utf-8"):
        ch = chr(byte)
        # Octal escapes for all but plain ASCII; '?' too, so no trigraph can form.
        if 0x20 <= byte < 0x7F and ch not in '"\\?':
            out.append(ch)
        else:
            out.append("\\%03o" % byte)
    return '"' + "".join(out) + '"'


def unix_ms(text):
    if not isinstance(text, str):
        raise Skip("the C function takes Unix milliseconds, not this value")
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Skip(f"{text!r} is no time: the C function takes Unix milliseconds (an integer)")
    if t.tzinfo is None:
        raise Skip(f"{text!r} has no zone: its Unix milliseconds are not known")
    # Whole milliseconds by integer arithmetic: no float rounding.
    delta = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def call(op, args, label, code=None):
    if op not in OPS:
        raise Skip(f"the C ABI has no function for '{op}': a C program calling it would not link")
    fields = {"account": None, "text": None, "key": None, "id_num": 0, "after": 0, "limit": 0, "ms": 0}
    for spec in OPS[op]:
        kind, _, name = spec.partition(":")
        name = name or kind
        value = args.get(name)
        if kind == "json":
            fields["text"] = json.dumps(value, ensure_ascii=False)
        elif kind == "amount":
            if not isinstance(value, str):
                raise Skip(f"{name} is {value!r}: the C function takes decimal text, so a float cannot be passed")
            fields["text"] = value
        elif kind in ("key", "account", "domain"):
            # Text, or NULL when missing (C's way to leave out an optional key).
            if value is not None and not isinstance(value, str):
                raise Skip(f"{name} is {value!r}: the C function takes text")
            fields["text" if kind == "domain" else kind] = value
        elif kind == "time":
            fields["ms"] = unix_ms(value)
        elif kind in ("id", "after", "limit"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise Skip(f"{name} is {value!r}: the C function takes an unsigned integer")
            fields["id_num" if kind == "id" else kind] = value
    unknown = set(args) - {(s.partition(":")[2] or s) for s in OPS[op]}
    if unknown:
        raise Skip(f"arguments the C function does not take: {sorted(unknown)}")
    return "  {%s, %s, %s, %s, %s, %dull, %dull, %du, %dll, %s}," % (
        c_string(label),
        c_string(op),
        c_string(fields["account"]),
        c_string(fields["text"]),
        c_string(fields["key"]),
        fields["id_num"],
        fields["after"],
        fields["limit"],
        fields["ms"],
        c_string(code),
    )


def main():
    catalogue = json.load(open(sys.argv[1], encoding="utf-8"))
    out = [
        "/* Generated by tests/c/catalogue_cases.py from tests/bad_input/engine_calls.json. */",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "",
        "struct catalogue_call {",
        "  const char *label, *op, *account, *text, *key;",
        "  uint64_t id, after;",
        "  uint32_t limit;",
        "  int64_t ms;",
        "  const char *code; /* the status name the call must answer; NULL in setup and snapshot */",
        "};",
        "struct catalogue_skip {",
        "  const char *label, *reason;",
        "};",
        "",
        "#define CATALOGUE_START_MS %dll" % unix_ms(catalogue["start"]),
        "",
    ]
    skipped = []

    def table(name, rows):
        out.append(f"static const struct catalogue_call {name}[] = {{")
        out.extend(rows)
        out.append("};")
        out.append(f"#define {name}_LEN (sizeof {name} / sizeof {name}[0])")
        out.append("")

    setup = [call(op, args, f"setup {i}") for i, (op, args) in enumerate(catalogue["setup"])]
    snapshot = [call(op, args, op) for op, args in catalogue["snapshot"]]
    cases = []
    for case in catalogue["cases"]:
        try:
            cases.append(call(case["op"], case["args"], case["id"], case["code"]))
        except Skip as why:
            skipped.append("  {%s, %s}," % (c_string(case["id"]), c_string(str(why))))
    table("CATALOGUE_SETUP", setup)
    table("CATALOGUE_SNAPSHOT", snapshot)
    table("CATALOGUE_CASES", cases)
    out.append("static const struct catalogue_skip CATALOGUE_SKIPPED[] = {")
    out.extend(skipped or ['  {"", ""},'])
    out.append("};")
    out.append("static const size_t CATALOGUE_SKIPPED_LEN = %d;" % len(skipped))
    print("\n".join(out))


if __name__ == "__main__":
    main()
