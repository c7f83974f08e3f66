//! The answer a catcher reads most at the drop, read in one streaming pass without a tree: a
//! `<response>` of plain results (code and message), at most a `<domain:creData>`, and its
//! `<trID>`. Anything else in the document — a greeting, `<msgQ>`, `<extValue>`, an extension,
//! another kind of `resData`, CDATA, a reference, a repeated or unknown element, an error — makes
//! [`plain_response`] answer `None`, and [`super::response::ServerFrame::from_xml`] reads the
//! document with the general reader instead. So this path decides nothing on its own: where it
//! answers, it answers what the general reader does (a test and the `epp_decode` fuzz target hold
//! the two equal), only sooner.
//!
//! Namespaces are resolved by URI as in the general reader ([`Scopes`]).

use quick_xml::events::Event;
use quick_xml::Reader;

use super::response::{time_of, CreatedName, EppResult, Response, ResponseData, ServerFrame};
use super::xml::{attribute, Ns, Scopes};

/// Where the reader is: the element open at each depth that this path understands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    Epp,
    Response,
    Result,
    Msg,
    ResData,
    CreData,
    CreName,
    CrDate,
    ExDate,
    TrId,
    ClTrId,
    SvTrId,
}

/// Fields read so far.
#[derive(Default)]
struct Read<'a> {
    response: bool,
    /// Code and message of each `<result>` (nearly always one: kept off the heap).
    results: smallvec::SmallVec<[(u16, Option<&'a str>); 2]>,
    res_data: bool,
    cre_data: bool,
    name: Option<&'a str>,
    cr_date: Option<&'a str>,
    ex_date: Option<&'a str>,
    tr_id: bool,
    cl_tr_id: Option<&'a str>,
    sv_tr_id: Option<&'a str>,
}

/// `xml` read as a plain response, or `None` when it is anything else (see the module doc).
pub(crate) fn plain_response(xml: &[u8]) -> Option<ServerFrame> {
    let mut reader = Reader::from_reader(xml);
    let config = reader.config_mut();
    // The general reader's first pass, setting for setting: the same events either way.
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.trim_text(true);
    let mut scopes = Scopes::new();
    let mut path: [At; 5] = [At::Epp; 5];
    let mut depth = 0usize;
    let mut closed_root = false;
    let mut read = Read::default();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if closed_root || depth >= path.len() {
                    return None;
                }
                scopes.push(&start, depth).ok()?;
                let name = start.name().0;
                let (prefix, local) = match name.as_bytes().iter().position(|b| *b == b':') {
                    Some(colon) => (&name[..colon], &name[colon + 1..]),
                    None => ("", name),
                };
                let ns = scopes.resolve(prefix).ok()?;
                let parent = depth.checked_sub(1).map(|d| path[d]);
                let at = match (parent, ns, local) {
                    (None, Ns::Epp, "epp") => At::Epp,
                    (Some(At::Epp), Ns::Epp, "response") if !read.response => {
                        read.response = true;
                        At::Response
                    }
                    (Some(At::Response), Ns::Epp, "result") => {
                        let code = attribute(&start, "code")?
                            .parse::<u16>()
                            .ok()
                            .filter(|c| (1000..=2999).contains(c))?;
                        read.results.push((code, None));
                        At::Result
                    }
                    (Some(At::Result), Ns::Epp, "msg") => {
                        if read.results.last()?.1.is_some() {
                            return None;
                        }
                        read.results.last_mut()?.1 = Some("");
                        At::Msg
                    }
                    (Some(At::Response), Ns::Epp, "resData") if !read.res_data => {
                        read.res_data = true;
                        At::ResData
                    }
                    (Some(At::ResData), Ns::Domain, "creData") if !read.cre_data => {
                        read.cre_data = true;
                        At::CreData
                    }
                    (Some(At::CreData), Ns::Domain, "name") if read.name.is_none() => {
                        read.name = Some("");
                        At::CreName
                    }
                    (Some(At::CreData), Ns::Domain, "crDate") if read.cr_date.is_none() => {
                        read.cr_date = Some("");
                        At::CrDate
                    }
                    (Some(At::CreData), Ns::Domain, "exDate") if read.ex_date.is_none() => {
                        read.ex_date = Some("");
                        At::ExDate
                    }
                    (Some(At::Response), Ns::Epp, "trID") if !read.tr_id => {
                        read.tr_id = true;
                        At::TrId
                    }
                    (Some(At::TrId), Ns::Epp, "clTRID") if read.cl_tr_id.is_none() => {
                        read.cl_tr_id = Some("");
                        At::ClTrId
                    }
                    (Some(At::TrId), Ns::Epp, "svTRID") if read.sv_tr_id.is_none() => {
                        read.sv_tr_id = Some("");
                        At::SvTrId
                    }
                    _ => return None,
                };
                path[depth] = at;
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                scopes.pop(depth);
                closed_root = depth == 0;
            }
            Event::Text(t) => {
                // One piece of text per element, in the elements that hold text only; anything
                // else is left to the general reader. The reader trims XML's whitespace; the
                // rest of what `str::trim` takes, as the general reader's `text()` does, when
                // the fields are built below.
                // A reader over a slice lends its text from the input; were it ever owned, this
                // path would stand aside rather than copy.
                let text = match t.into_inner() {
                    std::borrow::Cow::Borrowed(text) => text,
                    std::borrow::Cow::Owned(_) => return None,
                };
                let slot = match depth.checked_sub(1).map(|d| path[d])? {
                    At::Msg => &mut read.results.last_mut()?.1,
                    At::CreName => &mut read.name,
                    At::CrDate => &mut read.cr_date,
                    At::ExDate => &mut read.ex_date,
                    At::ClTrId => &mut read.cl_tr_id,
                    At::SvTrId => &mut read.sv_tr_id,
                    _ => return None,
                };
                if *slot != Some("") {
                    return None;
                }
                *slot = Some(text);
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
            _ => return None,
        }
    }
    if !closed_root || read.results.is_empty() || !read.tr_id {
        return None;
    }
    let data = match (read.res_data, read.cre_data) {
        (true, true) => Some(ResponseData::Create(CreatedName {
            name: read.name?.trim().to_owned(),
            created_at: time_of(read.cr_date?.trim())?,
            expires_at: match read.ex_date {
                Some(t) => Some(time_of(t.trim())?),
                None => None,
            },
        })),
        // An empty `<resData>`, or none (creData is only taken inside resData).
        _ => None,
    };
    let results = read
        .results
        .iter()
        .map(|&(code, message)| {
            Some(EppResult {
                code,
                message: message?.trim().to_owned(),
                reasons: Vec::new(),
                subject: None,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ServerFrame::Response(Response {
        results,
        queue: None,
        data,
        fee: None,
        rgp_statuses: Vec::new(),
        client_transaction: read.cl_tr_id.map(|t| t.trim().to_owned()),
        server_transaction: read.sv_tr_id?.trim().to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epp::samples;

    /// The streaming path's answer, checked against the general reader's on the same bytes.
    fn both(xml: &str) -> Option<ServerFrame> {
        let fast = plain_response(xml.as_bytes());
        if let Some(frame) = &fast {
            assert_eq!(
                Ok(frame.clone()),
                ServerFrame::from_xml_general(xml.as_bytes()),
                "{xml}"
            );
        }
        fast
    }

    const CREATED: &str = samples::CREATE_ANSWER;

    #[test]
    fn every_sample_answer_reads_the_same_either_way() {
        let mut streamed = 0;
        for (what, frame) in samples::server_frames() {
            let xml = frame.to_xml();
            if let Some(fast) = both(&xml) {
                assert_eq!(fast, frame, "{what}");
                streamed += 1;
            }
        }
        assert!(
            streamed >= 2,
            "the create and plain answers take the streaming path"
        );
    }

    #[test]
    fn the_registrys_create_answer_streams_and_matches() {
        let frame = both(CREATED).expect("streamed");
        let ServerFrame::Response(r) = frame else {
            panic!("a response")
        };
        assert_eq!(
            (r.code(), r.server_transaction.as_str()),
            (1000, "54321-XYZ")
        );
        assert!(matches!(r.data, Some(ResponseData::Create(ref c)) if c.name == "example.com"));
        // Other prefixes, a default namespace for the domain mapping, no clTRID, two results, a
        // message's language.
        let other = CREATED
            .replace("<msg>", "<msg lang=\"en\">")
            .replace("<epp xmlns=", "<e:epp xmlns:e=")
            .replace("</epp>", "</e:epp>")
            .replace("<response>", "<e:response>")
            .replace("</response>", "</e:response>")
            .replace("domain:", "")
            .replace("xmlns:domain=", "xmlns=")
            .replace("<clTRID>ABC-12345</clTRID>", "")
            .replace(
                "</result>",
                "</result><result code=\"1001\"><msg/></result>",
            );
        assert!(
            both(&other).is_none(),
            "unprefixed EPP children are in no namespace"
        );
        let prefixed = other
            .replace("<result", "<e:result")
            .replace("</result>", "</e:result>")
            .replace("<msg", "<e:msg")
            .replace("</msg>", "</e:msg>")
            .replace("<resData>", "<e:resData>")
            .replace("</resData>", "</e:resData>")
            .replace("<trID>", "<e:trID>")
            .replace("</trID>", "</e:trID>")
            .replace("<svTRID>", "<e:svTRID>")
            .replace("</svTRID>", "</e:svTRID>");
        // Unicode whitespace around text is trimmed as `Node::text` trims it (a fuzzed svTRID
        // began with a vertical tab).
        let spaced = prefixed.replace("54321-XYZ", "\u{b}54321-XYZ\u{2003}");
        let ServerFrame::Response(spaced) = both(&spaced).expect("streamed") else {
            panic!("a response")
        };
        assert_eq!(spaced.server_transaction, "54321-XYZ");
        let ServerFrame::Response(r) = both(&prefixed).expect("streamed") else {
            panic!("a response")
        };
        assert_eq!(r.results.len(), 2);
        assert_eq!(r.client_transaction, None);
    }

    #[test]
    fn anything_else_is_left_to_the_general_reader() {
        let cases = [
            CREATED.replace("successfully", "a &amp; b"),
            CREATED.replace("successfully", "<![CDATA[x]]>"),
            CREATED.replace("successfully", "a<!-- c -->b"),
            CREATED.replace(
                "</result>",
                "<extValue><value><domain:name xmlns:domain=\"urn:ietf:params:xml:ns:domain-1.0\">x.com</domain:name></value><reason>r</reason></extValue></result>",
            ),
            CREATED.replace("<resData>", "<msgQ count=\"1\" id=\"1\"/><resData>"),
            CREATED.replace("</trID>", "</trID><extension/>"),
            CREATED.replace("</response>", "</response><response/>"),
            CREATED.replace("code=\"1000\"", "code=\"999\""),
            CREATED.replace("code=\"1000\"", ""),
            CREATED.replace("2001-04-03T22:00:00.0Z", "tomorrow"),
            CREATED.replace("<svTRID>54321-XYZ</svTRID>", ""),
            CREATED.replace("<msg>Command completed successfully</msg>", ""),
            CREATED.replace("domain-1.0\"", "domain-2.0\""),
            CREATED.replace("</epp>", "</epp><epp/>"),
            CREATED.replace("</epp>", ""),
            CREATED.replace("<trID>", "<trID>x"),
            CREATED.replace("</trID>", "</trId>"),
            CREATED.replace("</domain:name>", "</name>"),
            CREATED.replace("<msg>", "<msg lang=\"en\">\u{b}<!-- -->"),
        ];
        for xml in &cases {
            assert!(both(xml).is_none(), "streamed: {xml}");
            // And `from_xml` answers whatever the general reader does.
            assert_eq!(
                ServerFrame::from_xml(xml.as_bytes()),
                ServerFrame::from_xml_general(xml.as_bytes())
            );
        }
    }
}
