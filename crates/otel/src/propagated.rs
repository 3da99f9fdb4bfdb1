//! `Propagated`: the vars that travel as W3C Baggage, with their codecs; `inject`,
//! `extract`, and the `TextMapPropagator` that carries them next to OpenTelemetry's own.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use contexture_ctxvar::{Context, ContextVar};
use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};

use crate::w3c::{self, HEADER, MAX_BYTES, MAX_ENTRIES};

/// A set of [`ContextVar`]s carried between services as W3C Baggage entries, each under
/// its key with a string codec; see the [crate](crate) docs.
///
/// ```
/// use contexture_ctxvar::ContextVar;
/// use contexture_otel::Propagated;
/// use std::collections::HashMap;
///
/// static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
/// static TENANT: ContextVar<String> = ContextVar::new("tenant");
/// let propagated = Propagated::new().var("request-id", &REQUEST_ID).var("tenant", &TENANT);
///
/// // Client side: the current context's values into the outgoing headers.
/// REQUEST_ID.set(7);
/// TENANT.set("acme corp".to_owned());
/// let mut headers = HashMap::new();
/// assert!(propagated.inject(&mut headers).is_empty()); // nothing skipped
/// assert_eq!(headers["baggage"], "request-id=7,tenant=acme%20corp");
///
/// // Server side: a context holding them, to run the request in.
/// let extracted = propagated.extract(&headers);
/// assert!(extracted.skipped.is_empty());
/// let seen = extracted.context.run(|| (REQUEST_ID.get(), TENANT.get())).unwrap();
/// assert_eq!(seen, (Some(7), Some("acme corp".to_owned())));
/// ```
pub struct Propagated {
    entries: Vec<Entry>,
}

struct Entry {
    key: &'static str,
    codec: Box<dyn Codec>,
}

/// A var's two directions: its current value as text, and text set as its value.
trait Codec: Send + Sync + 'static {
    /// Appends the current context's value, encoded; `false` when the var has none.
    fn encode_current(&self, out: &mut String) -> bool;
    /// Decodes `text` and sets it in the current context.
    fn decode_and_set(&self, text: &str) -> Result<(), String>;
}

struct VarCodec<T: 'static, E, D> {
    var: &'static ContextVar<T>,
    encode: E,
    decode: D,
}

impl<T, E, D, Err> Codec for VarCodec<T, E, D>
where
    T: Send + Sync + 'static,
    E: Fn(&T, &mut String) + Send + Sync + 'static,
    D: Fn(&str) -> Result<T, Err> + Send + Sync + 'static,
    Err: fmt::Display,
{
    fn encode_current(&self, out: &mut String) -> bool {
        self.var.with(|value| match value {
            Some(value) => {
                (self.encode)(value, out);
                true
            }
            None => false,
        })
    }

    fn decode_and_set(&self, text: &str) -> Result<(), String> {
        let value = (self.decode)(text).map_err(|e| e.to_string())?;
        self.var.set(value);
        Ok(())
    }
}

/// Why an entry did not make it across, in either direction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// Not `key=value[;properties]` with a token key and baggage-octet value.
    #[error("malformed list member")]
    Malformed,
    /// A percent-escape is broken or the decoded bytes are not UTF-8.
    #[error("bad percent-encoding")]
    BadEncoding,
    /// The var's codec refused the value.
    #[error("undecodable value: {0}")]
    Undecodable(String),
    /// A key this set does not propagate (it goes to OpenTelemetry's baggage through the
    /// [`TextMapPropagator`]).
    #[error("key not propagated")]
    Unknown,
    /// The key came before in the same header(s); the first one counts.
    #[error("duplicated key")]
    Duplicate,
    /// Past W3C's 64 list-members; `dropped` members from here on.
    #[error("more than {MAX_ENTRIES} list-members: {dropped} dropped")]
    TooManyEntries {
        /// How many members were dropped (this one and those after it).
        dropped: usize,
    },
    /// Past W3C's 8192 bytes; `dropped_bytes` from here on were not read.
    #[error("past {MAX_BYTES} bytes of baggage: {dropped_bytes} bytes dropped")]
    TooLong {
        /// How many bytes were dropped (this member's and those after it).
        dropped_bytes: usize,
    },
}

/// One entry that did not make it across, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its key, when it has a readable one (at most 256 bytes of it).
    pub key: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "baggage entry {key:?}: {}", self.reason),
            None => write!(f, "baggage: {}", self.reason),
        }
    }
}

/// What [`Propagated::extract`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Extracted {
    /// A fresh context holding the propagated vars that arrived.
    pub context: Context,
    /// The entries skipped, each with its reason (unknown keys included).
    pub skipped: Vec<Skipped>,
    /// The well-formed entries under keys this set does not propagate (key, decoded value,
    /// properties), in order: OpenTelemetry's baggage.
    pub foreign: Vec<(String, String, String)>,
}

