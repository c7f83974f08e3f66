//! Our EPP codec against the `instant-epp` crate (0.5, on `instant-xml` 0.7) for the frames of a
//! drop-catch: one round trip is
//!
//! 1. encode: build a `<domain:create>` command from plain inputs (name, one year, registrant,
//!    admin and tech contacts, auth code, clTRID) and write its whole frame as XML text — the
//!    `<?xml …?>` header, `<epp>`, `<command>`, `<create>`, `<clTRID>`; and
//! 2. decode: read the registry's success answer (`<result code="1000">` with
//!    `<domain:creData>`: name, crDate, exDate, and the `<trID>`) into typed values, checking
//!    the code says success.
//!
//! Both sides get the same inputs and read the same response document ([`RESPONSE`]); before
//! anything is timed, `check` asserts that both encoders wrote the name and auth code and that
//! both decoders read the name and both dates, so neither side can skip work. Building the
//! command is inside the timing on both sides because a client pays it per command: ours owns
//! its strings (`Create` holds `String`s), instant-epp's borrows them.
//!
//! instant-epp's own frame writer and reader (`xml::serialize`/`deserialize` and the command
//! wrapper) are private to it, so the `<epp>`/`<command>` wrappers below are written with
//! instant-xml's derives the way that crate writes them (its `xml.rs` and `request.rs`); the
//! command and response types are the crate's own.
//!
//! Groups: `epp create round trip` (encode + decode, the number the ≥ 2× target is about), and
//! `epp create encode` and `epp create decode` to show where the time goes. Each has a
//! `backorder` and an `instant-epp` function; the ratio is instant-epp's time over ours.
//!
//! ```text
//! cargo bench -p backorder --bench epp_codec
//! ```

use std::borrow::Cow;
use std::hint::black_box;

use backorder::core::epp::command::{ClientFrame, Command, Create};
use backorder::core::epp::response::{CreatedName, ResponseData, ServerFrame};
use backorder::core::epp::EPP_NS;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};

/// What a create is made of, the same for both codecs.
struct Inputs {
    name: &'static str,
    years: u8,
    registrant: &'static str,
    contacts: [(&'static str, &'static str); 2],
    auth_code: &'static str,
    cl_trid: &'static str,
}

const INPUTS: Inputs = Inputs {
    name: "example.com",
    years: 1,
    registrant: "jd1234",
    contacts: [("admin", "sh8013"), ("tech", "sh8013")],
    auth_code: "2fooBAR",
    cl_trid: "ABC-12345",
};

/// The registry's answer to the create (RFC 5731 §3.2.1's example), read by both decoders.
const RESPONSE: &str = backorder::core::epp::samples::CREATE_ANSWER;

/// `backorder-core`'s codec.
mod ours {
    use super::*;

    pub fn encode(i: &Inputs) -> String {
        let mut create = Create::new(i.name, i.auth_code);
        create.period_years = i.years;
        create.registrant = Some(i.registrant.to_owned());
        create.contacts = i
            .contacts
            .iter()
            .map(|&(role, handle)| (role.to_owned(), handle.to_owned()))
            .collect();
        ClientFrame::command(Command::Create(create), i.cl_trid).to_xml()
    }

    pub fn decode(xml: &str) -> CreatedName {
        let frame = ServerFrame::from_xml(xml.as_bytes()).expect("a response we read");
        let ServerFrame::Response(r) = frame else {
            panic!("not a response: {frame:?}")
        };
        assert_eq!(r.results.first().map(|res| res.code), Some(1000));
        match r.data {
            Some(ResponseData::Create(created)) => created,
            other => panic!("no <domain:creData>: {other:?}"),
        }
    }
}

/// `instant-epp`'s codec.
mod theirs {
    use super::*;
    use instant_epp::common::NoExtension;
    use instant_epp::domain::create::CreateData;
    use instant_epp::domain::{DomainContact, DomainCreate, Period, PeriodLength};
    use instant_epp::response::{Response, ResultCode};
    use instant_xml::{FromXml, ToXml};

    /// `<epp>` around a frame written, as instant-epp's `xml::Epp`.
    #[derive(ToXml)]
    #[xml(rename = "epp", ns(EPP_NS))]
    struct EppOut<T> {
        data: T,
    }

    /// `<command>` with its `<clTRID>`, as instant-epp's `request::CommandWrapper` without an
    /// extension.
    #[derive(ToXml)]
    #[xml(rename = "command", ns(EPP_NS))]
    struct CommandOut<T> {
        data: T,
        #[xml(rename = "clTRID")]
        cl_trid: String,
    }

    /// `<epp>` around a frame read, as instant-epp's `xml::Epp`.
    #[derive(FromXml)]
    #[xml(rename = "epp", ns(EPP_NS))]
    struct EppIn<T> {
        data: T,
    }

