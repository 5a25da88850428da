//! One line per event, in the shape Lambda users know from AWS Powertools:
//! `timestamp`, `level`, `message`, `service`, then the fields of the
//! enclosing spans (the invocation span brings `cold_start`,
//! `function_request_id` and `xray_trace_id`), then the event's own fields.
//! Metric documents (events of `metrics::TARGET`) are written as they are,
//! because CloudWatch extracts metrics only from a line that is the document.
//! Each line is built whole and written with one call, so lines from
//! concurrent invocations never interleave.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Arc;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::LogSettings;
use crate::metrics;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line (`AWS_LAMBDA_LOG_FORMAT=JSON`, the default).
    Json,
    /// `timestamp LEVEL message key=value ...` (`AWS_LAMBDA_LOG_FORMAT=Text`).
    Text,
}

pub struct LambdaLines<W> {
    format: Format,
    service: Arc<str>,
    writer: W,
}

impl<W> LambdaLines<W> {
    pub fn new(settings: &LogSettings, writer: W) -> Self {
        Self {
            format: settings.format,
            service: settings.service.as_str().into(),
            writer,
        }
    }
}

/// Keys in the order they were first recorded; a later value replaces an
/// earlier one under the same key.
#[derive(Clone, Default)]
struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    fn set(&mut self, key: &'static str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        let index = self.0.iter().position(|(k, _)| *k == key)?;
        Some(self.0.remove(index).1)
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Value::String(value.to_owned()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), value.into());
    }
}

impl<S, W> Layer<S> for LambdaLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attributes.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut own = Fields::default();
        event.record(&mut own);
        let mut line = if event.metadata().target() == metrics::TARGET {
            match own.take(metrics::DOCUMENT_FIELD) {
                Some(Value::String(document)) => document,
                _ => return,
            }
        } else {
            let message = match own.take("message") {
                Some(Value::String(message)) => message,
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let mut fields = span_fields(event, &ctx);
            for (key, value) in own.0 {
                fields.set(key, value);
            }
            let level = level_name(event.metadata().level());
            match self.format {
                Format::Json => json_line(level, &message, &self.service, &fields),
                Format::Text => text_line(level, &message, &self.service, &fields),
            }
        };
        line.push('\n');
        let _best_effort = self
            .writer
            .make_writer_for(event.metadata())
            .write_all(line.as_bytes());
    }
}

/// The fields of this crate's spans around `event`, outermost first.
/// lambda_runtime's own span is left out: it carries the request id again,
/// as `requestId`.
fn span_fields<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Fields
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut fields = Fields::default();
    let Some(scope) = ctx.event_scope(event) else {
        return fields;
    };
    let ours = scope
        .from_root()
        .filter(|span| span.metadata().target().starts_with(super::OWN_TARGET));
    for span in ours {
        if let Some(span_fields) = span.extensions().get::<Fields>() {
            for (key, value) in &span_fields.0 {
                fields.set(key, value.clone());
            }
        }
    }
    fields
}

/// Lambda's level names (`WARN`, not `WARNING`).
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Keys the line owns; a field by one of these names cannot replace them.
const RESERVED: [&str; 4] = ["timestamp", "level", "message", "service"];

fn json_line(level: &str, message: &str, service: &str, fields: &Fields) -> String {
    let mut object = serde_json::Map::new();
    object.insert("timestamp".into(), timestamp().into());
    object.insert("level".into(), level.into());
    object.insert("message".into(), message.into());
    object.insert("service".into(), service.into());
    let mut line = Value::Object(object).to_string();
    line.pop();
    for (key, value) in fields.0.iter().filter(|(k, _)| !RESERVED.contains(k)) {
        let _infallible = write!(line, ",{}:{value}", Value::from(*key));
    }
    line.push('}');
    line
}

fn text_line(level: &str, message: &str, service: &str, fields: &Fields) -> String {
    let mut line = format!("{} {level} {message} service={service}", timestamp());
    for (key, value) in fields.0.iter().filter(|(k, _)| !RESERVED.contains(k)) {
        let _infallible = match value {
            Value::String(text) if !text.is_empty() && !text.contains(char::is_whitespace) => {
                write!(line, " {key}={text}")
            }
            other => write!(line, " {key}={other}"),
        };
    }
    line
}
