//! Backorder records as JSON text, written directly: byte for byte what `serde_json` writes for
//! them, in a fifth of the time. A backorder is what the bindings hand back on every place,
//! cancel, pay and read; through serde most of that time went to escaping field names and to
//! chrono writing each timestamp one character at a time. A property test holds the two
//! encodings equal, so a field added to [`Backorder`] fails it until it is written here too.
//!
//! ```
//! use backorder::{full_contacts, Currency, Engine, ManualClock, NewAccount, PlaceBackorder};
//! let engine = Engine::builder()
//!     .clock(ManualClock::new("2026-03-02T00:00:00Z".parse().unwrap()))
//!     .build()
//!     .unwrap();
//! engine.create_account(NewAccount { id: "ann".into(), currency: Currency::USD, contacts: full_contacts("H-1") }).unwrap();
//! let placed = engine.place_backorder(PlaceBackorder { account: "ann".into(), domain: "john.com".into(), ..Default::default() }).unwrap();
//! let mut text = Vec::new();
//! backorder::json::write_backorder(&mut text, &placed);
//! assert_eq!(text, serde_json::to_vec(&placed).unwrap());
//! ```

use backorder_core::{Backorder, Contacts, HistoryEntry, Key, Money};
use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

/// Appends `b` as JSON to `out`.
pub fn write_backorder(out: &mut Vec<u8>, b: &Backorder) {
    out.extend_from_slice(b"{\"id\":");
    write_u64(out, b.id);
    out.extend_from_slice(b",\"account\":");
    write_str(out, &b.account);
    out.extend_from_slice(b",\"domain\":");
    write_str(out, b.domain.as_str());
    out.extend_from_slice(b",\"model\":");
    write_serde(out, &b.model);
    out.extend_from_slice(b",\"status\":");
    write_str(out, b.status.as_str());
    out.extend_from_slice(b",\"lite\":");
    write_bool(out, b.lite);
    out.extend_from_slice(b",\"contacts\":");
    write_contacts(out, &b.contacts);
    out.extend_from_slice(b",\"price\":");
    write_money(out, &b.price);
    out.extend_from_slice(b",\"drop_at\":");
    write_option(out, &b.drop_at, write_time);
    out.extend_from_slice(b",\"finalization_at\":");
    write_option(out, &b.finalization_at, write_time);
    out.extend_from_slice(b",\"deposit_opens_at\":");
    write_option(out, &b.deposit_opens_at, write_time);
    out.extend_from_slice(b",\"deposit_deadline_at\":");
    write_option(out, &b.deposit_deadline_at, write_time);
    out.extend_from_slice(b",\"deposit_retry_secs\":");
    write_i64(out, b.deposit_retry_secs);
    out.extend_from_slice(b",\"created_at\":");
    write_time(out, &b.created_at);
    out.extend_from_slice(b",\"updated_at\":");
    write_time(out, &b.updated_at);
    out.extend_from_slice(b",\"reservation\":");
    write_option(out, &b.reservation, |out, n| write_u64(out, *n));
    out.extend_from_slice(b",\"low_balance_notified\":");
    write_bool(out, b.low_balance_notified);
    out.extend_from_slice(b",\"auction\":");
    write_option(out, &b.auction, |out, n| write_u64(out, *n));
    out.extend_from_slice(b",\"amount_due\":");
    write_option(out, &b.amount_due, write_decimal);
    out.extend_from_slice(b",\"pay_by\":");
    write_option(out, &b.pay_by, write_time);
    out.extend_from_slice(b",\"paid\":");
    write_decimal(out, &b.paid);
    out.extend_from_slice(b",\"auth_code\":");
    write_option(out, &b.auth_code, |out, s| write_str(out, s.expose()));
    out.extend_from_slice(b",\"registered_until\":");
    write_option(out, &b.registered_until, write_time);
    out.extend_from_slice(b",\"history\":[");
    for (i, h) in b.history.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_history_entry(out, h);
    }
    out.extend_from_slice(b"]}");
}

/// Appends `list` as a JSON array of backorders to `out`.
pub fn write_backorders(out: &mut Vec<u8>, list: &[Backorder]) {
    out.push(b'[');
    for (i, b) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_backorder(out, b);
    }
    out.push(b']');
}

