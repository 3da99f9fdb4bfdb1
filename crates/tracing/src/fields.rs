//! `ContextFields`: context variables as fields of every event and span that
//! `tracing_subscriber::fmt` formats (structlog's `merge_contextvars`).

use std::fmt;

use contexture_ctxvar::ContextVar;
use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::{DefaultFields, Writer};
use tracing_subscriber::fmt::{FormatFields, FormattedFields};

/// Chosen [`ContextVar`]s, added as `name=value` fields to every event and span that
/// `tracing_subscriber::fmt` formats while they have a value in the current context:
/// structlog's `merge_contextvars`, as a [`FormatFields`] that wraps another one
/// ([`DefaultFields`] unless you [`wrap`](ContextFields::wrap) your own).
///
/// Install it with `fmt::layer().fmt_fields(...)` (or `fmt().fmt_fields(...)`). Each var
/// is chosen with its field name and a formatting: [`display`](ContextFields::display)
/// (`request_id=r-7`) or [`debug`](ContextFields::debug) (`request_id="r-7"`). A var
/// without a value in the current context (and no default) adds nothing; a var with a
/// default shows it, as [`ContextVar::get`] would.
///
/// The values are read when the line is formatted, on the thread that records it, from
/// that thread's current context: inside a pool job, a task or an actor handler, the
/// context that contexture carried there. A span gets the values current when it is
/// created (they are formatted into its fields once, as the span's own fields are).
///
/// ```
/// use contexture_ctxvar::ContextVar;
/// use contexture_tracing::ContextFields;
/// use std::sync::{Arc, Mutex};
///
/// static REQUEST_ID: ContextVar<String> = ContextVar::new("request_id");
/// static TENANT: ContextVar<&str> = ContextVar::new("tenant");
///
/// let out = Arc::new(Mutex::new(Vec::new()));
/// let sink = out.clone();
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(
///         ContextFields::new()
///             .display("request_id", &REQUEST_ID)
///             .debug("tenant", &TENANT),
///     )
///     .with_writer(move || Sink(sink.clone()))
///     .with_ansi(false)
///     .without_time()
///     .finish();
///
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!("before"); // nothing set: no field added
///     REQUEST_ID.set("r-7".to_owned());
///     TENANT.set("acme");
///     tracing::info!(user = 3, "handled");
/// });
/// let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
/// let lines: Vec<&str> = text.lines().collect();
/// assert!(lines[0].ends_with("before"));
/// assert!(lines[1].ends_with(r#"handled user=3 request_id=r-7 tenant="acme""#));
///
/// struct Sink(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Sink {
///     fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().extend_from_slice(buf);
///         Ok(buf.len())
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// ```
///
/// # Limits
///
/// - Text formats only (`Full`, `Compact`, `Pretty` with their default field formatter or
///   one you wrap): tracing fixes an event's fields at its callsite, so no `Layer` can add
///   fields to an event that *other* layers see; what can be done is to format them, which
///   is what this does. `fmt::format::JsonFields` cannot be wrapped (the JSON event format
///   does not use the field formatter for events, and parses span fields as JSON).
/// - The values are formatted with the event's other fields, after them; they are not
///   filterable as event fields (`EnvFilter` directives on field values do not see them).
/// - Each var costs one context lookup per event or span formatted, set or not.
pub struct ContextFields<N = DefaultFields> {
    inner: N,
    vars: Vec<Var>,
}

/// One chosen var: its field name and how to format its current value.
struct Var {
    name: &'static str,
    source: Box<dyn Source>,
}

/// Reads a var's current value and hands it to `f`, formatted; `None` when it has none.
trait Source: Send + Sync + 'static {
    fn visit(&self, f: &mut dyn FnMut(&dyn fmt::Display) -> fmt::Result) -> Option<fmt::Result>;
}

struct Shown<T: 'static>(&'static ContextVar<T>);
struct Debugged<T: 'static>(&'static ContextVar<T>);

impl<T: fmt::Display + Send + Sync + 'static> Source for Shown<T> {
    fn visit(&self, f: &mut dyn FnMut(&dyn fmt::Display) -> fmt::Result) -> Option<fmt::Result> {
        self.0.with(|value| value.map(|value| f(value)))
    }
}

impl<T: fmt::Debug + Send + Sync + 'static> Source for Debugged<T> {
    fn visit(&self, f: &mut dyn FnMut(&dyn fmt::Display) -> fmt::Result) -> Option<fmt::Result> {
        struct AsDebug<'a, T>(&'a T);
        impl<T: fmt::Debug> fmt::Display for AsDebug<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0, f)
            }
        }
        self.0.with(|value| value.map(|value| f(&AsDebug(value))))
    }
}