impl Default for Propagated {
    fn default() -> Self {
        Propagated::new()
    }
}

impl Propagated {
    /// No vars yet.
    ///
    /// ```
    /// assert!(contexture_otel::Propagated::new().keys().is_empty());
    /// ```
    pub fn new() -> Propagated {
        Propagated {
            entries: Vec::new(),
        }
    }

    /// Propagates `var` under `key`, written with `Display` and read with `FromStr`.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// static USER: ContextVar<u32> = ContextVar::new("user");
    /// let p = contexture_otel::Propagated::new().var("user", &USER);
    /// assert_eq!(p.keys(), ["user"]);
    /// ```
    ///
    /// # Panics
    ///
    /// If `key` is not a W3C key (an RFC 7230 token: letters, digits and
    /// ``!#$%&'*+-.^_`|~``) or is propagated already: both are mistakes in the code, not
    /// in the input.
    pub fn var<T>(self, key: &'static str, var: &'static ContextVar<T>) -> Propagated
    where
        T: fmt::Display + FromStr + Send + Sync + 'static,
        T::Err: fmt::Display,
    {
        self.var_with(
            key,
            var,
            |value: &T, out: &mut String| {
                use fmt::Write as _;
                let _ = write!(out, "{value}");
            },
            T::from_str,
        )
    }

    /// Propagates `var` under `key` with explicit functions: `encode` appends the value's
    /// text to the string it is given, `decode` parses it back.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// use std::collections::HashMap;
    ///
    /// static FLAGS: ContextVar<Vec<u8>> = ContextVar::new("flags");
    /// let p = contexture_otel::Propagated::new().var_with(
    ///     "flags",
    ///     &FLAGS,
    ///     |flags, out| out.extend(flags.iter().map(|&f| char::from(b'a' + f))),
    ///     |text| text.bytes().map(|b| b.checked_sub(b'a').ok_or("not a flag")).collect(),
    /// );
    /// FLAGS.set(vec![0, 2]);
    /// let mut headers = HashMap::new();
    /// let _ = p.inject(&mut headers);
    /// assert_eq!(headers["baggage"], "flags=ac");
    /// assert_eq!(p.extract(&headers).context.get(&FLAGS), Some(vec![0, 2]));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`var`](Propagated::var).
    pub fn var_with<T, E, D, Err>(
        mut self,
        key: &'static str,
        var: &'static ContextVar<T>,
        encode: E,
        decode: D,
    ) -> Propagated
    where
        T: Send + Sync + 'static,
        E: Fn(&T, &mut String) + Send + Sync + 'static,
        D: Fn(&str) -> Result<T, Err> + Send + Sync + 'static,
        Err: fmt::Display,
    {
        assert!(w3c::is_token(key), "{key:?} is not a W3C baggage key");
        assert!(self.entry(key).is_none(), "{key:?} is propagated already");
        self.entries.push(Entry {
            key,
            codec: Box::new(VarCodec {
                var,
                encode,
                decode,
            }),
        });
        self
    }