fn write_history_entry(out: &mut Vec<u8>, h: &HistoryEntry) {
    out.extend_from_slice(b"{\"at\":");
    write_time(out, &h.at);
    out.extend_from_slice(b",\"from\":");
    write_option(out, &h.from, |out, s| write_str(out, s.as_str()));
    out.extend_from_slice(b",\"to\":");
    write_str(out, h.to.as_str());
    out.extend_from_slice(b",\"reason\":");
    write_str(out, h.reason.as_str());
    out.push(b'}');
}

fn write_contacts(out: &mut Vec<u8>, c: &Contacts) {
    let key = |out: &mut Vec<u8>, k: &Key| write_str(out, k);
    out.extend_from_slice(b"{\"owner\":");
    write_option(out, &c.owner, key);
    out.extend_from_slice(b",\"admin\":");
    write_option(out, &c.admin, key);
    out.extend_from_slice(b",\"tech\":");
    write_option(out, &c.tech, key);
    out.extend_from_slice(b",\"billing\":");
    write_option(out, &c.billing, key);
    out.push(b'}');
}

fn write_money(out: &mut Vec<u8>, m: &Money) {
    out.extend_from_slice(b"{\"amount\":");
    write_decimal(out, &m.amount);
    out.extend_from_slice(b",\"currency\":");
    write_str(out, m.currency.as_str());
    out.push(b'}');
}

fn write_option<T>(out: &mut Vec<u8>, value: &Option<T>, write: impl Fn(&mut Vec<u8>, &T)) {
    match value {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn write_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    write_u64(out, n.unsigned_abs());
}

/// A string: copied as it is unless it holds a character JSON escapes (a control character, a
/// quote or a backslash), which serde_json then writes.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        write_serde(out, s);
    }
}

/// An amount as serde writes it (a string; the exact text is rust_decimal's).
fn write_decimal(out: &mut Vec<u8>, d: &Decimal) {
    write_serde(out, d);
}

fn write_serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing to a Vec cannot fail, and these values (strings, amounts, unit enums) always encode.
    serde_json::to_writer(out, value).expect("a string, amount or enum encodes");
}