impl ContextFields<DefaultFields> {
    /// No vars yet, over tracing-subscriber's [`DefaultFields`].
    ///
    /// ```
    /// let fields = contexture_tracing::ContextFields::new();
    /// assert!(fields.is_empty());
    /// ```
    pub fn new() -> ContextFields<DefaultFields> {
        ContextFields {
            inner: DefaultFields::new(),
            vars: Vec::new(),
        }
    }
}

impl Default for ContextFields<DefaultFields> {
    fn default() -> Self {
        ContextFields::new()
    }
}

impl<N> ContextFields<N> {
    /// The same vars over another field formatter, which formats the event's (and span's)
    /// own fields; the vars follow them.
    ///
    /// ```
    /// use contexture_tracing::ContextFields;
    /// use tracing_subscriber::fmt::format::{self, FormatFields};
    ///
    /// // `key: value` instead of `key=value` for the event's own fields.
    /// let own = format::debug_fn(|w, field, value| write!(w, "{field}: {value:?}"));
    /// let fields = ContextFields::new().wrap(own);
    /// # let _ = tracing_subscriber::fmt().fmt_fields(fields);
    /// ```
    pub fn wrap<M>(self, inner: M) -> ContextFields<M> {
        ContextFields {
            inner,
            vars: self.vars,
        }
    }

    /// Adds `var` as the field `name`, formatted with [`Display`](fmt::Display).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// static REQUEST_ID: ContextVar<u64> = ContextVar::new("request_id");
    /// let fields = contexture_tracing::ContextFields::new().display("request_id", &REQUEST_ID);
    /// assert_eq!(fields.names(), ["request_id"]);
    /// ```
    pub fn display<T>(mut self, name: &'static str, var: &'static ContextVar<T>) -> Self
    where
        T: fmt::Display + Send + Sync + 'static,
    {
        self.vars.push(Var {
            name,
            source: Box::new(Shown(var)),
        });
        self
    }

    /// Adds `var` as the field `name`, formatted with [`Debug`](fmt::Debug) (strings
    /// quoted, as tracing formats a `?value` field).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// static TENANT: ContextVar<&str> = ContextVar::new("tenant");
    /// let fields = contexture_tracing::ContextFields::new().debug("tenant", &TENANT);
    /// assert_eq!(fields.names(), ["tenant"]);
    /// ```
    pub fn debug<T>(mut self, name: &'static str, var: &'static ContextVar<T>) -> Self
    where
        T: fmt::Debug + Send + Sync + 'static,
    {
        self.vars.push(Var {
            name,
            source: Box::new(Debugged(var)),
        });
        self
    }

    /// The field names, in the order they are written.
    ///
    /// ```
    /// assert!(contexture_tracing::ContextFields::new().names().is_empty());
    /// ```
    pub fn names(&self) -> Vec<&'static str> {
        self.vars.iter().map(|v| v.name).collect()
    }

    /// Whether no var was chosen.
    ///
    /// ```
    /// assert!(contexture_tracing::ContextFields::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Writes ` name=value` for each var with a value (no leading space for the first
    /// when `nothing_before`).
    fn write_vars(&self, writer: &mut Writer<'_>, mut nothing_before: bool) -> fmt::Result {
        let ansi = writer.has_ansi_escapes();
        for var in &self.vars {
            let written = var.source.visit(&mut |value| {
                if !nothing_before {
                    writer.write_char(' ')?;
                }
                if ansi {
                    // As `DefaultFields` writes a name: italic, then a dimmed `=`.
                    writer.write_str("\x1b[3m")?;
                    writer.write_str(var.name)?;
                    writer.write_str("\x1b[0m\x1b[2m=\x1b[0m")?;
                } else {
                    writer.write_str(var.name)?;
                    writer.write_char('=')?;
                }
                write!(writer, "{value}")
            });
            match written {
                Some(Ok(())) => nothing_before = false,
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
        Ok(())
    }
}

impl<N> fmt::Debug for ContextFields<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextFields")
            .field("vars", &self.names())
            .field("inner", &std::any::type_name::<N>())
            .finish()
    }
}

/// Counts an event's or span's own fields (to know whether a separator is needed).
struct Count(usize);

impl Visit for Count {
    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {
        self.0 += 1;
    }
}

impl<'writer, N> FormatFields<'writer> for ContextFields<N>
where
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        if self.vars.is_empty() {
            return self.inner.format_fields(writer, fields);
        }
        let mut own = Count(0);
        fields.record(&mut own);
        self.inner.format_fields(writer.by_ref(), fields)?;
        self.write_vars(&mut writer, own.0 == 0)
    }

    /// A span's later `record`s: only its own fields (the vars were added at its creation).
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        if !current.fields.is_empty() {
            current.fields.push(' ');
        }
        self.inner.format_fields(current.as_writer(), fields)
    }
}