    pub fn encode(i: &Inputs) -> String {
        let contacts = i.contacts.map(|(role, handle)| DomainContact {
            contact_type: Cow::Borrowed(role),
            id: Cow::Borrowed(handle),
        });
        let period = Period::Years(PeriodLength::new(i.years).expect("a period"));
        let create = DomainCreate::new(
            i.name,
            period,
            None,
            Some(i.registrant),
            i.auth_code,
            Some(&contacts),
        );
        // As instant-epp's `xml::serialize(CommandWrapper::new(&create, None, cl_trid))`.
        let frame = EppOut {
            data: CommandOut {
                data: &create,
                cl_trid: i.cl_trid.into(),
            },
        };
        format!(
            "{}\r\n{}",
            instant_epp::xml::EPP_XML_HEADER,
            instant_xml::to_string(&frame).expect("a frame written")
        )
    }

    pub fn decode(xml: &str) -> CreateData {
        // As instant-epp's `xml::deserialize::<Response<CreateData, NoExtension>>`.
        let EppIn { data: response } =
            instant_xml::from_str::<EppIn<Response<CreateData, NoExtension>>>(xml)
                .expect("a response instant-epp reads");
        assert_eq!(
            response.result.code,
            ResultCode::CommandCompletedSuccessfully
        );
        response.res_data.expect("no <domain:creData>").into_inner()
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Both codecs do the whole job on these inputs before anything is timed.
fn check() {
    let ours = ours::encode(&INPUTS);
    let theirs = theirs::encode(&INPUTS);
    for (side, xml) in [("backorder", &ours), ("instant-epp", &theirs)] {
        for part in [
            INPUTS.name,
            INPUTS.registrant,
            INPUTS.auth_code,
            INPUTS.cl_trid,
            "sh8013",
        ] {
            assert!(xml.contains(part), "{side} did not write {part}: {xml}");
        }
        assert!(xml.contains("unit=\"y\">1<"), "{side}: no period: {xml}");
    }
    let ClientFrame::Command {
        command: Command::Create(read),
        transaction,
    } = ClientFrame::from_xml(ours.as_bytes()).expect("our frame reads back")
    else {
        panic!("our frame is not a create: {ours}")
    };
    assert_eq!(transaction.as_deref(), Some(INPUTS.cl_trid));
    assert_eq!(read.name, INPUTS.name);
    assert_eq!(read.period_years, INPUTS.years);
    assert_eq!(read.registrant.as_deref(), Some(INPUTS.registrant));
    assert_eq!(
        read.contacts,
        INPUTS
            .contacts
            .map(|(r, h)| (r.to_owned(), h.to_owned()))
            .to_vec()
    );
    assert_eq!(read.auth_code.expose(), INPUTS.auth_code);

    let (created, expires) = (at("1999-04-03T22:00:00Z"), at("2001-04-03T22:00:00Z"));
    let o = ours::decode(RESPONSE);
    assert_eq!(
        (o.name.as_str(), o.created_at, o.expires_at),
        ("example.com", created, Some(expires))
    );
    let t = theirs::decode(RESPONSE);
    assert_eq!(
        (t.name.as_str(), t.created_at, t.expiring_at),
        ("example.com", created, Some(expires))
    );
}

fn epp_codec(c: &mut Criterion) {
    check();

    let mut g = c.benchmark_group("epp create round trip");
    g.bench_function("backorder", |b| {
        b.iter(|| {
            let xml = ours::encode(black_box(&INPUTS));
            black_box(xml);
            black_box(ours::decode(black_box(RESPONSE)))
        })
    });
    g.bench_function("instant-epp", |b| {
        b.iter(|| {
            let xml = theirs::encode(black_box(&INPUTS));
            black_box(xml);
            black_box(theirs::decode(black_box(RESPONSE)))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("epp create encode");
    g.bench_function("backorder", |b| b.iter(|| ours::encode(black_box(&INPUTS))));
    g.bench_function("instant-epp", |b| {
        b.iter(|| theirs::encode(black_box(&INPUTS)))
    });
    g.finish();

    let mut g = c.benchmark_group("epp create decode");
    g.bench_function("backorder", |b| {
        b.iter(|| ours::decode(black_box(RESPONSE)))
    });
    g.bench_function("instant-epp", |b| {
        b.iter(|| theirs::decode(black_box(RESPONSE)))
    });
    g.finish();

    // What the streaming path costs an answer it stands aside for: a check answer (with the
    // fee extension) read by `from_xml`, which tries the streaming path first, and by the
    // general reader alone.
    let check = backorder::core::epp::samples::server_frames()
        .into_iter()
        .find(|(kind, _)| *kind == "check")
        .expect("a check sample")
        .1
        .to_xml();
    let mut g = c.benchmark_group("epp check decode");
    g.bench_function("from_xml", |b| {
        b.iter(|| ServerFrame::from_xml(black_box(check.as_bytes())))
    });
    g.bench_function("general reader only", |b| {
        b.iter(|| ServerFrame::from_xml_general(black_box(check.as_bytes())))
    });
    g.finish();
}

criterion_group!(benches, epp_codec);
criterion_main!(benches);