/// A time as chrono's serde writes it (RFC 3339, `Z`, fractions of a second in 0, 3, 6 or 9
/// digits as needed), for years 0 to 9999 without a leap second; any other time through chrono.
fn write_time(out: &mut Vec<u8>, time: &DateTime<Utc>) {
    // Read from the naive time once: each of DateTime's own accessors applies the offset again.
    let at = time.naive_utc();
    let year = at.year();
    let nano = at.nanosecond();
    if !(0..=9999).contains(&year) || nano >= 1_000_000_000 {
        write_serde(out, time);
        return;
    }
    let two = |n: u32| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let mut text = [0u8; 32];
    let [y0, y1] = two(year as u32 / 100);
    let [y2, y3] = two(year as u32 % 100);
    let [m0, m1] = two(at.month());
    let [d0, d1] = two(at.day());
    let [h0, h1] = two(at.hour());
    let [i0, i1] = two(at.minute());
    let [s0, s1] = two(at.second());
    text[..20].copy_from_slice(&[
        b'"', y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1,
    ]);
    let mut len = 20;
    let (fraction, digits) = if nano == 0 {
        (0, 0)
    } else if nano % 1_000_000 == 0 {
        (nano / 1_000_000, 3)
    } else if nano % 1_000 == 0 {
        (nano / 1_000, 6)
    } else {
        (nano, 9)
    };
    if digits > 0 {
        text[len] = b'.';
        let mut rest = fraction;
        for i in (0..digits).rev() {
            text[len + 1 + i] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        len += 1 + digits;
    }
    text[len] = b'Z';
    text[len + 1] = b'"';
    out.extend_from_slice(&text[..len + 2]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use backorder_core::{AllocationModel, Currency, DomainName, Reason, Secret, Status};
    use proptest::prelude::*;

    fn time() -> impl Strategy<Value = DateTime<Utc>> {
        // Years -300 000 to 300 000, with and without fractions and leap seconds.
        (
            -9_500_000_000_000i64..9_400_000_000_000,
            prop_oneof![
                Just(0u32),
                (0u32..1000).prop_map(|ms| ms * 1_000_000),
                (0u32..1_000_000).prop_map(|us| us * 1000),
                0u32..2_000_000_000,
            ],
        )
            .prop_filter_map("a valid time", |(secs, nanos)| {
                DateTime::from_timestamp(secs, nanos)
            })
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9_.-]{0,12}",
            any::<String>(),
            "[\"\\\\\u{0}-\u{1f}é€😀]{0,6}"
        ]
    }

    fn key() -> impl Strategy<Value = Key> {
        text().prop_map(|s| Key::from(s.as_str()))
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (any::<i64>(), 0u32..=28).prop_map(|(m, scale)| Decimal::new(m, scale))
    }

    fn status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    fn history() -> impl Strategy<Value = Vec<HistoryEntry>> {
        proptest::collection::vec(
            (
                time(),
                proptest::option::of(status()),
                status(),
                proptest::sample::select(Reason::ALL.to_vec()),
            )
                .prop_map(|(at, from, to, reason)| HistoryEntry {
                    at,
                    from,
                    to,
                    reason,
                }),
            0..8,
        )
    }

    fn contacts() -> impl Strategy<Value = Contacts> {
        proptest::array::uniform4(proptest::option::of(key())).prop_map(
            |[owner, admin, tech, billing]| Contacts {
                owner,
                admin,
                tech,
                billing,
            },
        )
    }

    fn domain() -> impl Strategy<Value = DomainName> {
        prop_oneof!["[a-z0-9]{1,20}\\.(com|net|de)", "münchen[0-9]{0,3}\\.de"]
            .prop_map(|s| DomainName::parse(&s).expect("a valid name"))
    }

    prop_compose! {
        fn backorder()(
            (id, account, domain, model, status, lite) in (
                any::<u64>(), key(), domain(),
                prop_oneof![Just(AllocationModel::Auction), Just(AllocationModel::Exclusive)],
                status(), any::<bool>(),
            ),
            (contacts, price, currency) in (contacts(), decimal(), "[A-Z]{3}"),
            times in proptest::array::uniform4(proptest::option::of(time())),
            (retry, created_at, updated_at) in (any::<i64>(), time(), time()),
            (reservation, notified, auction) in (any::<Option<u64>>(), any::<bool>(), any::<Option<u64>>()),
            (amount_due, pay_by, paid) in (proptest::option::of(decimal()), proptest::option::of(time()), decimal()),
            (auth_code, registered_until) in (proptest::option::of(text()), proptest::option::of(time())),
            history in history(),
        ) -> Backorder {
            let [drop_at, finalization_at, deposit_opens_at, deposit_deadline_at] = times;
            Backorder {
                id, account, domain, model, status, lite, contacts,
                price: Money { amount: price, currency: currency.parse::<Currency>().expect("three letters") },
                drop_at, finalization_at, deposit_opens_at, deposit_deadline_at,
                deposit_retry_secs: retry, created_at, updated_at,
                reservation, low_balance_notified: notified, auction, amount_due, pay_by, paid,
                auth_code: auth_code.map(Secret::new), registered_until,
                history: history.into_iter().collect(),
            }
        }
    }

    proptest! {
        #[test]
        fn a_backorder_is_written_as_serde_writes_it(b in backorder()) {
            let mut ours = Vec::new();
            write_backorder(&mut ours, &b);
            prop_assert_eq!(
                String::from_utf8(ours).expect("UTF-8"),
                serde_json::to_string(&b).expect("encodes")
            );
        }

        #[test]
        fn a_list_of_backorders_is_written_as_serde_writes_it(list in proptest::collection::vec(backorder(), 0..4)) {
            let mut ours = Vec::new();
            write_backorders(&mut ours, &list);
            prop_assert_eq!(ours, serde_json::to_vec(&list).expect("encodes"));
        }

        #[test]
        fn a_time_is_written_as_chrono_writes_it(at in time()) {
            let mut ours = Vec::new();
            write_time(&mut ours, &at);
            prop_assert_eq!(String::from_utf8(ours).expect("UTF-8"), serde_json::to_string(&at).expect("encodes"));
        }
    }
}
