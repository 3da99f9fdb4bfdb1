//! contexture-otel across a real process boundary, against hostile input, and next to
//! OpenTelemetry's own propagators.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use contexture_ctxvar::ContextVar;
use contexture_otel::{Propagated, SkipReason, Skipped, MAX_BYTES, MAX_ENTRIES};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::KeyValue;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use proptest::prelude::*;

static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
static TENANT: ContextVar<String> = ContextVar::new("tenant");
static HOPS: ContextVar<u32> = ContextVar::new("hops");

fn propagated() -> Propagated {
    Propagated::new()
        .var("request-id", &REQUEST_ID)
        .var("tenant", &TENANT)
        .var("hops", &HOPS)
}

fn headers(baggage: &str) -> HashMap<String, String> {
    HashMap::from([("baggage".to_owned(), baggage.to_owned())])
}

const CHILD: &str = "CONTEXTURE_OTEL_TEST_CHILD";

/// The second service, run only as the child of `two_processes_pass_a_request_and_back`:
/// reads `name: value` header lines on stdin, handles the request inside what arrived,
/// and prints its response headers as `HEADER name: value` lines.
#[test]
fn child_service() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let mut request = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        if let Some((k, v)) = line.split_once(": ") {
            request.insert(k.to_owned(), v.to_owned());
        }
    }
    let extracted = propagated().extract(&request);
    assert!(extracted.skipped.is_empty(), "{:?}", extracted.skipped);
    let mut response = HashMap::new();
    extracted
        .context
        .run(|| {
            // The handler: one more hop, the request id tagged by this service.
            HOPS.set(HOPS.get().unwrap_or(0) + 1);
            REQUEST_ID.set(format!("{}/child", REQUEST_ID.get().unwrap()));
            assert!(propagated().inject(&mut response).is_empty());
        })
        .unwrap();
    let mut out = std::io::stdout().lock();
    for (k, v) in response {
        writeln!(out, "\nHEADER {k}: {v}").unwrap();
    }
}

#[test]
fn two_processes_pass_a_request_and_back() {
    let p = propagated();
    REQUEST_ID.set("r-1".to_owned());
    TENANT.set("acme corp, ltd; \"eu\"".to_owned());
    HOPS.set(1);
    let mut request = HashMap::new();
    assert!(p.inject(&mut request).is_empty());

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_service",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for (k, v) in &request {
            writeln!(stdin, "{k}: {v}").unwrap();
        }
    } // closed: the child reads to the end
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "child failed: {output:?}");
    let response: HashMap<String, String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("HEADER "))
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let back = p.extract(&response);
    assert!(back.skipped.is_empty(), "{:?}", back.skipped);
    let seen = back
        .context
        .run(|| (REQUEST_ID.get(), TENANT.get(), HOPS.get()))
        .unwrap();
    assert_eq!(
        seen,
        (
            Some("r-1/child".to_owned()),
            Some("acme corp, ltd; \"eu\"".to_owned()),
            Some(2)
        )
    );
}

#[test]
fn each_bad_entry_is_skipped_with_its_reason_and_the_rest_arrives() {
    let p = propagated();
    let e = p.extract(&headers(
        "request-id=r%20ok, hops=many, tenant=%ZZ, bad key=1, noequals, x=1;p, hops=3, request-id=again, tenant=%FF",
    ));
    let reasons: Vec<(Option<&str>, &SkipReason)> = e
        .skipped
        .iter()
        .map(|s| (s.key.as_deref(), &s.reason))
        .collect();
    assert!(matches!(
        reasons[0],
        (Some("hops"), SkipReason::Undecodable(_))
    ));
    assert_eq!(
        reasons[1..],
        [
            (Some("tenant"), &SkipReason::BadEncoding),
            (Some("bad key"), &SkipReason::Malformed),
            (None, &SkipReason::Malformed),
            (Some("x"), &SkipReason::Unknown),
            (Some("request-id"), &SkipReason::Duplicate),
            (Some("tenant"), &SkipReason::BadEncoding),
        ]
    );
    assert_eq!(
        e.foreign,
        [("x".to_owned(), "1".to_owned(), "p".to_owned())]
    );
    let seen = e
        .context
        .run(|| (REQUEST_ID.get(), TENANT.get(), HOPS.get()))
        .unwrap();
    assert_eq!(seen, (Some("r ok".to_owned()), None, Some(3)));
}