    /// The keys, in the order they are written.
    ///
    /// ```
    /// assert!(contexture_otel::Propagated::new().keys().is_empty());
    /// ```
    pub fn keys(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.key).collect()
    }

    fn entry(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.key == key)
    }

    /// Writes the propagated vars that have a value in the current context as one W3C
    /// `baggage` header (nothing when none has one), replacing a `baggage` header the
    /// carrier has. An entry that would take the header past W3C's limits is left out and
    /// returned. To send OpenTelemetry's baggage too, use this set as a
    /// [`TextMapPropagator`] instead (it writes both into the one header).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// use std::collections::HashMap;
    ///
    /// static NOTE: ContextVar<String> = ContextVar::new("note");
    /// let p = contexture_otel::Propagated::new().var("note", &NOTE);
    /// let mut headers = HashMap::new();
    /// assert!(p.inject(&mut headers).is_empty());
    /// assert!(headers.is_empty()); // unset: no header
    /// NOTE.set("x".repeat(9000));
    /// let skipped = p.inject(&mut headers);
    /// assert_eq!(skipped[0].key.as_deref(), Some("note")); // too long for W3C
    /// ```
    #[must_use = "the entries left out are returned"]
    pub fn inject(&self, carrier: &mut dyn Injector) -> Vec<Skipped> {
        self.inject_with(carrier, &opentelemetry::baggage::Baggage::new())
    }

    fn inject_with(
        &self,
        carrier: &mut dyn Injector,
        foreign: &opentelemetry::baggage::Baggage,
    ) -> Vec<Skipped> {
        let mut header = String::new();
        let mut count = 0;
        let mut skipped = Vec::new();
        let mut value = String::new();
        for entry in &self.entries {
            value.clear();
            if !entry.codec.encode_current(&mut value) {
                continue;
            }
            let start = header.len();
            if count > 0 {
                header.push(',');
            }
            header.push_str(entry.key);
            header.push('=');
            w3c::encode_into(&mut header, &value);
            if let Some(reason) = over_limits(header.len(), count) {
                skipped.push(Skipped {
                    key: Some(entry.key.to_owned()),
                    reason,
                });
                header.truncate(start);
            } else {
                count += 1;
            }
        }
        for (key, (value, metadata)) in foreign {
            let key = key.as_str();
            if self.entry(key).is_some() {
                continue; // ours: the current context's value wins
            }
            let start = header.len();
            if count > 0 {
                header.push(',');
            }
            w3c::encode_into(&mut header, key);
            header.push('=');
            w3c::encode_into(&mut header, value.as_str());
            let metadata = metadata.as_str().trim();
            if !metadata.is_empty() {
                header.push(';');
                header.push_str(metadata);
            }
            if let Some(reason) = over_limits(header.len(), count) {
                skipped.push(Skipped {
                    key: Some(clip(key)),
                    reason,
                });
                header.truncate(start);
            } else {
                count += 1;
            }
        }
        if count > 0 {
            carrier.set(HEADER, header);
        }
        skipped
    }

    /// Reads the `baggage` header(s) of `carrier` into a fresh [`Context`] holding the
    /// propagated vars found there, decoded with their codecs; everything else is skipped
    /// with its reason (see [`SkipReason`]), and the rest still arrives. Never panics,
    /// whatever the input; reads at most W3C's 8192 bytes and 64 list-members. Several
    /// `baggage` headers count as one list, in order.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// use contexture_otel::{Propagated, SkipReason};
    /// use std::collections::HashMap;
    ///
    /// static USER: ContextVar<u32> = ContextVar::new("user");
    /// let p = Propagated::new().var("user", &USER);
    /// let headers = HashMap::from([(
    ///     "baggage".to_owned(),
    ///     "user=x, user=5, other=1, garbage".to_owned(),
    /// )]);
    /// let extracted = p.extract(&headers);
    /// let reasons: Vec<_> = extracted.skipped.iter().map(|s| s.reason.clone()).collect();
    /// assert!(matches!(reasons[0], SkipReason::Undecodable(_)));
    /// assert_eq!(reasons[1..], [SkipReason::Unknown, SkipReason::Malformed]);
    /// assert_eq!(extracted.context.get(&USER), Some(5)); // the first one that decodes
    /// ```
    pub fn extract(&self, carrier: &dyn Extractor) -> Extracted {
        let mut context = Context::new();
        let mut skipped = Vec::new();
        let mut foreign = Vec::new();
        context.run_mut(|| self.extract_here(carrier, &mut skipped, &mut foreign));
        Extracted {
            context,
            skipped,
            foreign,
        }
    }

    /// Sets what arrives in the current context.
    fn extract_here(
        &self,
        carrier: &dyn Extractor,
        skipped: &mut Vec<Skipped>,
        foreign: &mut Vec<(String, String, String)>,
    ) {
        let headers = match carrier.get_all(HEADER) {
            Some(all) => all,
            None => return,
        };
        // Entry i arrived already.
        let mut arrived = vec![false; self.entries.len()];
        let mut members = 0;
        let mut bytes = 0;
        'headers: for (h, header) in headers.iter().enumerate() {
            for (m, member) in header.split(',').enumerate() {
                // Every byte read counts, whitespace and empty members too: at most
                // MAX_BYTES of input are looked at, whatever it holds.
                let cost = member.len() + usize::from(h > 0 || m > 0);
                if bytes + cost > MAX_BYTES {
                    let rest: usize = member.len()
                        + header_rest(header, m)
                        + headers[h + 1..].iter().map(|s| s.len() + 1).sum::<usize>();
                    skipped.push(Skipped {
                        key: None,
                        reason: SkipReason::TooLong {
                            dropped_bytes: rest,
                        },
                    });
                    break 'headers;
                }
                if members == MAX_ENTRIES && !w3c::trim_ows(member).is_empty() {
                    let rest = header
                        .split(',')
                        .skip(m)
                        .filter(|s| !w3c::trim_ows(s).is_empty())
                        .count()
                        + headers[h + 1..]
                            .iter()
                            .flat_map(|s| s.split(','))
                            .filter(|s| !w3c::trim_ows(s).is_empty())
                            .count();
                    skipped.push(Skipped {
                        key: None,
                        reason: SkipReason::TooManyEntries { dropped: rest },
                    });
                    break 'headers;
                }
                bytes += cost;
                let raw = w3c::trim_ows(member);
                if raw.is_empty() {
                    continue; // W3C allows empty list members around commas
                }
                members += 1;
                if let Err(s) = self.member(raw, &mut arrived, foreign) {
                    skipped.push(s);
                }
            }
        }
    }

    /// Reads one list member.
    fn member(
        &self,
        raw: &str,
        arrived: &mut [bool],
        foreign: &mut Vec<(String, String, String)>,
    ) -> Result<(), Skipped> {
        let Some((key, value, props)) = w3c::split_member(raw) else {
            let key = raw.split_once('=').map(|(k, _)| clip(w3c::trim_ows(k)));
            return Err(Skipped {
                key,
                reason: SkipReason::Malformed,
            });
        };
        let skip = |reason| Skipped {
            key: Some(clip(key)),
            reason,
        };
        let Some(value) = w3c::decode(value) else {
            return Err(skip(SkipReason::BadEncoding));
        };
        let Some(i) = self.entry(key) else {
            foreign.push((key.to_owned(), value.into_owned(), props.to_owned()));
            return Err(skip(SkipReason::Unknown));
        };
        if arrived[i] {
            return Err(skip(SkipReason::Duplicate));
        }
        // The codec is user code: a panic there skips the entry, as an error would.
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.entries[i].codec.decode_and_set(&value)
        }));
        match decoded {
            Ok(Ok(())) => {
                arrived[i] = true;
                Ok(())
            }
            Ok(Err(e)) => Err(skip(SkipReason::Undecodable(e))),
            Err(_) => Err(skip(SkipReason::Undecodable(
                "the decoder panicked".to_owned(),
            ))),
        }
    }

    /// The context that [`TextMapPropagator::extract_with_context`] attached to an
    /// OpenTelemetry context: what [`extract`](Propagated::extract) would return.
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// use contexture_otel::Propagated;
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use std::collections::HashMap;
    ///
    /// static USER: ContextVar<u32> = ContextVar::new("user");
    /// let p = Propagated::new().var("user", &USER);
    /// let headers = HashMap::from([("baggage".to_owned(), "user=5".to_owned())]);
    /// let cx = TextMapPropagator::extract(&p, &headers);
    /// let ours = Propagated::extracted(&cx).unwrap();
    /// assert_eq!(ours.context.get(&USER), Some(5));
    /// ```
    pub fn extracted(cx: &opentelemetry::Context) -> Option<&Extracted> {
        cx.get::<Extracted>()
    }
}