#[test]
fn an_oversized_header_keeps_the_members_within_8192_bytes() {
    let p = propagated();
    let filler: Vec<String> = (0..20)
        .map(|i| format!("f{i}={}", "v".repeat(500)))
        .collect();
    let header = format!("hops=4,{},request-id=late", filler.join(","));
    assert!(header.len() > MAX_BYTES);
    let e = p.extract(&headers(&header));
    assert_eq!(e.context.get(&HOPS), Some(4));
    assert_eq!(e.context.get(&REQUEST_ID), None);
    let last = e.skipped.last().unwrap();
    assert!(
        matches!(last.reason, SkipReason::TooLong { dropped_bytes } if dropped_bytes > 0),
        "{last:?}"
    );
    // Only what was read is reported: 16 fillers fit.
    assert_eq!(e.foreign.len(), 16);
}

#[test]
fn a_huge_header_of_separators_is_read_only_up_to_the_limit() {
    let p = propagated();
    let e = p.extract(&headers(&format!("hops=1,{}hops=2", ", ".repeat(1 << 20))));
    assert_eq!(e.context.get(&HOPS), Some(1));
    assert!(
        matches!(
            e.skipped[..],
            [Skipped {
                reason: SkipReason::TooLong { .. },
                ..
            }]
        ),
        "{:?}",
        e.skipped
    );
}

#[test]
fn more_than_64_members_are_cut_with_one_report() {
    let p = propagated();
    let many: Vec<String> = (0..100).map(|i| format!("k{i}=1")).collect();
    let e = p.extract(&headers(&format!("{},hops=9", many.join(","))));
    assert_eq!(e.foreign.len(), MAX_ENTRIES);
    assert_eq!(e.context.get(&HOPS), None);
    assert_eq!(
        e.skipped.last().unwrap().reason,
        SkipReason::TooManyEntries { dropped: 37 }
    );
}

#[test]
fn a_panicking_decoder_is_an_undecodable_value() {
    static V: ContextVar<u8> = ContextVar::new("v");
    let p = Propagated::new().var_with(
        "v",
        &V,
        |_, _| {},
        |_| -> Result<u8, String> { panic!("decoder") },
    );
    let e = p.extract(&headers("v=1"));
    assert!(matches!(e.skipped[0].reason, SkipReason::Undecodable(_)));
}

#[test]
fn inject_leaves_out_what_would_break_the_limits_and_keeps_the_rest() {
    let p = propagated();
    let mut h = HashMap::new();
    let (request_id, tenant, hops) = (
        REQUEST_ID.set_scoped("r".to_owned()),
        TENANT.set_scoped("t".repeat(MAX_BYTES)),
        HOPS.set_scoped(2),
    );
    let skipped = p.inject(&mut h);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].key.as_deref(), Some("tenant"));
    assert_eq!(h["baggage"], "request-id=r,hops=2");
    drop((request_id, tenant, hops));
}

#[test]
fn as_a_propagator_it_keeps_otels_baggage_and_trace_context() {
    let ours = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(propagated()),
    ]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut incoming = headers("request-id=r-9,user=alice;ttl=3");
    incoming.insert("traceparent".to_owned(), traceparent.to_owned());

    let cx = ours.extract(&incoming);
    assert_eq!(
        cx.baggage().get("user").map(|v| v.as_str().to_owned()),
        Some("alice".to_owned())
    );
    assert!(cx.baggage().get("request-id").is_none());
    let extracted = Propagated::extracted(&cx).unwrap();
    assert_eq!(extracted.context.get(&REQUEST_ID), Some("r-9".to_owned()));

    // Out again: the trace context, OTel's baggage and our vars (from the current
    // contexture context, which wins over a same-named OTel entry) in one header.
    let cx = cx.with_baggage(vec![
        KeyValue::new("user", "alice"),
        KeyValue::new("hops", "0"),
    ]);
    let mut outgoing = HashMap::new();
    extracted
        .context
        .run(|| {
            HOPS.set(5);
            ours.inject_context(&cx, &mut outgoing);
        })
        .unwrap();
    assert_eq!(outgoing["traceparent"], traceparent);
    let otel = BaggagePropagator::new().extract(&outgoing);
    assert_eq!(otel.baggage().get("user").unwrap().as_str(), "alice");
    assert_eq!(otel.baggage().get("request-id").unwrap().as_str(), "r-9");
    assert_eq!(otel.baggage().get("hops").unwrap().as_str(), "5");
}

#[test]
fn otels_baggage_propagator_reads_what_we_write_and_we_read_what_it_writes() {
    let p = propagated();
    let mut h = HashMap::new();
    {
        let _r = REQUEST_ID.set_scoped("a=b, c;d %".to_owned());
        let _ = p.inject(&mut h);
    }
    let otel = BaggagePropagator::new().extract(&h);
    assert_eq!(
        otel.baggage().get("request-id").unwrap().as_str(),
        "a=b, c;d %"
    );

    let cx = opentelemetry::Context::new().with_baggage(vec![
        KeyValue::new("request-id", "x y,z"),
        KeyValue::new("tenant", "é"),
    ]);
    let mut h = HashMap::new();
    BaggagePropagator::new().inject_context(&cx, &mut h);
    let e = p.extract(&h);
    assert_eq!(e.context.get(&REQUEST_ID), Some("x y,z".to_owned()));
    assert_eq!(e.context.get(&TENANT), Some("é".to_owned()));
}

/// A list member, valid or hostile.
fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("request-id=r".to_owned()),
        "[0-9]{1,12}".prop_map(|n| format!("hops={n}")),
        "[a-z%=;, \t]{0,12}".prop_map(|v| format!("tenant={v}")),
        "\\PC{0,40}",
        "[ -~]{0,40}",
        "%[0-9A-Fa-f]{0,2}".prop_map(|v| format!("request-id={v}")),
        (1usize..3000).prop_map(|n| format!("big={}", "x".repeat(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn extract_never_panics_and_stays_within_the_limits(
        members in prop::collection::vec(member(), 0..120),
        sep in prop_oneof![Just(","), Just(" , "), Just(",,")],
    ) {
        let header = members.join(sep);
        let e = propagated().extract(&headers(&header));
        prop_assert!(e.foreign.len() <= MAX_ENTRIES);
        let total: usize = e.foreign.iter().map(|(k, v, _)| k.len() + v.len()).sum();
        prop_assert!(total <= MAX_BYTES);
        // Nothing arrives that was not sent.
        if e.context.get(&HOPS).is_some() {
            prop_assert!(header.contains("hops="));
        }
        if e.context.get(&REQUEST_ID).is_some() {
            prop_assert!(header.contains("request-id="));
        }
    }

    #[test]
    fn extract_of_arbitrary_bytes_never_panics(raw in "\\PC{0,3000}", n in 0usize..5) {
        let h = headers(&raw.repeat(n));
        let _ = propagated().extract(&h);
    }

    #[test]
    fn inject_then_extract_gives_back_any_string(s in "\\PC{0,200}", hops in any::<u32>()) {
        let p = propagated();
        let mut h = HashMap::new();
        let (_a, _b) = (TENANT.set_scoped(s.clone()), HOPS.set_scoped(hops));
        prop_assert!(p.inject(&mut h).is_empty());
        let e = p.extract(&h);
        prop_assert!(e.skipped.is_empty());
        prop_assert_eq!(e.context.get(&TENANT), Some(s));
        prop_assert_eq!(e.context.get(&HOPS), Some(hops));
    }
}