/// The bytes of `header` after member `m` (with their commas).
fn header_rest(header: &str, m: usize) -> usize {
    header.split(',').skip(m + 1).map(|s| s.len() + 1).sum()
}

/// Why a header of `len` bytes with `count` members before the new one breaks W3C's
/// limits, if it does.
fn over_limits(len: usize, count: usize) -> Option<SkipReason> {
    if count >= MAX_ENTRIES {
        Some(SkipReason::TooManyEntries { dropped: 1 })
    } else if len > MAX_BYTES {
        Some(SkipReason::TooLong {
            dropped_bytes: len - MAX_BYTES,
        })
    } else {
        None
    }
}

/// A key for a report: at most 256 bytes of it.
fn clip(key: &str) -> String {
    let mut end = key.len().min(256);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    key[..end].to_owned()
}

impl fmt::Debug for Propagated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Propagated")
            .field("keys", &self.keys())
            .finish()
    }
}

/// As an OpenTelemetry propagator, a superset of its `BaggagePropagator`: use it in its
/// place (next to `TraceContextPropagator` in a `TextMapCompositePropagator`).
/// `inject_context` writes the current contexture context's propagated vars and the
/// OpenTelemetry context's baggage into the one `baggage` header (ours win a key both
/// hold); `extract_with_context` returns the OpenTelemetry context with the foreign entries
/// as its baggage and our [`Extracted`] attached ([`Propagated::extracted`]). A
/// `BaggagePropagator` placed after it would overwrite the header with its baggage alone.
impl TextMapPropagator for Propagated {
    fn inject_context(&self, cx: &opentelemetry::Context, injector: &mut dyn Injector) {
        let _ = self.inject_with(injector, cx.baggage());
    }

    fn extract_with_context(
        &self,
        cx: &opentelemetry::Context,
        extractor: &dyn Extractor,
    ) -> opentelemetry::Context {
        let extracted = self.extract(extractor);
        let baggage: Vec<KeyValueMetadata> = extracted
            .foreign
            .iter()
            .map(|(k, v, p)| KeyValueMetadata::new(k.clone(), v.clone(), p.as_str()))
            .collect();
        let cx = if baggage.is_empty() {
            cx.clone()
        } else {
            cx.with_baggage(baggage)
        };
        cx.with_value(extracted)
    }

    fn fields(&self) -> FieldIter<'_> {
        static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
        FieldIter::new(FIELDS.get_or_init(|| [HEADER.to_owned()]))
    }
}
